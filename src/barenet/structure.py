"""What a network is made of, read off its layer list: its widths, activation, layer names,
named parameter arrays and where each lies in the flat buffer, as the classic API
(``hidden_sizes``, ``activation``), the model card, the report and the studies read them.

:class:`NetworkStructure` is a base of :class:`barenet.NeuralNetwork`; it needs ``self.layers``,
``self.input_shape``, ``self.params`` and ``self.parameter_layout`` and changes nothing.
"""

from barenet.nn.activations import Activation
from barenet.nn.layers import BatchNorm, Dense, Dropout
from barenet.nn.stack import describe_layers


class NetworkStructure:
    """Read-only descriptions of a network's layers and parameters."""

    @property
    def n_parameters(self):
        """Number of trainable parameters (weights, biases, batch-norm scales and shifts)."""
        return self.params.size

    @property
    def hidden_sizes(self):
        """Widths of the Dense layers before the last: the ``hidden_sizes`` of
        ``NeuralNetwork(784, hidden_sizes, 10)``."""
        return [layer.units for layer in self.layers if isinstance(layer, Dense)][:-1]

    @property
    def activation(self):
        """Name of the first activation layer (the hidden activation of an MLP), or None."""
        return next((la.kind for la in self.layers if isinstance(la, Activation)), None)

    @property
    def init(self):
        """Initialisation of the first Dense layer, or None."""
        return next((la.init for la in self.layers if isinstance(la, Dense)), None)

    @property
    def dropout(self):
        """Rate of the first Dropout layer, inside residual blocks too (0.0 without one)."""
        return next((la.rate for la in self.all_layers() if isinstance(la, Dropout)), 0.0)

    @property
    def batch_norm(self):
        """Whether any layer is a BatchNorm, inside residual blocks too."""
        return any(isinstance(la, BatchNorm) for la in self.all_layers())

    def all_layers(self):
        """Every layer, in order, with the layers of residual blocks (and their shortcuts)
        after the block that holds them."""
        todo = list(reversed(self.layers))
        while todo:
            layer = todo.pop()
            yield layer
            inner = [*getattr(layer, "layers", ()), getattr(layer, "shortcut", None)]
            todo.extend(reversed([la for la in inner if la is not None]))

    @property
    def is_mlp(self):
        """True for a fully connected network on flat inputs, as the original signature builds
        (Dense, activations, dropout, batch norm): what ``hidden_sizes`` describes."""
        plain = (Dense, Activation, Dropout, BatchNorm)
        return len(self.input_shape) == 1 and all(isinstance(la, plain) for la in self.layers)

    def describe(self):
        """The layer stack in a line: ``dense128 relu dense64 relu dense10``."""
        return describe_layers(self.layers)

    def layer_names(self):
        """``["dense_0", "relu_1", ...]``: one name per layer, as ``activations`` keys them."""
        return [f"{layer.kind}_{i}" for i, layer in enumerate(self.layers)]

    def named_arrays(self):
        """``{"layers.<i>.<name>": array}``: every parameter and state array, as views."""
        arrays = {}
        for i, layer in enumerate(self.layers):
            for name, value in {**layer.params, **layer.state()}.items():
                arrays[f"layers.{i}.{name}"] = value
        return arrays

    def parameter_slices(self):
        """``{"layers.<i>.<name>": slice}``: where each parameter lies in the flat ``params``
        (and ``grads``, and the gradient of ``loss_and_gradient``)."""
        return dict(self.parameter_layout)
