"""The network: the seed's ``NeuralNetwork`` API over layers that share one flat parameter buffer.

``NeuralNetwork(784, [128, 64], 10)`` builds ``Dense -> ReLU -> Dense -> ReLU -> Dense`` with a
softmax cross-entropy loss on top. All weights and biases live in ``self.params``, one contiguous
array, and their gradients in ``self.grads`` with the same layout; each layer sees views into both.
Training is delegated to :mod:`barenet.training`, file I/O to :mod:`barenet.io`.
"""

import numpy as np

from . import validation as check
from .activations import ACTIVATIONS
from .augment import get_augmentation
from .callbacks import as_callback, get_early_stopping
from .init import INITIALIZERS
from .layers import Activation, BatchNorm, Dense, Dropout
from .losses import cross_entropy, softmax, softmax_cross_entropy
from .modelfile import load_network, save_network
from .optimizers import get_optimizer
from .penalties import WeightPenalty
from .schedules import get_schedule
from .training import Trainer

PREDICT_CHUNK = 16384  # rows per forward pass at prediction time: bounds memory, keeps BLAS busy


class NeuralNetwork:
    """A fully connected classifier: ReLU hidden layers, softmax output, cross-entropy loss.

    Parameters
    ----------
    input_size, hidden_sizes, output_size : int, list of int, int
        The layer widths (the seed's 784, [128, 64], 10).
    learning_rate : float
        Step size of the optimizer (0.01, the seed's).
    activation : str
        Hidden-layer activation by name: ``relu``, ``leaky_relu``, ``sigmoid``, ``tanh``,
        ``gelu``.
    init : str
        Weight initialisation: ``xavier`` (the seed's), ``xavier_normal``, ``he``,
        ``he_uniform``.
    optimizer : str, dict or optimizer
        ``sgd`` (the seed's), ``momentum``, ``nesterov``, ``rmsprop``, ``adam``, ``adamw``, a
        dict such as ``{"name": "sgd", "momentum": 0.9}``, or an optimizer object.
    dropout : float
        Drop rate after each hidden activation (0 = off).
    batch_norm : bool
        Insert batch normalisation before each hidden activation.
    l2, l1 : float
        Weight penalties ``l2/2 * sum(W^2) + l1 * sum(|W|)`` on weights (not biases).
    dtype : str
        ``float32`` (default, fast) or ``float64``.
    seed : int or None
        Seed for initialisation, shuffling and dropout; the same seed and data give the same
        weights bit for bit.
    class_names : list of str or None
        The name of each output class (default ``"0"``, ``"1"``...), shown by predictions,
        confusion matrices and the web page (Fashion-MNIST's ``"Sneaker"``).
    image_shape : (int, int) or None
        ``(height, width)`` of the images the inputs are, flattened row by row (default: square
        when ``input_size`` is a square number, 28x28 for 784).
    """

    def __init__(
        self,
        input_size=784,
        hidden_sizes=(128, 64),
        output_size=10,
        learning_rate=0.01,
        *,
        activation="relu",
        init="xavier",
        optimizer="sgd",
        dropout=0.0,
        batch_norm=False,
        l2=0.0,
        l1=0.0,
        dtype="float32",
        seed=None,
        class_names=None,
        image_shape=None,
    ):
        self.input_size = check.positive_int("input_size", input_size)
        self.hidden_sizes = check.hidden_sizes(hidden_sizes)
        self.output_size = check.positive_int("output_size", output_size, minimum=2)
        self.activation = check.choice("activation", activation, ACTIVATIONS)
        self.init = check.choice("init", init, INITIALIZERS)
        self.dropout = check.fraction("dropout", dropout)
        self.batch_norm = bool(batch_norm)
        self.l2 = check.positive_float("l2", l2, allow_zero=True)
        self.l1 = check.positive_float("l1", l1, allow_zero=True)
        self.dtype = np.dtype(check.choice("dtype", np.dtype(dtype).name, ("float32", "float64")))
        self.seed = seed
        self.class_names = check.class_names(class_names, self.output_size)
        self.image_shape = check.image_shape(image_shape, self.input_size)
        self.rng = np.random.default_rng(seed)
        self.optimizer = get_optimizer(
            optimizer, check.positive_float("learning_rate", learning_rate)
        )
        self.base_learning_rate = self.optimizer.learning_rate
        self.history = {}
        self.training_info = {}
        self._build()

    # -- construction ---------------------------------------------------------------------------

    def _build(self):
        """Create the layers, lay their parameters out in one buffer, and initialise them."""
        self.layers = []
        sizes = [self.input_size, *self.hidden_sizes, self.output_size]
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            self.layers.append(Dense(n_in, n_out, self.init, input_grad=i > 0))
            if i == len(sizes) - 2:
                break
            if self.batch_norm:
                self.layers.append(BatchNorm(n_out))
            self.layers.append(Activation(self.activation))
            if self.dropout:
                self.layers.append(Dropout(self.dropout))
        self._allocate()
        for layer in self.layers:
            layer.initialize(self.rng)
            layer.rng = self.rng

    def _allocate(self):
        """One flat buffer for all parameters, one for all gradients, views handed to layers."""
        shapes = [layer.param_shapes() for layer in self.layers]
        total = sum(int(np.prod(shape)) for s in shapes for shape, _ in s.values())
        self.params = np.zeros(total, self.dtype)
        self.grads = np.zeros(total, self.dtype)
        self.decay_mask = np.zeros(total, self.dtype)
        offset = 0
        for layer, layer_shapes in zip(self.layers, shapes):
            views, grad_views = {}, {}
            for name, (shape, decay) in layer_shapes.items():
                size = int(np.prod(shape))
                views[name] = self.params[offset : offset + size].reshape(shape)
                grad_views[name] = self.grads[offset : offset + size].reshape(shape)
                self.decay_mask[offset : offset + size] = decay
                offset += size
            layer.bind(views, grad_views)
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
        """The constructor arguments that rebuild this architecture (JSON-able)."""
        return {
            "input_size": self.input_size,
            "hidden_sizes": self.hidden_sizes,
            "output_size": self.output_size,
            "activation": self.activation,
            "init": self.init,
            "dropout": self.dropout,
            "batch_norm": self.batch_norm,
            "l2": self.l2,
            "l1": self.l1,
            "dtype": self.dtype.name,
            # The base rate, not the current one: a schedule may have decayed it to zero.
            "optimizer": {**self.optimizer.config(), "learning_rate": self.base_learning_rate},
            "seed": self.seed,
            "class_names": self.class_names,
            "image_shape": self.image_shape,
        }

    @property
    def learning_rate(self):
        """The base learning rate; schedules start from it (the optimizer holds the current one)."""
        return self.base_learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.base_learning_rate = check.positive_float("learning_rate", value)
        self.optimizer.learning_rate = self.base_learning_rate

    @property
    def n_parameters(self):
        """Number of trainable parameters (weights, biases, batch-norm scales and shifts)."""
        return self.params.size

    def named_arrays(self):
        """``{"layers.<i>.<name>": array}``: every parameter and state array, as views."""
        arrays = {}
        for i, layer in enumerate(self.layers):
            for name, value in {**getattr(layer, "params", {}), **layer.state()}.items():
                arrays[f"layers.{i}.{name}"] = value
        return arrays

    # -- forward and backward -------------------------------------------------------------------

    def _forward(self, X, training=False):
        """Logits ``(batch, output_size)`` for a validated batch; a view of a work buffer."""
        for layer in self.layers:
            X = layer.forward(X, training)
        return X

    def _backward(self, dZ):
        """Fill ``self.grads`` from ``dL/dlogits``, walking the layers in reverse."""
        for layer in reversed(self.layers):
            dZ = layer.backward(dZ)

    def _fill_gradients(self, X, y):
        """Forward and backward on a validated batch in training mode: fills ``self.grads``.

        Returns ``(summed loss including penalties, number of correct predictions)``.
        """
        logits = self._forward(X, training=True)
        hits = int(np.count_nonzero(logits.argmax(axis=1) == y))
        loss = softmax_cross_entropy(logits, y, logits)  # dL/dZ overwrites the logits
        self._backward(logits)
        return loss + self.penalty.add_gradient(self.params, self.grads) * len(y), hits

    def loss_and_gradient(self, X, y):
        """Mean training loss on ``(X, y)`` and its gradient with respect to ``self.params``.

        The gradient is a new flat array in the layout of ``self.params`` (see
        :meth:`named_arrays` for which slice is which). Dropout and batch normalisation run in
        training mode, as in one training step; nothing is updated. Useful to check
        backpropagation against finite differences.
        """
        X, y = self._check_data(X, y)
        loss, _ = self._fill_gradients(X, y)
        return loss / len(y), self.grads.copy()

    def _logits(self, X):
        """Logits for a validated ``X`` of any length, computed in chunks; a new array."""
        out = np.empty((len(X), self.output_size), self.dtype)
        for start in range(0, len(X), PREDICT_CHUNK):
            out[start : start + PREDICT_CHUNK] = self._forward(X[start : start + PREDICT_CHUNK])
        return out

    def _loss_and_accuracy(self, X, y):
        logits = self._logits(X)
        accuracy = float(np.mean(logits.argmax(axis=1) == y))
        return cross_entropy(logits, y), accuracy

    # -- the seed's public API ------------------------------------------------------------------

    def train(
        self,
        X_train,
        y_train,
        X_val=None,
        y_val=None,
        epochs=10,
        batch_size=64,
        verbose=True,
        *,
        schedule=None,
        augment=None,
        early_stopping=None,
        clip_norm=None,
        callbacks=(),
        checkpoint=None,
        resume=False,
    ):
        """Mini-batch training; returns the history (also kept in ``self.history``).

        The history holds, per epoch: ``train_loss``, ``train_accuracy`` (averaged over the
        epoch's batches), ``val_loss`` and ``val_accuracy`` when validation data is given,
        ``learning_rate`` and ``epoch_time`` in seconds. Calling ``train`` again continues.

        ``schedule``: learning-rate schedule by name (``constant``, ``step``, ``exponential``,
        ``cosine``, ``warmup``, ``plateau``), config dict or object; it starts from
        ``learning_rate``. ``augment``: ``shift``, ``affine``, ``elastic``, a dict such as
        ``{"name": "shift", "max_shift": 2}``, or a function ``f(X_batch, rng)``.
        ``early_stopping``: a patience (epochs) or an :class:`~barenet.callbacks.EarlyStopping`;
        the best epoch's weights are restored. ``clip_norm``: clip the gradient's global norm.
        ``callbacks``: functions ``f(epoch, logs)`` (return True to stop) or callback objects.
        ``checkpoint``: a path where the whole training state is saved after every epoch;
        with ``resume=True`` an existing checkpoint there is continued, ending with exactly the
        weights an uninterrupted run would have. ``verbose`` shows a progress bar.
        """
        X, y = self._check_data(X_train, y_train, "X_train", "y_train")
        if (X_val is None) != (y_val is None):
            raise check.BarenetError("give both X_val and y_val, or neither")
        if X_val is not None:
            X_val, y_val = self._check_data(X_val, y_val, "X_val", "y_val")
        epochs = check.positive_int("epochs", epochs)
        batch_size = check.positive_int("batch_size", batch_size)
        if clip_norm is not None:
            clip_norm = check.positive_float("clip_norm", clip_norm)
        schedule = get_schedule(schedule).start(self.base_learning_rate, epochs)
        augment = get_augmentation(augment)
        callbacks = [as_callback(cb) for cb in callbacks]
        early_stopping = get_early_stopping(early_stopping, has_validation=X_val is not None)
        if early_stopping is not None:
            callbacks.append(early_stopping)
        if verbose:
            from .progress import ProgressBar  # display lives outside the numerical core

            callbacks.append(ProgressBar(epochs))
        trainer = Trainer(
            self,
            batch_size=batch_size,
            schedule=schedule,
            augment=augment,
            clip_norm=clip_norm,
            callbacks=callbacks,
            checkpoint=checkpoint,
            resume=resume,
        )
        self.training_info = {
            "epochs": epochs,
            "batch_size": batch_size,
            "schedule": schedule.config(),
            "augment": getattr(augment, "config", lambda: None)(),
            "clip_norm": clip_norm,
            "early_stopping": early_stopping.patience if early_stopping else None,
            "n_train": len(X),
            "n_val": 0 if X_val is None else len(X_val),
        }
        history = trainer.fit(X, y, X_val, y_val, epochs=epochs)
        self.training_info.update(trainer.info)
        return history

    def predict_proba(self, X):
        """Class probabilities ``(n_samples, output_size)``; each row sums to 1."""
        return softmax(self._checked_logits(self._check_features(X, finite=False)))

    def predict(self, X):
        """Predicted class labels ``(n_samples,)``."""
        return self._checked_logits(self._check_features(X, finite=False)).argmax(axis=1)

    def calculate_accuracy(self, X, y):
        """Fraction of samples whose predicted class equals the label (a float in [0, 1])."""
        X, y = self._check_data(X, y, finite=False)
        return float(np.mean(self._checked_logits(X).argmax(axis=1) == y))

    def evaluate(self, X, y):
        """``{"loss": mean cross-entropy, "accuracy": fraction correct}`` on ``(X, y)``."""
        X, y = self._check_data(X, y, finite=False)
        logits = self._checked_logits(X)
        accuracy = float(np.mean(logits.argmax(axis=1) == y))
        return {"loss": cross_entropy(logits, y), "accuracy": accuracy}

    def _checked_logits(self, X, name="X"):
        """Logits of ``X``, which has not been tested for NaN: a NaN or infinite input makes
        the logits non-finite, so testing them (10 numbers a row, not 784) finds it."""
        with np.errstate(invalid="ignore", over="ignore"):  # reported below, by name
            logits = self._logits(X)
        if not np.isfinite(logits).all():
            check.require_finite(X, name)
            raise check.DataError(
                f"{name} has values too large for this network (largest "
                f"{np.abs(X).max():g}): the outputs overflowed"
            )
        return logits

    def _check_features(self, X, name="X", finite=True):
        return check.features(X, self.input_size, self.dtype, name, finite)

    def _check_data(self, X, y, x_name="X", y_name="y", finite=True):
        names = (x_name, y_name)
        return check.dataset(X, y, self.input_size, self.output_size, self.dtype, names, finite)

    # -- files ----------------------------------------------------------------------------------

    def save_model(self, path):
        """Write the model (architecture, weights, history) to ``path``; never a pickle.

        The file is an archive of ``.npy`` arrays and a JSON header (see :mod:`barenet.io`),
        written atomically: a crash leaves the old file or the new one, never half of one.
        """
        save_network(self, path)

    def load_model(self, path):
        """Replace this network with the one saved at ``path`` (architecture included)."""
        self.__dict__.update(load_network(path, NeuralNetwork).__dict__)
        return self

    def __repr__(self):
        sizes = "-".join(str(s) for s in [self.input_size, *self.hidden_sizes, self.output_size])
        return f"NeuralNetwork({sizes}, {self.activation}, {self.optimizer.name}, {self.dtype})"

    def to_onnx(self, path):
        """Export to an ONNX file at ``path`` (input "input", output "probabilities"); returns
        the ``onnx.ModelProto``. Needs ``pip install barenet[onnx]``; see :mod:`barenet.onnx`."""
        from .onnx import export  # lazy: onnx is an optional dependency

        return export(self, path)


def load_model(path):
    """Load a network saved with :meth:`NeuralNetwork.save_model`."""
    return NeuralNetwork().load_model(path)
