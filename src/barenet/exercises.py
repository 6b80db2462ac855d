"""Checkers for a student's backward pass, as in cs231n's assignments: each takes the function a
student wrote, runs it on small random float64 arrays, and says which gradient is wrong and by
how much, against centred finite differences or barenet's own backward pass.

The four exercises of ``notebooks/06-write-the-backward-pass.ipynb``, each a function to write:

- ``dense_backward(X, W, b, dZ) -> (dX, dW, db)`` for ``Z = X @ W + b``;
- ``relu_backward(Z, dA) -> dZ`` for ``A = max(Z, 0)``;
- ``softmax_cross_entropy_backward(Z, y) -> dZ``, the gradient of the *mean* loss;
- ``network_backward(weights, X, y) -> grads`` for a whole network (Dense, ReLU, ..., Dense,
  softmax cross-entropy), ``weights`` and ``grads`` dicts keyed like ``net.named_arrays()``.

Each checker returns a :class:`GradientCheck`, which prints as one line per gradient. A gradient
passes when its relative error ``||yours - reference|| / (||yours|| + ||reference||)`` is below
``1e-6`` (finite differences with step ``h = 1e-5`` in float64 agree to about ``1e-9``).
A function that still raises ``NotImplementedError`` is reported as not written yet, so a
notebook with blank exercises still runs from top to bottom.
"""

from dataclasses import dataclass, field

import numpy as np

from barenet.network import NeuralNetwork
from barenet.nn.losses import cross_entropy

H = 1e-5  # the finite-difference step of every page and notebook (docs: Notation)
TOLERANCE = 1e-6


@dataclass
class Verdict:
    """One gradient: its name, its relative error (None when it could not be compared) and
    what to tell the student."""

    name: str
    error: float | None
    message: str

    @property
    def passed(self):
        return self.error is not None and self.error < TOLERANCE


@dataclass
class GradientCheck:
    """The verdicts on the gradients of one exercise; ``str()`` gives the report.

    ``gradients`` names every gradient the exercise asks for; ``problem`` says why there are no
    verdicts when the function gave nothing to compare (not written yet, an exception, or not
    the outputs asked for)."""

    exercise: str
    verdicts: list = field(default_factory=list)
    problem: str | None = None
    gradients: list = field(default_factory=list)

    @property
    def passed(self):
        return self.problem is None and all(v.passed for v in self.verdicts)

    @property
    def wrong(self):
        """Names of the gradients that are wrong (all of them when the function did not run or
        did not return what was asked for)."""
        if self.problem is not None:
            return list(self.gradients)
        return [v.name for v in self.verdicts if not v.passed]

    def __str__(self):
        if self.problem:
            return f"{self.exercise}: {self.problem}"
        right = sum(v.passed for v in self.verdicts)
        lines = [f"{self.exercise}: {right} of {len(self.verdicts)} gradients right"]
        width = max(len(v.name) for v in self.verdicts)
        lines += [f"  {v.name:<{width}}  {v.message}" for v in self.verdicts]
        return "\n".join(lines)

    __repr__ = __str__


def relative_error(yours, reference):
    """``||yours - reference|| / (||yours|| + ||reference||)``; 0 when both are 0."""
    scale = np.linalg.norm(yours) + np.linalg.norm(reference)
    return float(np.linalg.norm(yours - reference) / scale) if scale > 1e-12 else 0.0


def numeric_gradient(f, array, h=H):
    """``df/darray`` by centred differences, one entry at a time (``array`` is restored)."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + h
        plus = f()
        array[index] = saved - h
        minus = f()
        array[index] = saved
        grad[index] = (plus - minus) / (2 * h)
    return grad


def compare(name, yours, reference):
    """The verdict on one gradient: shape first, then the relative error and the worst entry."""
    if yours is None:
        return Verdict(name, None, "missing (the function returned None for it)")
    try:
        yours = np.asarray(yours, dtype=np.float64)
    except (TypeError, ValueError):
        return Verdict(name, None, f"WRONG: not an array of numbers but {_describe(yours)}")
    if yours.shape != reference.shape:
        hint = " (transposed?)" if yours.shape == reference.shape[::-1] else ""
        return Verdict(
            name, None, f"WRONG shape: yours {yours.shape}, expected {reference.shape}{hint}"
        )
    error = relative_error(yours, reference)
    if error < TOLERANCE:
        return Verdict(name, error, f"relative error {error:.1e}  ok")
    factor = _factor(yours, reference)
    scaled = f"; yours is {factor:.4g} times the right one" if factor is not None else ""
    if not np.any(yours):
        scaled = "; yours is all zeros"
    worst = np.unravel_index(np.argmax(np.abs(yours - reference)), reference.shape)
    where = f"[{', '.join(map(str, worst))}]" if reference.ndim else ""
    return Verdict(
        name,
        error,
        f"relative error {error:.1e}  WRONG: the largest gap is at {where or 'the value'}, "
        f"yours {yours[worst]:.6g}, expected {reference[worst]:.6g}{scaled}",
    )


def _factor(yours, reference):
    """``c`` when ``yours`` is ``c * reference`` for one number ``c`` other than 0 (a missing
    ``1/B``, a doubled sum, a wrong sign), else None."""
    norm = float(np.sum(reference * reference))
    if norm < 1e-24 or not np.any(yours):
        return None
    c = float(np.sum(yours * reference)) / norm
    return c if relative_error(yours, c * reference) < TOLERANCE else None


def _describe(value):
    """What ``value`` is, in a few words: its type, and its shape or length, never its numbers."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        kind = type(value).__name__
        parts = ", ".join(_describe(v).removeprefix("an array of shape ") for v in value)
        return f"a {kind} of {len(value)}" + (f" ({parts})" if value else "")
    return "None" if value is None else f"a {type(value).__name__}"


def _run(exercise, function, names, *args):
    """``(outputs, None)``, or ``(None, GradientCheck saying why not)``; ``names`` are the
    gradients the exercise asks for."""
    try:
        return function(*args), None
    except NotImplementedError:
        return None, GradientCheck(exercise, problem="not written yet", gradients=names)
    except Exception as exc:  # the student's code: report it rather than stop the notebook
        problem = f"raised {type(exc).__name__}: {exc}"
        return None, GradientCheck(exercise, problem=problem, gradients=names)


def _outputs(exercise, result, names):
    """The student's outputs as a tuple of ``len(names)``, or a GradientCheck saying why not."""
    if len(names) == 1:
        return (result,), None
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        problem = f"should return {len(names)} arrays ({', '.join(names)}), got {_describe(result)}"
        return None, GradientCheck(exercise, problem=problem, gradients=names)
    return tuple(result), None


def _check(exercise, function, args, references):
    """Run ``function(*args)`` and compare its outputs with ``references`` (name -> array)."""
    names = list(references)
    result, failed = _run(exercise, function, names, *(a.copy() for a in args))
    if failed:
        return failed
    outputs, failed = _outputs(exercise, result, names)
    if failed:
        return failed
    verdicts = [compare(n, o, r) for (n, r), o in zip(references.items(), outputs)]
    return GradientCheck(exercise, verdicts, gradients=names)


def check_dense(dense_backward, seed=0):
    """Check ``dense_backward(X, W, b, dZ) -> (dX, dW, db)`` for ``Z = X @ W + b`` against
    finite differences of ``sum(Z * dZ)``, whose gradient is exactly what the layer receives."""
    rng = np.random.default_rng(seed)
    X, W, b = rng.normal(size=(4, 5)), rng.normal(size=(5, 3)), rng.normal(size=3)
    dZ = rng.normal(size=(4, 3))

    def loss():
        return np.sum((X @ W + b) * dZ)

    references = {name: numeric_gradient(loss, a) for name, a in (("dX", X), ("dW", W), ("db", b))}
    return _check("dense_backward", dense_backward, (X, W, b, dZ), references)


def check_relu(relu_backward, seed=0):
    """Check ``relu_backward(Z, dA) -> dZ`` for ``A = max(Z, 0)`` against finite differences
    (no input within ``0.01`` of the kink, where the two sides would disagree)."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(4, 6))
    Z[np.abs(Z) < 0.01] = 0.5
    dA = rng.normal(size=Z.shape)
    reference = numeric_gradient(lambda: np.sum(np.maximum(Z, 0) * dA), Z)
    return _check("relu_backward", relu_backward, (Z, dA), {"dZ": reference})


def check_softmax_cross_entropy(softmax_cross_entropy_backward, seed=0):
    """Check ``softmax_cross_entropy_backward(Z, y) -> dZ``, the gradient of the mean
    cross-entropy of ``softmax(Z)`` over the batch, against finite differences of barenet's
    ``cross_entropy``."""
    rng = np.random.default_rng(seed)
    Z, y = rng.normal(size=(5, 4)), rng.integers(0, 4, size=5)
    reference = numeric_gradient(lambda: cross_entropy(Z, y), Z)
    return _check(
        "softmax_cross_entropy_backward", softmax_cross_entropy_backward, (Z, y), {"dZ": reference}
    )


def check_network(network_backward, hidden_sizes=(16, 12), seed=0):
    """Check ``network_backward(weights, X, y) -> grads`` on a small float64 ReLU network
    (20 inputs, ``hidden_sizes``, 5 classes, 8 images) against barenet's own backward pass.

    ``weights`` is ``net.named_arrays()`` (``"layers.0.W"``, ``"layers.0.b"``, ``"layers.2.W"``...:
    the dense layers sit at the even places of ``net.layers``, the ReLUs between them) and
    ``grads`` must hold the gradient of the mean loss for each of those names.
    """
    net = NeuralNetwork(20, list(hidden_sizes), 5, dtype="float64", seed=seed)
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(8, 20)), rng.integers(0, 5, size=8)
    _, flat = net.loss_and_gradient(X, y)
    slices, weights = net.parameter_slices(), net.named_arrays()
    references = {name: flat[slices[name]].reshape(weights[name].shape) for name in slices}
    student_weights = {name: array.copy() for name, array in weights.items()}
    names = list(references)
    result, failed = _run("network_backward", network_backward, names, student_weights, X, y)
    if failed:
        return failed
    if not isinstance(result, dict):
        problem = f"should return a dict of gradients keyed like weights, got {_describe(result)}"
        return GradientCheck("network_backward", problem=problem, gradients=names)
    verdicts = [
        compare(name, result[name], ref)
        if name in result
        else Verdict(name, None, "missing (no such key in the dict returned)")
        for name, ref in references.items()
    ]
    return GradientCheck("network_backward", verdicts, gradients=names)
