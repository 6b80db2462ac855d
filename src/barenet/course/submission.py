"""A student's submission: which notebook answers a test module, and which of its cells to
run. No pytest here: :mod:`barenet.course.grade` uses it in the teacher's process too."""

import json
import re
from pathlib import Path


def python_of(source):
    """The Python of a code cell: IPython's ``%magic`` and ``!shell`` lines left out (a
    ``%%cell magic`` line too, its body kept)."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n")
    )


def cells_to_run(cells, functions):
    """Indices of the code cells to run: from the top through the last one that defines one of
    ``functions`` or is an nbgrader solution cell."""
    names = "|".join(map(re.escape, functions))
    defines = re.compile(rf"^\s*def ({names})\s*\(", re.M)
    last = -1
    for index, cell in enumerate(cells):
        source = source_of(cell)
        solution = cell.get("metadata", {}).get("nbgrader", {}).get("solution")
        if cell.get("cell_type") == "code" and (solution or (functions and defines.search(source))):
            last = index
    return [i for i in range(last + 1) if cells[i].get("cell_type") == "code"]


def source_of(cell):
    """A cell's source as one string (a notebook file may hold it as a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def defines(path, functions):
    """Whether the notebook at ``path`` answers ``functions``: a code cell defines one of them,
    or an nbgrader cell is named after one. None when the file cannot be read as a notebook."""
    try:
        cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
        sources = [(cell.get("metadata", {}), source_of(cell)) for cell in cells]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    names = "|".join(map(re.escape, functions))
    pattern = re.compile(rf"^\s*def ({names})\s*\(", re.M)
    for metadata, source in sources:
        grade_id = metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in functions or (functions and pattern.search(source)):
            return True
    return False


def find_notebook(submission, name, functions=(), unreadable=False):
    """The notebook of ``submission`` (a notebook, or a folder) that a test module grades:
    the notebook ``name`` (in the folder or its ``notebooks/``), else the first that answers
    ``functions`` (a renamed copy). None when there is none. A submission that is one file
    which cannot be read is returned when ``unreadable`` (so that the run can say why)."""
    submission = Path(submission)
    if submission.is_file():
        answers = defines(submission, functions)
        if submission.name == name or answers or (answers is None and unreadable):
            return submission
        return None
    for folder in (submission, submission / "notebooks"):
        if (folder / name).is_file():
            return folder / name
    found = sorted(p for p in submission.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    return next((path for path in found if defines(path, functions)), None)
