"""How the two editions are cut from the same sources, with the markers of well-kept tools.

Notebooks follow nbgrader (Jupyter's grading tool), so that a teacher who uses it can take the
teacher's edition as nbgrader's *source* and get the same student edition from
``nbgrader generate_assignment``:

- a student's code sits between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` lines; the
  student edition replaces the region with nbgrader's stub, ``# YOUR CODE HERE`` and
  ``raise NotImplementedError()``, at the markers' indentation; in a Markdown cell the stub is
  ``YOUR ANSWER HERE``. A line *contains* the marker, as nbgrader matches it, so ``# BEGIN
  SOLUTION`` or ``<!-- ### BEGIN SOLUTION -->`` work too;
- a cell holding a region carries nbgrader's metadata, ``{"nbgrader": {"solution": true,
  "grade_id": ..., "schema_version": 3, ...}}``; a solution cell without a region is replaced
  whole by the stub, as nbgrader does;
- hidden tests sit between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` in a cell
  marked ``"grade": true`` (with its ``points``), and are removed from the student edition;
- the student edition carries no outputs.

Notebook 6 keeps its blanks in the notebook and its solutions in ``notebooks/solutions/``: a
region that holds only a blank (``raise NotImplementedError``, comments) is filled in the
teacher's edition with the body of the function of the same name from those files.

Documentation pages follow pymdownx.details: an exercise is a collapsed ``??? question`` block
and its solution the ``??? success "Solution"`` block under it. The student edition removes the
solution blocks and shows the questions open (``???+ question``).
"""

import ast
import re
import textwrap

from barenet.errors import BarenetError

BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN_TESTS, END_HIDDEN_TESTS = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"  # nbgrader's, for Python
TEXT_STUB = "YOUR ANSWER HERE"

# A pymdownx.details block: ??? (collapsed), ???+ (open) or !!! (an admonition), its type, title.
BLOCK = re.compile(r"^(?P<indent>\s*)(?P<kind>\?\?\?\+?|!!!)\s+(?P<type>[\w-]+)(?P<rest>.*)$")


class CourseError(BarenetError):
    """A course source that the editions cannot be cut from (a marker without its end, a
    region outside a solution cell, a solution that cannot be found), or a submission folder
    that cannot be graded."""


# -- notebooks ---------------------------------------------------------------------------------


def nbgrader(cell):
    """The nbgrader metadata of ``cell`` (an empty dict when it has none)."""
    return cell.get("metadata", {}).get("nbgrader", {})


def is_solution(cell):
    return bool(nbgrader(cell).get("solution"))


def is_grade(cell):
    return bool(nbgrader(cell).get("grade"))


def regions(source, begin, end, where="a cell"):
    """``[(first, last, indent)]``: the line numbers of each ``begin``... ``end`` region of
    ``source`` (the marker lines included) and the indentation of its first marker."""
    found, start = [], None
    lines = source.split("\n")
    for number, line in enumerate(lines):
        if begin in line:
            if start is not None:
                raise CourseError(f"{where}: a {begin} inside another one, at line {number + 1}")
            start = number
        elif end in line:
            if start is None:
                raise CourseError(f"{where}: an {end} without its {begin}, at line {number + 1}")
            found.append((start, number, re.match(r"\s*", lines[start]).group(0)))
            start = None
    if start is not None:
        raise CourseError(f"{where}: a {begin} at line {start + 1} has no {end}")
    return found


def replace_regions(source, begin, end, replacement, where="a cell"):
    """``source`` with each ``begin``... ``end`` region replaced by ``replacement(lines,
    indent, first)``: the new lines for the lines between the markers, the first marker's
    indentation and line number."""
    lines = source.split("\n")
    for first, last, indent in reversed(regions(source, begin, end, where)):
        lines[first : last + 1] = replacement(lines[first + 1 : last], indent, first)
    return "\n".join(lines)


def clear_solutions(cell, where="a cell"):
    """Replace the solution regions of ``cell`` (in place) with nbgrader's stub; a solution
    cell without a region is replaced whole. Returns whether anything was replaced."""
    stub = (CODE_STUB if cell["cell_type"] == "code" else TEXT_STUB).split("\n")
    found = regions(cell["source"], BEGIN_SOLUTION, END_SOLUTION, where)
    if found and not is_solution(cell):
        raise CourseError(
            f"{where}: a solution region in a cell without nbgrader's solution metadata "
            '({"nbgrader": {"solution": true, "grade_id": ...}})'
        )
    if found:
        cell["source"] = replace_regions(
            cell["source"], BEGIN_SOLUTION, END_SOLUTION,
            lambda lines, indent, first: [indent + line for line in stub], where,
        )  # fmt: skip
        return True
    if is_solution(cell):
        cell["source"] = "\n".join(stub)
        return True
    return False


def clear_hidden_tests(cell, where="a cell"):
    """Remove the hidden-test regions of ``cell`` (in place); returns whether it had any."""
    found = regions(cell["source"], BEGIN_HIDDEN_TESTS, END_HIDDEN_TESTS, where)
    if found and not is_grade(cell):
        raise CourseError(f"{where}: hidden tests in a cell without nbgrader's grade metadata")
    if found:
        cell["source"] = replace_regions(
            cell["source"], BEGIN_HIDDEN_TESTS, END_HIDDEN_TESTS,
            lambda lines, indent, first: [], where,
        )  # fmt: skip
    return bool(found)


def check_grade_ids(notebook, name):
    """Every nbgrader cell that needs one has a grade id, and no two share one (as nbgrader's
    validator requires)."""
    seen = set()
    for number, cell in enumerate(notebook["cells"]):
        meta = nbgrader(cell)
        if not (meta.get("solution") or meta.get("grade") or meta.get("locked")):
            continue
        grade_id = meta.get("grade_id")
        if not grade_id:
            raise CourseError(f"{name}, cell {number}: nbgrader metadata without a grade_id")
        if grade_id in seen:
            raise CourseError(f"{name}, cell {number}: grade_id {grade_id!r} used twice")
        if meta.get("grade") and "points" not in meta:
            raise CourseError(f"{name}, cell {number}: a grade cell ({grade_id}) without points")
        seen.add(grade_id)
    return seen


def student_notebook(notebook, name="the notebook"):
    """The student's copy of ``notebook`` (an nbformat object, changed in place and returned):
    solutions replaced by stubs, hidden tests removed, no outputs."""
    check_grade_ids(notebook, name)
    for number, cell in enumerate(notebook["cells"]):
        where = f"{name}, cell {number}"
        clear_solutions(cell, where)
        clear_hidden_tests(cell, where)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return notebook


def is_blank(lines):
    """Whether the lines of a solution region hold no solution: only comments, ``pass``,
    ``...`` and ``raise NotImplementedError``."""
    code = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    blank = {"pass", "...", "raise NotImplementedError", "raise NotImplementedError()"}
    return all(line in blank for line in code)


def functions_of(source, path="the solutions"):
    """``{name: body}`` for the top-level functions of the Python ``source``: each body's lines
    (docstring and code), dedented."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise CourseError(f"{path}: {error}") from None
    lines = source.split("\n")
    bodies = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            first, last = node.body[0].lineno, node.body[-1].end_lineno
            bodies[node.name] = textwrap.dedent("\n".join(lines[first - 1 : last])).split("\n")
    return bodies


def teacher_notebook(notebook, solutions, name="the notebook"):
    """The teacher's copy of ``notebook`` (changed in place and returned): markers and metadata
    kept (nbgrader's source form), and each blank solution region inside ``def f(...)`` filled
    with the body of ``f`` from ``solutions`` (``{function name: body lines}``)."""
    check_grade_ids(notebook, name)
    for number, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        where = f"{name}, cell {number}"
        lines = cell["source"].split("\n")

        def fill(body, indent, first, lines=lines, where=where):
            if not is_blank(body):
                return [indent + f"### {BEGIN_SOLUTION}", *body, indent + f"### {END_SOLUTION}"]
            function = _enclosing_function(lines[:first], indent)
            if function is None or function not in solutions:
                raise CourseError(
                    f"{where}: a blank solution region"
                    + (f" in {function}()" if function else " outside a function")
                    + " and no solution for it in notebooks/solutions/"
                )
            filled = [indent + line if line else line for line in solutions[function]]
            return [indent + f"### {BEGIN_SOLUTION}", *filled, indent + f"### {END_SOLUTION}"]

        cell["source"] = replace_regions(cell["source"], BEGIN_SOLUTION, END_SOLUTION, fill, where)
    return notebook


def _enclosing_function(above, indent):
    """The name of the ``def`` that a region at ``indent`` sits in (``above``: the lines of
    its cell above it), or None."""
    for line in reversed(above):
        match = re.match(r"(\s*)def (\w+)\(", line)
        if match and len(match.group(1)) < len(indent):
            return match.group(2)
    return None


# -- documentation pages -----------------------------------------------------------------------


def is_solution_block(line):
    """Whether ``line`` opens a pymdownx.details solution block (``??? success "Solution"``)."""
    match = BLOCK.match(line)
    return bool(match) and match["type"] == "success" and "Solution" in match["rest"]


def student_page(text):
    """The student's copy of a Markdown page: every solution block removed with its indented
    body, and every collapsed question shown open (``??? question`` becomes ``???+ question``).
    Returns ``(text, number of solutions removed)``."""
    lines, kept, removed = text.split("\n"), [], 0
    i = 0
    while i < len(lines):
        line = lines[i]
        if is_solution_block(line):
            indent = len(BLOCK.match(line)["indent"])
            i += 1
            while i < len(lines) and (
                not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent
            ):
                i += 1
            while kept and not kept[-1].strip():  # the blank lines before the block
                kept.pop()
            kept.append("")
            removed += 1
            continue
        match = BLOCK.match(line)
        if match and match["kind"] == "???" and match["type"] == "question":
            line = f"{match['indent']}???+ question{match['rest']}"
        kept.append(line)
        i += 1
    return "\n".join(kept), removed
