"""The network: a list of layers over one flat parameter buffer, and the classic API.

``NeuralNetwork.from_layers([Dense(128), ReLU(), Dense(10)], input_shape=784)`` builds any stack
of :mod:`barenet.nn` layers; ``NeuralNetwork(784, [128, 64], 10)``, the classic signature
(kept as the first scripts use it), builds ``Dense -> ReLU -> Dense -> ReLU -> Dense`` through
the same path. A softmax cross-entropy loss sits on top (or, with ``loss="mse"``, squared
error on the raw outputs, for regression). All weights and biases live in ``self.params``, one
contiguous array, and their gradients in ``self.grads`` with the same layout; each layer sees
views into both.

The training spine is public: :meth:`backprop` (forward, loss, :meth:`backward`) fills
``self.grads``, and ``self.optimizer.step(self.params, self.grads)`` takes the step; the loop
that calls them is :class:`barenet.train.Trainer` (:meth:`train`). File I/O is in
:mod:`barenet.files.modelfile`.
"""

import math

import numpy as np

from barenet import validation as check
from barenet.files.modelfile import load_network, save_network
from barenet.nn.activations import ACTIVATIONS
from barenet.nn.buffers import bind_flat, chain_shapes
from barenet.nn.init import INITIALIZERS
from barenet.nn.layers import Layer
from barenet.nn.losses import LOSSES
from barenet.nn.penalties import WeightPenalty
from barenet.nn.stack import layer_from_config, mlp_layers
from barenet.optim.optimizers import get_optimizer
from barenet.prediction import Prediction
from barenet.structure import NetworkStructure
from barenet.train.record import TrainingRecord
from barenet.train.trainer import TRAINING_OPTIONS, Trainer


class NeuralNetwork(NetworkStructure, Prediction):
    """A classifier made of layers, with a softmax output and the cross-entropy loss; or, with
    ``loss="mse"``, a regressor whose outputs are the last layer's, scored by squared error.

    Parameters
    ----------
    input_size, hidden_sizes, output_size : int, list of int, int
        The layer widths: pixels, hidden widths, classes (default 784, [128, 64], 10).
    learning_rate : float or None
        Step size of the optimizer. None (the default) takes the optimizer's own: 0.01 for
        ``sgd`` (the default), ``momentum`` and ``nesterov``; 0.001 for ``rmsprop``,
        ``adam`` and ``adamw``.
    activation : str
        Hidden-layer activation by name: ``relu``, ``leaky_relu``, ``sigmoid``, ``tanh``,
        ``gelu``.
    init : str
        Weight initialisation: ``xavier`` (the default), ``xavier_normal``, ``he``,
        ``he_uniform``.
    optimizer : str, dict or optimizer
        ``sgd`` (plain gradient descent, the default), ``momentum``, ``nesterov``, ``rmsprop``,
        ``adam``, ``adamw``, a dict such as ``{"name": "sgd", "momentum": 0.9}``, or an optimizer
        object.
    dropout : float
        Drop rate after each hidden activation (0 = off).
    batch_norm : bool
        Insert batch normalisation before each hidden activation.
    l2, l1 : float
        Weight penalties ``l2/2 * sum(W^2) + l1 * sum(|W|)`` on weights (not biases).
    loss : str
        ``cross_entropy`` (classification: softmax outputs, integer labels) or ``mse``
        (regression: the outputs as they are, float targets ``(n,)`` or ``(n, output_size)``,
        loss ``1/(2B) sum_i ||y_hat_i - y_i||^2``).
    dtype : str
        ``float32`` (default, fast) or ``float64``.
    seed : int or None
        Seed for initialisation, shuffling and dropout; the same seed and data give the same
        weights bit for bit.
    class_names : list of str or None
        The name of each output class (default ``"0"``, ``"1"``...), shown by predictions,
        confusion matrices and the web page (Fashion-MNIST's ``"Sneaker"``).
    image_shape : (int, int), None or False
        ``(height, width)`` of the images the inputs are, flattened row by row (default: square
        when ``input_size`` is a square number, 28x28 for 784); ``False``: the inputs are
        features, no image, whatever their number (a table's columns).

    Notes
    -----
    Any other stack of layers, convolutions included: :meth:`from_layers`.
    """

    def __init__(
        self,
        input_size=784,
        hidden_sizes=(128, 64),
        output_size=10,
        learning_rate=None,
        *,
        activation="relu",
        init="xavier",
        optimizer="sgd",
        dropout=0.0,
        batch_norm=False,
        l2=0.0,
        l1=0.0,
        loss="cross_entropy",
        dtype="float32",
        seed=None,
        class_names=None,
        image_shape=None,
    ):
        check.choice("loss", loss, LOSSES)
        layers = mlp_layers(
            check.hidden_sizes(hidden_sizes),
            check.positive_int("output_size", output_size, minimum=1 if loss == "mse" else 2),
            check.choice("activation", activation, ACTIVATIONS),
            check.choice("init", init, INITIALIZERS),
            check.fraction("dropout", dropout),
            bool(batch_norm),
        )
        size = check.positive_int("input_size", input_size)
        self._setup(layers, size, learning_rate, optimizer, l2, l1, loss, dtype, seed,
                    class_names, image_shape)  # fmt: skip

    @classmethod
    def from_layers(
        cls,
        layers,
        input_shape,
        *,
        learning_rate=None,
        optimizer="sgd",
        l2=0.0,
        l1=0.0,
        loss="cross_entropy",
        dtype="float32",
        seed=None,
        class_names=None,
        image_shape=None,
    ):
        """A network made of ``layers`` (:mod:`barenet.nn` objects), in order.

        ``input_shape`` is an int (features) or a tuple such as ``(28, 28, 1)`` (height, width,
        channels: inputs are then flat rows in that row-major order, or arrays of that shape).
        Each layer infers its input size from the one before; the last must give one score per
        class (one value per output, for ``loss="mse"``). The keywords are those of
        :class:`NeuralNetwork`::

            from barenet.nn import Dense, ReLU
            net = NeuralNetwork.from_layers([Dense(128), ReLU(), Dense(10)], 784, seed=0)
        """
        net = cls.__new__(cls)
        net._setup(layers, input_shape, learning_rate, optimizer, l2, l1, loss, dtype, seed,
                   class_names, image_shape)  # fmt: skip
        return net

    # -- construction ---------------------------------------------------------------------------

    def _setup(self, layers, input_shape, learning_rate, optimizer, l2, l1, loss, dtype, seed,
               class_names, image_shape):  # fmt: skip
        """Check the keywords, chain the layers' shapes, lay out and initialise the parameters."""
        self.layers = check.layer_list(layers, Layer)
        self.input_shape = check.input_shape(input_shape)
        self.loss = check.choice("loss", loss, LOSSES)
        self.output_size = chain_shapes(
            self.layers, self.input_shape, 1 if self.is_regression else 2
        )
        self.input_size = math.prod(self.input_shape)
        self.l2 = check.positive_float("l2", l2, allow_zero=True)
        self.l1 = check.positive_float("l1", l1, allow_zero=True)
        self.dtype = np.dtype(check.choice("dtype", np.dtype(dtype).name, ("float32", "float64")))
        check.memory_fits(self.layers, self.dtype)  # before allocating: a sentence, not a crash
        self.seed = seed
        self.class_names = check.class_names(class_names, self.output_size)
        if image_shape is None and len(self.input_shape) == 3 and self.input_shape[2] == 1:
            image_shape = self.input_shape[:2]
        self.image_shape = check.image_shape(image_shape, self.input_size)
        self.rng = np.random.default_rng(seed)
        if learning_rate is not None:  # None: the optimizer's own default rate
            learning_rate = check.positive_float("learning_rate", learning_rate)
        self.optimizer = get_optimizer(optimizer, learning_rate)
        self.base_learning_rate = self.optimizer.learning_rate
        self.history = {}
        self.training_info = TrainingRecord()
        self._allocate()
        for layer in self.layers:
            layer.initialize(self.rng)
            layer.rng = self.rng

    def _allocate(self):
        """Lay the parameters out in one flat buffer (:mod:`barenet.nn.buffers`), and set up
        the optimizer and the penalties over it."""
        flat = bind_flat(self.layers, self.dtype)
        self.params, self.grads, self.decay_mask = flat.params, flat.grads, flat.decay_mask
        self.parameter_layout = flat.slices  # {name: slice}
        self.optimizer.setup(self.params, self.decay_mask)
        self.penalty = WeightPenalty(self.l2, self.l1, self.decay_mask)

    def __setstate__(self, state):
        """After unpickling, share one parameter buffer again (pickle copies each view apart)."""
        self.__dict__.update(state)
        arrays = {name: array.copy() for name, array in self.named_arrays().items()}
        optimizer_state = {k: np.copy(v) for k, v in self.optimizer.state().items()}
        self._allocate()
        for name, array in self.named_arrays().items():
            array[...] = arrays[name]
        self.optimizer.set_state(optimizer_state)

    def get_config(self):
        """What rebuilds this network (JSON-able): the input shape, the layer list, the
        keywords of :meth:`from_layers`."""
        return {
            "input_shape": list(self.input_shape),
            "layers": [layer.config() for layer in self.layers],
            "l2": self.l2,
            "l1": self.l1,
            "loss": self.loss,
            "dtype": self.dtype.name,
            # The base rate, not the current one: a schedule may have decayed it to zero.
            "optimizer": {**self.optimizer.config(), "learning_rate": self.base_learning_rate},
            "seed": self.seed,
            "class_names": self.class_names,
            # False, not None, for inputs that are no image: None would guess a square one.
            "image_shape": self.image_shape or False,
        }

    @classmethod
    def from_config(cls, config):
        """The network :meth:`get_config` describes, freshly initialised."""
        config = dict(config)
        layers = [layer_from_config(c) for c in config.pop("layers")]
        return cls.from_layers(layers, tuple(config.pop("input_shape")), **config)

    # -- what the network is --------------------------------------------------------------------

    @property
    def is_regression(self):
        """True for ``loss="mse"``: the outputs are predictions, not class scores."""
        return self.loss == "mse"

    @property
    def learning_rate(self):
        """The base learning rate; schedules start from it (the optimizer holds the current one)."""
        return self.base_learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.base_learning_rate = check.positive_float("learning_rate", value)
        self.optimizer.learning_rate = self.base_learning_rate

    # -- the training spine: forward, backward, backprop ----------------------------------------

    def forward(self, X, training=False):
        """Logits ``(batch, output_size)`` of a batch ``X`` (flat rows or ``(batch,
        *input_shape)``, of the network's dtype), layer after layer.

        ``training=True`` runs dropout and batch statistics. The result is a work buffer of the
        last layer, overwritten by the next call: copy it to keep it.
        """
        X = X.reshape(len(X), *self.input_shape)
        for layer in self.layers:
            X = layer.forward(X, training)
        return X

    def backward(self, dZ):
        """The backward pass alone: fill ``self.grads`` from ``dZ = dL/dlogits``, walking the
        layers in reverse (each layer's ``backward``). :meth:`backprop` calls it.

        Returns ``dL/dX`` when the first layer computes it (see :meth:`input_gradient`).
        """
        for layer in reversed(self.layers):
            dZ = layer.backward(dZ)
        return dZ

    def backprop(self, X, y, count_correct=False):
        """One training pass on a batch: forward in training mode, the loss and its fused
        gradient (softmax cross-entropy, or squared error for regression), then backward.

        Fills ``self.grads`` with the gradient of the batch's mean loss (weight penalties
        included) and returns that loss; with ``count_correct``, returns ``(loss, number of
        correct predictions)`` (None for regression). The parameters are not changed: the
        optimizer's ``step(net.params, net.grads)`` does that. This is the hot path, so ``X``
        and ``y`` are only cast to the network's dtype, not checked: check a whole data set
        once with :meth:`check_data` (:meth:`train` does).
        """
        if X.dtype != self.dtype:
            X = X.astype(self.dtype)
        logits = self.forward(X, training=True)
        hits = None
        if count_correct and not self.is_regression:
            hits = int(np.count_nonzero(logits.argmax(axis=1) == y))
        loss = LOSSES[self.loss](logits, y, logits)  # dL/dZ overwrites the logits
        self.backward(logits)
        loss = loss / len(y) + self.penalty.add_gradient(self.params, self.grads)
        return (loss, hits) if count_correct else loss

    def loss_and_gradient(self, X, y):
        """Mean training loss on ``(X, y)`` and its gradient with respect to ``self.params``,
        leaving the network as it was: :meth:`backprop` on checked data, for gradient checks.

        The gradient is a new flat array in the layout of ``self.params`` (see
        :meth:`parameter_slices` for which slice is which). Dropout and batch normalisation run
        in training mode, as in one training step; then batch norm's running statistics and the
        network's random generator are put back, so the call changes nothing a later step sees
        (only the work buffer ``self.grads`` is overwritten). Useful to check backpropagation
        against finite differences.
        """
        X, y = self.check_data(X, y)
        X, y = self.scale_inputs(X), self.scale_targets(y)  # as train() sees them
        kept = {name: array.copy() for name, array in self.named_arrays().items()}
        rng_state = self.rng.bit_generator.state
        try:
            loss = self.backprop(X, y)
            return loss, self.grads.copy()
        finally:
            for name, array in self.named_arrays().items():
                array[...] = kept[name]
            self.rng.bit_generator.state = rng_state

    # -- training -------------------------------------------------------------------------------

    def train(
        self,
        X_train,
        y_train,
        X_val=None,
        y_val=None,
        epochs=10,
        batch_size=64,
        verbose=True,
        **options,
    ):
        """Mini-batch training; returns the history (also kept in ``self.history``).

        This runs the loop you could write by hand (``backprop`` on a shuffled batch, then
        ``self.optimizer.step``) through a :class:`~barenet.train.Trainer`. ``options`` are the
        Trainer's keywords, checked there: ``schedule``, ``augment``, ``early_stopping``,
        ``clip_norm``, ``callbacks``, ``checkpoint``, ``resume`` (see
        :class:`~barenet.train.Trainer` for each). ``verbose`` shows a progress bar.
        Calling ``train`` again continues.

        The history holds, per epoch: ``train_loss``, ``train_accuracy`` (averaged over the
        epoch's batches), ``val_loss`` and ``val_accuracy`` when validation data is given,
        ``learning_rate`` and ``epoch_time`` in seconds.

        With ``input_scaling`` / ``output_scaling`` set (:class:`~barenet.scaling.Standardization`,
        as ``barenet train`` sets them for table data), the data is given in the user's units
        and standardised here; the history's losses are then in standardised units.
        """
        unknown = sorted(set(options) - set(TRAINING_OPTIONS))
        if unknown:
            raise check.BarenetError(
                f"train() got unknown option(s) {unknown}; the options are X_val, y_val, "
                f"epochs, batch_size, verbose and {', '.join(TRAINING_OPTIONS)}"
            )
        X, y = self.check_data(X_train, y_train, "X_train", "y_train")
        if (X_val is None) != (y_val is None):
            raise check.BarenetError("give both X_val and y_val, or neither")
        if X_val is not None:
            X_val, y_val = self.check_data(X_val, y_val, "X_val", "y_val")
            X_val, y_val = self.scale_inputs(X_val), self.scale_targets(y_val)
        self.remember_input_range(X)  # what predict compares new inputs with
        X, y = self.scale_inputs(X), self.scale_targets(y)  # the user's units -> the network's
        progress = None
        if verbose:
            from barenet.progress import ProgressBar  # display lives outside the core

            progress = ProgressBar(check.positive_int("epochs", epochs))
        trainer = Trainer(self, epochs=epochs, batch_size=batch_size, progress=progress, **options)
        return trainer.fit(X, y, X_val, y_val)

    def check_features(self, X, name="X", finite=True):
        """``X`` as this network takes it (its dtype, rows of ``input_size`` features or
        samples of ``input_shape``), or a :class:`~barenet.errors.DataError` that says what
        is wrong, naming the argument ``name``."""
        return check.features(X, self.input_size, self.dtype, name, finite, self.input_shape)

    def check_data(self, X, y, x_name="X", y_name="y", finite=True):
        """``(X, y)`` checked: the features as :meth:`check_features`, and labels (integer
        classes, or one-hot rows) or, for regression, float targets, one per sample."""
        X = self.check_features(X, x_name, finite)
        if self.is_regression:
            return X, check.targets(y, len(X), self.output_size, self.dtype, y_name, x_name)
        return X, check.labels(y, len(X), self.output_size, y_name, x_name)

    # -- files ----------------------------------------------------------------------------------

    def save_model(self, path):
        """Write the model (layer list, weights, history) to ``path``; never a pickle.

        The file is an archive of ``.npy`` arrays and a JSON header (see
        :mod:`barenet.files.archive`), written atomically: a crash leaves the old file or the
        new one, never half of one.
        """
        save_network(self, path)

    def load_model(self, path):
        """Replace this network with the one saved at ``path`` (architecture included)."""
        net = load_network(path, NeuralNetwork)
        net.training_info = TrainingRecord.from_dict(net.training_info)
        self.__dict__.update(net.__dict__)
        return self

    def __repr__(self):
        sizes = [self.input_size, *self.hidden_sizes, self.output_size] if self.is_mlp else None
        body = (f"{'-'.join(map(str, sizes))}, {self.activation}" if sizes else
                f"{'x'.join(map(str, self.input_shape))}: {self.describe()}")  # fmt: skip
        loss = ", mse" if self.is_regression else ""
        return f"NeuralNetwork({body}, {self.optimizer.name}{loss}, {self.dtype})"

    def to_onnx(self, path):
        """Export to an ONNX file at ``path`` (input "input", output "probabilities", or
        "predictions" for regression); returns the ``onnx.ModelProto``. Needs
        ``pip install barenet[onnx]``; see :mod:`barenet.files.onnx`."""
        from barenet.files.onnx import export  # lazy: onnx is an optional dependency

        return export(self, path)


def load_model(path):
    """Load a network saved with :meth:`NeuralNetwork.save_model`."""
    return NeuralNetwork().load_model(path)
