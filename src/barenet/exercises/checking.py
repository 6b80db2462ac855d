"""What every checker shares: run the student's function without letting it stop the notebook,
compare each array it returns with the right one, and say what is wrong in words.

A gradient passes when its relative error ``||yours - reference|| / (||yours|| + ||reference||)``
is below :data:`TOLERANCE` (finite differences with step ``h = 1e-5`` in float64 agree to about
``1e-9``). A wrong one is described by where it is furthest off, by the factor it is off by when
there is one, and, when it equals one of the *mistakes* a checker computed from the same inputs
(the kernel not flipped, a mean where a sum is meant...), by what that mistake is.
"""

import itertools
from dataclasses import dataclass, field

import numpy as np

H = 1e-5  # the finite-difference step of every page and notebook (docs: Notation)
TOLERANCE = 1e-6


@dataclass
class Verdict:
    """One gradient: its name, its relative error (None when it could not be compared) and
    what to tell the student; ``case`` names the inputs it failed on when a checker tries
    several, ``hint`` the likely mistake when the checker recognised it."""

    name: str
    error: float | None
    message: str
    case: str | None = None
    hint: str | None = None

    @property
    def passed(self):
        return self.error is not None and self.error < TOLERANCE


@dataclass
class GradientCheck:
    """The verdicts on the gradients of one exercise; ``str()`` gives the report.

    ``gradients`` names every gradient the exercise asks for; ``problem`` says why there are no
    verdicts when the function gave nothing to compare (not written yet, an exception, or not
    the outputs asked for). ``noun`` is what the report calls the outputs ("gradients", or
    "arrays" for an optimizer's step)."""

    exercise: str
    verdicts: list = field(default_factory=list)
    problem: str | None = None
    gradients: list = field(default_factory=list)
    noun: str = "gradients"

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

    @property
    def hints(self):
        """The mistakes recognised, one per wrong gradient that showed one (repeats removed)."""
        return list(dict.fromkeys(v.hint for v in self.verdicts if v.hint))

    def __str__(self):
        if self.problem:
            return f"{self.exercise}: {self.problem}"
        right = sum(v.passed for v in self.verdicts)
        lines = [f"{self.exercise}: {right} of {len(self.verdicts)} {self.noun} right"]
        width = max(len(v.name) for v in self.verdicts)
        shown = set()
        for v in self.verdicts:
            lines.append(f"  {v.name:<{width}}  {v.message}")
            if v.case and not v.passed:
                lines.append(f"  {'':<{width}}  on {v.case}")
            if v.hint and v.hint not in shown:  # one mistake often spoils several gradients
                lines.append(f"  {'':<{width}}  likely: {v.hint}")
                shown.add(v.hint)
        return "\n".join(lines)

    __repr__ = __str__


@dataclass
class Case:
    """One set of inputs for a checker: ``args`` for the student's function, the right
    outputs (``references``, name -> array, in the order the function returns them) and the
    mistakes to recognise (``mistakes``, name -> list of ``(what the mistake is, the array it
    gives)``). ``description`` names the inputs in the report."""

    description: str
    args: tuple
    references: dict
    mistakes: dict = field(default_factory=dict)


def relative_error(yours, reference):
    """``||yours - reference|| / (||yours|| + ||reference||)``; 0 when both are 0, NaN when
    either holds a NaN or an infinity (so that such an answer never passes)."""
    scale = np.linalg.norm(yours) + np.linalg.norm(reference)
    if scale <= 1e-12:
        return 0.0
    with np.errstate(invalid="ignore"):  # inf / inf: NaN, said in the verdict
        return float(np.linalg.norm(yours - reference) / scale)


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


def compare(name, yours, reference, mistakes=()):
    """The verdict on one gradient: shape first, then the relative error and the worst entry.

    ``mistakes`` are ``(what the mistake is, the array it gives)`` pairs: when ``yours`` is one
    of those arrays (its shape and values), the verdict's hint says which mistake it is.
    """
    if yours is None:
        return Verdict(name, None, "missing (the function returned None for it)")
    try:
        yours = np.asarray(yours, dtype=np.float64)
    except (TypeError, ValueError):
        return Verdict(name, None, f"WRONG: not an array of numbers but {describe(yours)}")
    hint = recognise(yours, mistakes)
    if yours.shape != reference.shape:
        if hint is None:
            hint = axes_swapped(yours, reference) or reshaped(yours, reference)
        transposed = " (transposed?)" if yours.shape == reference.shape[::-1] else ""
        message = f"WRONG shape: yours {yours.shape}, expected {reference.shape}{transposed}"
        return Verdict(name, None, message, hint=hint)
    error = relative_error(yours, reference)
    if error < TOLERANCE:
        return Verdict(name, error, f"relative error {error:.1e}  ok")
    c = factor(yours, reference)
    scaled = f"; yours is {c:.4g} times the right one" if c is not None else ""
    if not np.any(yours):
        scaled = "; yours is all zeros"
    elif not np.all(np.isfinite(yours)):
        scaled = "; yours holds NaN or infinite values (a division by zero?)"
    gaps = np.abs(yours - reference)
    worst = np.unravel_index(np.argmax(np.where(np.isnan(gaps), np.inf, gaps)), reference.shape)
    where = f"[{', '.join(map(str, worst))}]" if reference.ndim else ""
    return Verdict(
        name,
        error,
        f"relative error {error:.1e}  WRONG: the largest gap is at {where or 'the value'}, "
        f"yours {yours[worst]:.6g}, expected {reference[worst]:.6g}{scaled}",
        hint=hint,
    )


def recognise(yours, mistakes):
    """What the mistakes whose array ``yours`` equals are (``"A; or B"`` when two slips give
    the same numbers on these inputs), or None. Equal: the same shape, NaN and infinities at the
    same places (a mistake may divide by zero), the other values within :data:`TOLERANCE`."""
    found = [what for what, array in mistakes if same_numbers(yours, array)]
    return "; or ".join(dict.fromkeys(found)) or None


def same_numbers(yours, array):
    """Whether ``yours`` is ``array``, as :func:`recognise` compares them."""
    array = np.asarray(array, dtype=np.float64)
    if array.shape != yours.shape:
        return False
    finite = np.isfinite(array)
    if not np.array_equal(finite, np.isfinite(yours)):
        return False
    if not np.array_equal(array[~finite], yours[~finite], equal_nan=True):
        return False
    return relative_error(yours[finite], array[finite]) < TOLERANCE


def axes_swapped(yours, reference):
    """A hint when ``yours`` holds the right numbers with its axes in another order, else None."""
    if yours.ndim != reference.ndim or sorted(yours.shape) != sorted(reference.shape):
        return None
    if yours.ndim > 6 or not np.all(np.isfinite(yours)):
        return None
    for order in itertools.permutations(range(yours.ndim)):
        moved = yours.transpose(order)
        if moved.shape == reference.shape and relative_error(moved, reference) < TOLERANCE:
            return (
                f"the right numbers with the axes in another order: np.transpose(yours, "
                f"{order}) is right (a missing or extra transpose)"
            )
    return None


def reshaped(yours, reference):
    """A hint when ``yours`` holds the right numbers in the right order but another shape (a
    sum with ``keepdims=True``, a flattened array), else None."""
    if yours.size != reference.size or not np.all(np.isfinite(yours)):
        return None
    if relative_error(yours.reshape(reference.shape), reference) >= TOLERANCE:
        return None
    return (
        f"the right numbers in the shape {yours.shape}: give them the shape {reference.shape} "
        "(a sum with keepdims=True, or a reshape left out?)"
    )


def factor(yours, reference):
    """``c`` when ``yours`` is ``c * reference`` for one number ``c`` other than 0 (a missing
    ``1/B``, a doubled sum, a wrong sign), else None."""
    norm = float(np.sum(reference * reference))
    if norm < 1e-24 or not np.any(yours) or not np.all(np.isfinite(yours)):
        return None
    c = float(np.sum(yours * reference)) / norm
    return c if relative_error(yours, c * reference) < TOLERANCE else None


def describe(value):
    """What ``value`` is, in a few words: its type, and its shape or length, never its numbers."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        kind = type(value).__name__
        parts = ", ".join(describe(v).removeprefix("an array of shape ") for v in value)
        return f"a {kind} of {len(value)}" + (f" ({parts})" if value else "")
    return "None" if value is None else f"a {type(value).__name__}"


def copied(value):
    """A copy of an array argument (the student's function may write into it), else itself."""
    return value.copy() if isinstance(value, np.ndarray) else value


def run_answer(exercise, function, names, *args):
    """``(outputs, None)``, or ``(None, GradientCheck saying why not)``; ``names`` are the
    gradients the exercise asks for."""
    try:
        return function(*args), None
    except NotImplementedError:
        return None, GradientCheck(exercise, problem="not written yet", gradients=names)
    except Exception as exc:  # the student's code: report it rather than stop the notebook
        problem = f"raised {type(exc).__name__}: {exc}"
        return None, GradientCheck(exercise, problem=problem, gradients=names)


def answer_outputs(exercise, result, names):
    """The student's outputs as a tuple of ``len(names)``, or a GradientCheck saying why not."""
    if len(names) == 1:
        return (result,), None
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        problem = f"should return {len(names)} arrays ({', '.join(names)}), got {describe(result)}"
        return None, GradientCheck(exercise, problem=problem, gradients=names)
    return tuple(result), None


def check_answer(exercise, function, args, references):
    """Run ``function(*args)`` and compare its outputs with ``references`` (name -> array)."""
    names = list(references)
    result, failed = run_answer(exercise, function, names, *(copied(a) for a in args))
    if failed:
        return failed
    outputs, failed = answer_outputs(exercise, result, names)
    if failed:
        return failed
    verdicts = [compare(n, o, r) for (n, r), o in zip(references.items(), outputs)]
    return GradientCheck(exercise, verdicts, gradients=names)


def check_cases(exercise, function, cases, noun="gradients"):
    """Run ``function`` on every :class:`Case` and give one verdict per output: the first case
    where it is wrong, or, when it is right on all of them, its largest error.

    A function that raises on one case gets that as the check's problem, with the case named;
    one that returns the wrong number of arrays, that.
    """
    names = list(cases[0].references)
    verdicts = {}
    for case in cases:
        result, failed = run_answer(exercise, function, names, *(copied(a) for a in case.args))
        if failed is None:
            outputs, failed = answer_outputs(exercise, result, names)
        if failed is not None:
            if failed.problem.startswith("raised"):  # it may run on the other cases
                failed.problem += f" (on {case.description})"
            failed.noun = noun
            return failed
        for name, output in zip(names, outputs):
            if name in verdicts and not verdicts[name].passed:
                continue  # its first failure is the one reported
            reference = case.references[name]
            verdict = compare(name, output, reference, case.mistakes.get(name, ()))
            verdict.case = case.description
            if verdict.error is None and verdict.hint is None:
                verdict.hint = order_hint(output, name, case.references)
            if verdict.passed and name in verdicts:
                verdict = max(verdict, verdicts[name], key=lambda v: v.error)
            verdicts[name] = verdict
    return GradientCheck(exercise, [verdicts[n] for n in names], gradients=names, noun=noun)


def order_hint(output, name, references):
    """A hint when an output of the wrong shape has the shape of another one: the outputs were
    returned in another order than asked."""
    shape = getattr(output, "shape", None)
    others = [n for n, r in references.items() if n != name and r.shape == shape]
    if shape is None or not others:
        return None
    return (
        f"{name} has the shape of {others[0]}: return the arrays in the order "
        f"{', '.join(references)}"
    )


def layer_pass(layer, X, dY, params=None, training=True):
    """Run a barenet layer forward on ``X`` and backward on ``dY`` in float64, with its
    parameters set from ``params`` (name -> array); returns ``(Y, dX, grads)``, copies.

    The checkers' reference: barenet's own layers, as a network uses them."""
    layer.build(X.shape[1:])
    params = params or {}
    values = {
        name: np.array(params[name], dtype=np.float64).reshape(shape)
        for name, (shape, _) in layer.param_shapes().items()
    }
    grads = {name: np.zeros_like(value) for name, value in values.items()}
    layer.bind(values, grads)
    Y = np.array(layer.forward(X.copy(), training=training))
    dX = layer.backward(dY.copy())
    return Y, None if dX is None else np.array(dX), {k: g.copy() for k, g in grads.items()}


def seeded(seed, k):
    """The generator of case ``k`` of a checker called with ``seed``: every case its own draw."""
    return np.random.default_rng([seed, k])


def two_different(rng, low, high):
    """Two different integers from ``[low, high]``: the sizes of a non-square shape."""
    a, b = rng.choice(np.arange(low, high + 1), size=2, replace=False)
    return int(a), int(b)


def shapes(**arrays):
    """``"X (2, 5, 4, 3), W (3, 2, 3, 4)"``: the inputs of a case, for the report."""
    return ", ".join(f"{name} {tuple(np.shape(a))}" for name, a in arrays.items())
