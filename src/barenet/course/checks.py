"""What the hidden tests check beyond the notebook's checkers, in the checkers' words: a
function run on other shapes against a reference, and the caller's arrays left unchanged.

The verdicts are :mod:`barenet.exercises`' own (:func:`~barenet.exercises.compare`,
:class:`~barenet.exercises.GradientCheck`), so a hidden test's message reads like the
notebook's.
"""

import numpy as np

from barenet.exercises import GradientCheck, compare


def check_outputs(exercise, function, args, references):
    """Run ``function`` on copies of ``args`` and compare its outputs with ``references``
    (``{name: array}``, in the order the function returns them)."""
    names = list(references)
    try:
        result = function(*(np.copy(a) if isinstance(a, np.ndarray) else a for a in args))
    except NotImplementedError:
        return GradientCheck(exercise, problem="not written yet", gradients=names)
    except Exception as error:  # the student's code: a verdict, not a crash of the grader
        problem = f"raised {type(error).__name__}: {error}"
        return GradientCheck(exercise, problem=problem, gradients=names)
    outputs = (result,) if len(names) == 1 else result
    if not isinstance(outputs, (tuple, list)) or len(outputs) != len(names):
        problem = f"should return {len(names)} arrays ({', '.join(names)})"
        return GradientCheck(exercise, problem=problem, gradients=names)
    verdicts = [compare(name, out, references[name]) for name, out in zip(names, outputs)]
    return GradientCheck(exercise, verdicts, gradients=names)


def changed_arguments(function, named_args):
    """The names of the arrays of ``named_args`` (``{name: array}``, passed in that order) that
    ``function`` changed in place; ``[]`` when it raised (another test says so)."""
    given = {name: np.copy(a) for name, a in named_args.items()}
    try:
        function(*given.values())
    except Exception:  # the student's code; its failure is another test's verdict
        return []
    return [name for name, a in given.items() if not np.array_equal(a, named_args[name])]
