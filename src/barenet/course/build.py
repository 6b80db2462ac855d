"""Build the student's and the teacher's editions of the course from the same sources.

``barenet course build --out DIR`` (or ``python -m barenet.course build --out DIR``), from a
barenet checkout, writes:

``DIR/teacher/``
    ``site/``: the documentation site as it is, every exercise's solution under it;
    ``notebooks/``: the lessons with their solutions in place, in nbgrader's *source* form
    (markers and metadata kept, notebook 6's blanks filled from ``notebooks/solutions/``), and
    ``notebooks/solutions/``; ``grading/``: every grading test, the hidden ones too, to read or
    to grade with (``barenet course grade SUBMISSIONS --tests DIR/teacher/grading``);
    ``figures/``: the documentation's figures as SVG, for slides (when drawn).

``DIR/student/``
    ``site/``: the site with every solution block removed and the questions shown open;
    ``notebooks/``: the lessons with every solution replaced by nbgrader's stub and no outputs;
    ``classroom/``: a GitHub Classroom template repository (the notebooks, the visible tests,
    ``.github/workflows/classroom.yml`` that runs them for points, ``requirements.txt``);
    ``figures/``: as the teacher's.

No hidden test and no solution is ever written under ``DIR/student``: the build checks it.
The sites need the ``docs`` extra (``pip install -e '.[docs]'``); ``--no-site`` skips them.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from barenet.course import classroom
from barenet.course.grade import GRADING, collect, grading_files
from barenet.course.markers import (
    BEGIN_HIDDEN_TESTS,
    CourseError,
    functions_of,
    student_notebook,
    student_page,
    teacher_notebook,
)

SITE_MODULES = ("mkdocs", "material", "mkdocstrings", "pymdownx", "latex2mathml")


def find_source(source=None):
    """The barenet checkout to build from: ``source``, else the one this package was installed
    from (an editable install), else the current folder."""
    candidates = [Path(source)] if source else [Path(__file__).resolve().parents[3], Path.cwd()]
    for folder in candidates:
        if (folder / "mkdocs.yml").is_file() and (folder / "notebooks").is_dir():
            return folder.resolve()
    where = source or "the current folder"
    raise CourseError(
        f"{where} is not a barenet checkout (no mkdocs.yml and notebooks/): the editions are "
        "built from the course's sources; give --source"
    )


def read_notebook(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CourseError(f"{path}: not a notebook ({error})") from None


def write_notebook(notebook, path):
    """Write as Jupyter does (one-space indent, keys sorted, a final newline), with each cell's
    source as a list of lines."""
    for cell in notebook["cells"]:
        source = cell["source"]
        if isinstance(source, str):
            cell["source"] = source.splitlines(keepends=True)
    text = json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False)
    Path(path).write_text(text + "\n", encoding="utf-8")


def _joined(notebook):
    """``notebook`` with each cell's source as one string."""
    for cell in notebook["cells"]:
        if isinstance(cell["source"], list):
            cell["source"] = "".join(cell["source"])
    return notebook


def solutions_of(root):
    """``{function name: body lines}`` from the files of ``notebooks/solutions/``."""
    bodies = {}
    for path in sorted((root / "notebooks" / "solutions").glob("*.py")):
        for name, body in functions_of(path.read_text(encoding="utf-8"), path).items():
            if name in bodies:
                raise CourseError(f"{path}: {name} is defined in two solution files")
            bodies[name] = body
    return bodies


def notebooks(root, student_dir, teacher_dir):
    """Write each lesson's two copies; returns the lessons' file names."""
    solutions = solutions_of(root)
    names = []
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        names.append(path.name)
        write_notebook(
            student_notebook(_joined(read_notebook(path)), path.name), student_dir / path.name
        )
        write_notebook(
            teacher_notebook(_joined(read_notebook(path)), solutions, path.name),
            teacher_dir / path.name,
        )
    if not names:
        raise CourseError(f"{root / 'notebooks'}: no notebooks")
    shutil.copytree(root / "notebooks" / "solutions", teacher_dir / "solutions")
    if (root / "notebooks" / "README.md").is_file():
        shutil.copy2(root / "notebooks" / "README.md", teacher_dir / "README.md")
    return names


def student_docs(root, folder):
    """A copy of ``docs/`` in ``folder`` with the solutions removed; returns how many."""
    shutil.copytree(root / "docs", folder, ignore=shutil.ignore_patterns("__pycache__", "svg"))
    removed = 0
    for page in folder.rglob("*.md"):
        text, count = student_page(page.read_text(encoding="utf-8"))
        page.write_text(text, encoding="utf-8")
        removed += count
    return removed


def site(root, destination, docs=None):
    """Build the site into ``destination`` with mkdocs (strict), from ``docs`` (a copy of the
    pages) or from ``docs/`` itself."""
    missing = [m for m in SITE_MODULES if _find_spec(m) is None]
    if missing:
        raise CourseError(
            f"the site needs the documentation tools ({', '.join(missing)} missing): "
            "pip install -e '.[docs]', or build without the sites (--no-site)"
        )
    config = root / "mkdocs.yml"
    with tempfile.TemporaryDirectory(prefix="barenet-course-") as scratch:
        if docs is not None:
            config = Path(scratch) / "mkdocs.yml"
            config.write_text(_config_for(root, docs), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet"]
            + ["-f", str(config), "--site-dir", str(destination)],
            cwd=root,  # the snippets' base path: the pages include barenet's source
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
            capture_output=True,
            text=True,
            timeout=900,
        )
    if done.returncode != 0:
        raise CourseError(f"mkdocs build failed:\n{done.stderr.strip()[-3000:]}")


def _find_spec(name):
    import importlib.util

    return importlib.util.find_spec(name)


def _config_for(root, docs):
    """mkdocs.yml for the pages in ``docs``, every other path made absolute (hooks, the API
    reference's source, the snippets' base)."""
    import yaml  # mkdocs's own dependency

    config = yaml.safe_load((root / "mkdocs.yml").read_text(encoding="utf-8"))
    config["docs_dir"] = str(docs)
    config["hooks"] = [str(root / hook) for hook in config.get("hooks", [])]
    for extension in config.get("markdown_extensions", []):
        if isinstance(extension, dict) and "pymdownx.snippets" in extension:
            options = extension["pymdownx.snippets"]
            options["base_path"] = [str(root / p) for p in options.get("base_path", ["."])]
    for plugin in config.get("plugins", []):
        if isinstance(plugin, dict) and "mkdocstrings" in plugin:
            python = plugin["mkdocstrings"].get("handlers", {}).get("python", {})
            python["paths"] = [str(root / p) for p in python.get("paths", ["."])]
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def grading_tests(student_dir, teacher_dir):
    """The grading tests: all of them for the teacher, the visible ones for the student's
    Classroom repository. Returns the visible tests' collected entries."""
    shutil.copytree(GRADING, teacher_dir, ignore=shutil.ignore_patterns("__pycache__"))
    (teacher_dir / "conftest.py").write_text(classroom.CONFTEST, encoding="utf-8")
    visible = grading_files(GRADING / "visible")
    student_dir.mkdir(parents=True)
    for file in visible:
        shutil.copy2(file, student_dir / file.name)
    (student_dir / "conftest.py").write_text(classroom.CONFTEST, encoding="utf-8")
    return [test for tests in collect(visible).values() for test in tests]


def check_student_edition(folder, root):
    """Refuse a student edition that holds a hidden test or a solution: the markers of hidden
    tests, the hidden test files, the solution files' code, a solution block of the pages."""
    solutions = {  # the solutions' lines of code long enough to be theirs alone
        line.strip()
        for body in solutions_of(root).values()
        for line in body
        if len(line.strip()) >= 16 and not line.strip().startswith(("#", '"', "`"))
    }
    hidden_names = {p.name for p in (GRADING / "hidden").glob("*.py")}
    for path in Path(folder).rglob("*"):
        if path.name in hidden_names or "hidden" in path.relative_to(folder).parts:
            raise CourseError(f"{path}: a hidden test in the student edition")
        if not path.is_file() or path.suffix not in {".ipynb", ".py", ".md", ".html", ".yml"}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if BEGIN_HIDDEN_TESTS in text:
            raise CourseError(f"{path}: hidden tests in the student edition")
        leaked = sorted(line for line in solutions if line in text)
        if leaked and path.suffix in {".ipynb", ".py"}:
            raise CourseError(f"{path}: a solution in the student edition ({leaked[0]})")
        if path.suffix == ".md" and '??? success "Solution"' in text:
            raise CourseError(f"{path}: a solution block in the student edition")


def build(out, source=None, with_site=True, requirement=None, log=print):
    """Write both editions into ``out`` (``out/student``, ``out/teacher``); returns their
    paths. ``requirement`` is what the Classroom repository installs barenet from."""
    root = find_source(source)
    out = Path(out)
    student, teacher = out / "student", out / "teacher"
    for edition in (student, teacher):
        if edition.exists():
            shutil.rmtree(edition)
        edition.mkdir(parents=True)

    lessons = notebooks(root, _made(student / "notebooks"), _made(teacher / "notebooks"))
    log(f"notebooks: {len(lessons)} lessons in each edition")
    visible = grading_tests(student / "classroom" / "tests", teacher / "grading")
    graded = sorted({test["file"] for test in visible})
    log(f"grading: {len(visible)} visible tests ({', '.join(graded)}) for the student")
    classroom.repository(
        student / "classroom", student / "notebooks", visible, requirement or classroom.REQUIREMENT
    )
    svg = root / "docs" / "img" / "svg"
    if svg.is_dir() and any(svg.glob("*.svg")):
        for edition in (student, teacher):
            shutil.copytree(svg, edition / "figures")
    if with_site:
        with tempfile.TemporaryDirectory(prefix="barenet-docs-") as scratch:
            removed = student_docs(root, Path(scratch) / "docs")
            site(root, student / "site", Path(scratch) / "docs")
        site(root, teacher / "site")
        log(f"sites: built; {removed} solutions removed from the student's")
    (student / "README.md").write_text(classroom.student_readme(lessons, with_site), "utf-8")
    (teacher / "README.md").write_text(classroom.teacher_readme(lessons, with_site), "utf-8")
    check_student_edition(student, root)
    log(f"student edition: {student}\nteacher's edition: {teacher}")
    return student, teacher


def _made(folder):
    folder.mkdir(parents=True, exist_ok=True)
    return folder
