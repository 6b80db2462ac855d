"""A whole vision transformer's loss and gradient against PyTorch's, in float64.

The barenet network and a hand-built PyTorch twin get the same weights; their logits, attention
weights, loss, parameter gradients and input gradient must agree to 1e-6 or better (they agree
to about 1e-13: both compute the same formulas, in another order). Skipped without torch.

How the weights map (barenet layout -> torch layout):

- ``PatchEmbed`` ``W (p, p, C, dim)`` -> ``Conv2d(C, dim, p, stride=p).weight (dim, C, p, p)``,
  ``W.transpose(3, 2, 0, 1)``; the conv's output ``(B, dim, H/p, W/p)`` flattened row by row
  gives the tokens in barenet's order. Images are ``(B, H, W, C)`` here, ``(B, C, H, W)`` there.
- ``ClassToken.token (dim,)`` and ``PositionEmbedding.P (T, dim)``: the same arrays.
- ``LayerNorm`` ``gamma``, ``beta`` -> ``torch.nn.LayerNorm`` ``weight``, ``bias`` (eps 1e-5).
- ``MultiHeadSelfAttention`` ``Wqkv (D, 3D)`` -> ``MultiheadAttention.in_proj_weight (3D, D)``,
  transposed: both put the query, key and value projections one after the other and split
  each into heads of ``D/h`` consecutive features; ``bqkv`` -> ``in_proj_bias``;
  ``Wo (D, D)`` -> ``out_proj.weight``, transposed; ``bo`` -> ``out_proj.bias``.
- ``Dense`` ``W (n_in, n_out)`` -> ``Linear.weight (n_out, n_in)``, transposed; ``b`` -> bias.
- barenet's ``GELU`` is the tanh approximation: ``F.gelu(x, approximate="tanh")``.
"""

import numpy as np
import pytest

from barenet import NeuralNetwork
from barenet.nn import (
    GELU,
    ClassToken,
    Dense,
    LayerNorm,
    MultiHeadSelfAttention,
    PatchEmbed,
    PositionEmbedding,
    Residual,
    TakeToken,
    describe_layers,
)

torch = pytest.importorskip("torch")
nn = torch.nn

DIM, HEADS, HIDDEN, PATCH, BLOCKS = 16, 2, 32, 7, 2


def barenet_vit(seed):
    layers = [PatchEmbed(PATCH, DIM), ClassToken(), PositionEmbedding()]
    for _ in range(BLOCKS):  # pre-norm transformer blocks
        layers.append(Residual([LayerNorm(), MultiHeadSelfAttention(HEADS)]))
        layers.append(Residual([LayerNorm(), Dense(HIDDEN), GELU(), Dense(DIM)]))
    layers += [LayerNorm(), TakeToken(0), Dense(10)]
    return NeuralNetwork.from_layers(layers, (28, 28, 1), dtype="float64", seed=seed)


class TorchViT(nn.Module):
    """The same network, written the usual PyTorch way."""

    def __init__(self):
        super().__init__()
        tokens = (28 // PATCH) ** 2 + 1
        self.patch = nn.Conv2d(1, DIM, PATCH, stride=PATCH)
        self.cls = nn.Parameter(torch.zeros(DIM))
        self.pos = nn.Parameter(torch.zeros(tokens, DIM))
        self.blocks = nn.ModuleList(
            nn.ModuleDict(
                {
                    "norm1": nn.LayerNorm(DIM),
                    "attn": nn.MultiheadAttention(DIM, HEADS, batch_first=True),
                    "norm2": nn.LayerNorm(DIM),
                    "fc1": nn.Linear(DIM, HIDDEN),
                    "fc2": nn.Linear(HIDDEN, DIM),
                }
            )
            for _ in range(BLOCKS)
        )
        self.norm = nn.LayerNorm(DIM)
        self.head = nn.Linear(DIM, 10)
        self.attention = []

    def forward(self, images):
        x = self.patch(images).flatten(2).transpose(1, 2)  # (B, tokens, DIM), row by row
        x = torch.cat([self.cls.expand(len(x), 1, DIM), x], dim=1) + self.pos
        self.attention = []
        for block in self.blocks:
            h = block["norm1"](x)
            out, weights = block["attn"](h, h, h, average_attn_weights=False)
            self.attention.append(weights)
            x = x + out
            h = block["fc1"](block["norm2"](x))
            x = x + block["fc2"](nn.functional.gelu(h, approximate="tanh"))
        return self.head(self.norm(x)[:, 0])


def weight_map(twin):
    """``{barenet parameter name: (torch parameter, layout)}``; layout says how to turn the
    barenet array into the torch one: ``same``, ``T`` (transposed) or ``conv``."""
    table = {
        "layers.0.W": (twin.patch.weight, "conv"),
        "layers.0.b": (twin.patch.bias, "same"),
        "layers.1.token": (twin.cls, "same"),
        "layers.2.P": (twin.pos, "same"),
    }
    for i, block in enumerate(twin.blocks):
        attn, mlp = f"layers.{3 + 2 * i}", f"layers.{4 + 2 * i}"
        table.update(
            {
                f"{attn}.0.gamma": (block["norm1"].weight, "same"),
                f"{attn}.0.beta": (block["norm1"].bias, "same"),
                f"{attn}.1.Wqkv": (block["attn"].in_proj_weight, "T"),
                f"{attn}.1.bqkv": (block["attn"].in_proj_bias, "same"),
                f"{attn}.1.Wo": (block["attn"].out_proj.weight, "T"),
                f"{attn}.1.bo": (block["attn"].out_proj.bias, "same"),
                f"{mlp}.0.gamma": (block["norm2"].weight, "same"),
                f"{mlp}.0.beta": (block["norm2"].bias, "same"),
                f"{mlp}.1.W": (block["fc1"].weight, "T"),
                f"{mlp}.1.b": (block["fc1"].bias, "same"),
                f"{mlp}.3.W": (block["fc2"].weight, "T"),
                f"{mlp}.3.b": (block["fc2"].bias, "same"),
            }
        )
    last = 3 + 2 * BLOCKS
    table.update(
        {
            f"layers.{last}.gamma": (twin.norm.weight, "same"),
            f"layers.{last}.beta": (twin.norm.bias, "same"),
            f"layers.{last + 2}.W": (twin.head.weight, "T"),
            f"layers.{last + 2}.b": (twin.head.bias, "same"),
        }
    )
    return table


def to_torch(array, layout):
    if layout == "conv":  # (p, p, C, dim) -> (dim, C, p, p)
        return array.transpose(3, 2, 0, 1)
    return array.T if layout == "T" else array


def from_torch(array, layout):
    if layout == "conv":  # (dim, C, p, p) -> (p, p, C, dim)
        return array.transpose(2, 3, 1, 0)
    return array.T if layout == "T" else array


@pytest.fixture(scope="module")
def pair():
    torch.set_num_threads(1)
    net = barenet_vit(seed=0)
    rng = np.random.default_rng(1)
    net.params[...] += rng.normal(0, 0.05, net.params.size)  # gammas off 1, biases off 0
    twin = TorchViT().double()
    table = weight_map(twin)
    arrays = net.named_arrays()
    assert set(table) == set(arrays)  # every barenet parameter has its torch twin
    with torch.no_grad():
        for name, (param, layout) in table.items():
            param.copy_(torch.from_numpy(np.ascontiguousarray(to_torch(arrays[name], layout))))
    X = rng.normal(size=(6, 28, 28, 1))
    y = rng.integers(0, 10, 6)
    return net, twin, table, X, y


def test_the_network_is_a_vision_transformer(pair):
    net = pair[0]
    assert net.describe() == (
        "patch7x16 cls pos res[layernorm attention2] res[layernorm dense32 gelu dense16] "
        "res[layernorm attention2] res[layernorm dense32 gelu dense16] layernorm token0 dense10"
    )
    assert describe_layers(net.layers) == net.describe()


def test_logits_and_attention_equal_pytorch(pair):
    net, twin, _, X, _ = pair
    logits = net.forward(X).copy()
    with torch.no_grad():
        expected = twin(torch.from_numpy(X.transpose(0, 3, 1, 2).copy()))
    np.testing.assert_allclose(logits, expected.numpy(), rtol=1e-9, atol=1e-12)
    for i, weights in enumerate(twin.attention):
        barenet_weights = net.layers[3 + 2 * i].layers[1].attention
        np.testing.assert_allclose(barenet_weights, weights.numpy(), rtol=1e-9, atol=1e-12)


def test_loss_and_every_parameter_gradient_equal_pytorch(pair):
    net, twin, table, X, y = pair
    loss, grad = net.loss_and_gradient(X, y)
    twin.zero_grad()
    images = torch.from_numpy(X.transpose(0, 3, 1, 2).copy())
    torch_loss = nn.functional.cross_entropy(twin(images), torch.from_numpy(y))
    torch_loss.backward()
    assert abs(loss - torch_loss.item()) < 1e-12
    expected = np.empty_like(grad)
    for name, where in net.parameter_slices().items():
        param, layout = table[name]
        expected[where] = from_torch(param.grad.numpy(), layout).ravel()
    error = np.linalg.norm(grad - expected) / np.linalg.norm(expected)
    assert error < 1e-6, error
    for name, where in net.parameter_slices().items():  # and each array on its own
        np.testing.assert_allclose(grad[where], expected[where], 1e-6, 1e-12, err_msg=name)


def test_the_input_gradient_equals_pytorch(pair):
    net, twin, _, X, y = pair
    images = torch.from_numpy(X.transpose(0, 3, 1, 2).copy()).requires_grad_(True)
    nn.functional.cross_entropy(twin(images), torch.from_numpy(y)).backward()
    expected = images.grad.numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(net.input_gradient(X, y), expected, rtol=1e-6, atol=1e-12)
