"""Checkers for the layers that act on each value alone: dropout, sigmoid and tanh, against
barenet's :class:`~barenet.nn.layers.Dropout`, :class:`~barenet.nn.activations.Sigmoid` and
:class:`~barenet.nn.activations.Tanh`.

Each gradient is ``dA`` times a factor per value; the mistakes are in that factor: taken from
the wrong array, a term left out, or another layer's.
"""

from barenet.exercises.checking import Case, check_cases, layer_pass, seeded, shapes, two_different
from barenet.nn.activations import Sigmoid, Tanh
from barenet.nn.layers import Dropout


def sample_shape(rng, k):
    """A non-square ``(B, n)``, or ``(B, T, n)`` for the second case: the layers take any shape."""
    B, n = two_different(rng, 3, 7)
    return (B, n) if k != 1 else (B, int(rng.integers(2, 5)), n)


def dropout_case(seed, k, rate):
    """Case ``k``: barenet's dropout layer at ``rate`` draws the mask; the student receives it."""
    rng = seeded(seed, k)
    shape = sample_shape(rng, k)
    X, dY = rng.normal(size=shape), rng.normal(size=shape)
    layer = Dropout(rate)
    layer.rng = seeded(seed, k + 100)  # the network's generator, in a network
    Y, dX, _ = layer_pass(layer, X, dY)
    kept = Y != 0  # X has no zeros: the units the layer kept
    mistakes = [
        (
            "the survivors' scale is missing: the forward pass multiplies them by "
            "1 / (1 - rate), so their gradient is multiplied by it too",
            dY * kept,
        ),
        (
            "the scale is 1 / (1 - rate), the probability of keeping a unit, not 1 / rate",
            dY * kept / rate,
        ),
        ("multiply by 1 / (1 - rate), not by (1 - rate)", dY * kept * (1 - rate)),
        (
            "the mask is inverted: mask is True where the unit was kept, and only those pass "
            "the gradient",
            dY * ~kept / (1 - rate),
        ),
        (
            "the mask is missing: a dropped unit's output did not depend on its input, so its "
            "gradient is 0",
            dY / (1 - rate),
        ),
    ]
    description = f"{shapes(dY=dY)}, rate {rate:g}"
    return Case(description, (dY, kept, rate), {"dX": dX}, {"dX": mistakes})


def check_dropout(dropout_backward, seed=0):
    """Check ``dropout_backward(dY, mask, rate) -> dX`` against barenet's
    :class:`~barenet.nn.layers.Dropout`.

    Inverted dropout, in training: each unit is kept with probability ``1 - rate`` (``mask``,
    a boolean array of X's shape, True where kept) and the survivors are scaled,
    ``Y = X * mask / (1 - rate)``, so that the layer needs no change at prediction time. Given
    ``dY`` and the same ``mask``, return ``dX``. Three cases: rates 0.25, 0.6 and 0.8, one of
    them on a 3-D array.
    """
    cases = [dropout_case(seed, k, rate) for k, rate in enumerate((0.25, 0.6, 0.8))]
    return check_cases("dropout_backward", dropout_backward, cases)


def activation_case(seed, k, layer, mistakes_of):
    """Case ``k`` of an activation: ``Z`` over both sides of 0, ``dA`` random."""
    rng = seeded(seed, k)
    shape = sample_shape(rng, k)
    Z, dA = 2 * rng.normal(size=shape), rng.normal(size=shape)
    A, dZ, _ = layer_pass(layer, Z, dA)
    return Case(shapes(Z=Z), (Z, dA), {"dZ": dZ}, {"dZ": mistakes_of(Z, A, dA)})


def sigmoid_mistakes(Z, A, dA):
    return [
        (
            "sigmoid's derivative s (1 - s) is written with s = sigmoid(z), the output; yours "
            "uses z itself",
            dA * Z * (1 - Z),
        ),
        ("the factor (1 - s) is missing: sigmoid'(z) = s (1 - s)", dA * A),
        ("the factor s is missing: sigmoid'(z) = s (1 - s)", dA * (1 - A)),
        ("that is tanh's derivative, 1 - a^2; sigmoid's is s (1 - s)", dA * (1 - A * A)),
        ("multiply by dA, the gradient from the layer above: dZ = dA * s (1 - s)", A * (1 - A)),
    ]


def check_sigmoid(sigmoid_backward, seed=0):
    """Check ``sigmoid_backward(Z, dA) -> dZ`` for ``A = 1 / (1 + exp(-Z))`` elementwise
    against barenet's :class:`~barenet.nn.activations.Sigmoid`. ``Z`` is the layer's input,
    any shape; return ``dZ`` of its shape. Three cases."""
    cases = [activation_case(seed, k, Sigmoid(), sigmoid_mistakes) for k in range(3)]
    return check_cases("sigmoid_backward", sigmoid_backward, cases)


def tanh_mistakes(Z, A, dA):
    return [
        (
            "tanh's derivative 1 - a^2 is written with a = tanh(z), the output; yours uses z "
            "itself",
            dA * (1 - Z * Z),
        ),
        ("the square is missing: tanh'(z) = 1 - tanh(z)^2", dA * (1 - A)),
        ("that is sigmoid's derivative, a (1 - a); tanh's is 1 - a^2", dA * A * (1 - A)),
        ("the sign: tanh'(z) = 1 - tanh(z)^2, not 1 + tanh(z)^2", dA * (1 + A * A)),
        ("multiply by dA, the gradient from the layer above: dZ = dA * (1 - a^2)", 1 - A * A),
    ]


def check_tanh(tanh_backward, seed=0):
    """Check ``tanh_backward(Z, dA) -> dZ`` for ``A = tanh(Z)`` elementwise against barenet's
    :class:`~barenet.nn.activations.Tanh`. ``Z`` is the layer's input, any shape; return ``dZ``
    of its shape. Three cases."""
    cases = [activation_case(seed, k, Tanh(), tanh_mistakes) for k in range(3)]
    return check_cases("tanh_backward", tanh_backward, cases)
