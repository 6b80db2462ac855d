"""The student edition's GitHub Classroom template repository and the editions' READMEs.

The repository holds the lessons, the visible grading tests and the workflow GitHub Classroom
runs on every push: one ``classroom-resources/autograding-command-grader`` step per visible test
(its points as ``max-score``), then ``classroom-resources/autograding-grading-reporter``, which
reports the points to Classroom, the format of the workflow Classroom itself writes.
"""

import re
from pathlib import Path

# Where the Classroom runner installs barenet from: the teacher's copy of it (--requirement).
REQUIREMENT = "barenet @ git+https://github.com/YOUR-ACCOUNT/barenet"
PYTHON = "3.12"
STEP_TIMEOUT = 10  # minutes, per test (autograding-command-grader's unit)

CONFTEST = '''"""The grading plugin: it runs the notebook's cells and scores each test's points."""

pytest_plugins = ("barenet.course.plugin",)
'''

PYTEST_INI = """[pytest]
testpaths = tests
addopts = -p no:cacheprovider
"""


def step_id(test):
    """The workflow step id of a test: ``test-dense-backward`` for ``test_dense_backward``."""
    return re.sub(r"[^a-z0-9]+", "-", test["test"].lower()).strip("-")


def workflow(tests):
    """The text of ``.github/workflows/classroom.yml`` for the visible ``tests`` (entries of
    :func:`barenet.course.grade.collect`)."""
    lines = [
        "# GitHub Classroom autograding: each visible test of tests/ is one graded step, its",
        "# points the step's max-score; the reporter sends the points to Classroom.",
        "# Written by `barenet course build`; the hidden tests are run by the teacher, offline:",
        "# barenet course grade SUBMISSIONS --out REPORT",
        "name: Autograding Tests",
        "'on':",
        "- push",
        "- repository_dispatch",
        "permissions:",
        "  checks: write",
        "  actions: read",
        "  contents: read",
        "jobs:",
        "  run-autograding-tests:",
        "    runs-on: ubuntu-latest",
        "    if: github.actor != 'github-classroom[bot]'",
        "    steps:",
        "    - name: Checkout code",
        "      uses: actions/checkout@v4",
        "    - name: Set up Python",
        "      uses: actions/setup-python@v5",
        "      with:",
        f"        python-version: '{PYTHON}'",
        "    - name: Install barenet and pytest",
        "      run: python -m pip install -r requirements.txt",
    ]
    for test in tests:
        lines += [
            f"    - name: {test['test']}",
            f"      id: {step_id(test)}",
            "      uses: classroom-resources/autograding-command-grader@v1",
            "      with:",
            f"        test-name: {test['test']} ({test['exercise']})",
            f"        command: python -m pytest -q 'tests/{test['file']}::{test['test']}'",
            f"        timeout: {STEP_TIMEOUT}",
            f"        max-score: {test['points']:g}",
        ]
    lines += [
        "    - name: Autograding Reporter",
        "      uses: classroom-resources/autograding-grading-reporter@v1",
        "      env:",
    ]
    lines += [
        f'        {step_id(t).upper()}_RESULTS: "${{{{steps.{step_id(t)}.outputs.result}}}}"'
        for t in tests
    ]
    lines += ["      with:", f"        runners: {','.join(step_id(t) for t in tests)}"]
    return "\n".join(lines) + "\n"


def repository(folder, notebooks, tests, requirement=REQUIREMENT):
    """Write the template repository into ``folder`` (its ``tests/`` already holds the visible
    tests and their conftest): the student notebooks, the workflow, requirements, a README."""
    folder = Path(folder)
    (folder / "notebooks").mkdir(parents=True, exist_ok=True)
    for path in sorted(Path(notebooks).glob("*.ipynb")):
        (folder / "notebooks" / path.name).write_bytes(path.read_bytes())
    workflows = folder / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "classroom.yml").write_text(workflow(tests), encoding="utf-8")
    (folder / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
    (folder / "requirements.txt").write_text(
        "# What the autograder installs: barenet (its checkers and its grading plugin) and\n"
        "# pytest. Point the first line at your copy of barenet, as pip reads it (a git URL,\n"
        "# a wheel in this repository...); `barenet course build --requirement` writes it.\n"
        f"{requirement}\npytest>=7\n",
        encoding="utf-8",
    )
    points = sum(t["points"] for t in tests)
    (folder / "README.md").write_text(
        "# Assignment\n\n"
        "Write the exercises in `notebooks/` (each blank says `# YOUR CODE HERE`), run each\n"
        "notebook to see the checker's verdict, then commit and push: GitHub Classroom runs the\n"
        f"tests of `tests/` for points ({len(tests)} tests, {points:g} points).\n\n"
        "To run them yourself first:\n\n"
        "```bash\npython -m pip install -r requirements.txt\npython -m pytest\n```\n\n"
        "Your teacher grades with more tests than these, on other inputs: a function that is\n"
        "right passes them too.\n",
        encoding="utf-8",
    )


def _lessons(lessons):
    return "\n".join(f"- `{name}`" for name in lessons)


def student_readme(lessons, with_site):
    site = "- `site/`: the course's pages; open `site/index.html` (works offline).\n"
    return (
        "# barenet course: student edition\n\n"
        + (site if with_site else "")
        + "- `notebooks/`: the lessons; every exercise is blank (`# YOUR CODE HERE`, `YOUR "
        "ANSWER HERE`).\n"
        "- `classroom/`: the GitHub Classroom template repository (the notebooks, the tests\n"
        "  you can see, the autograding workflow).\n"
        "- `figures/`: the pages' figures as SVG, when drawn.\n\n"
        f"Lessons:\n\n{_lessons(lessons)}\n\n"
        "Run them with `pip install 'barenet[docs]' jupyterlab` and `jupyter lab notebooks/`.\n"
    )


def teacher_readme(lessons, with_site):
    site = "- `site/`: the course's pages with every solution.\n"
    return (
        "# barenet course: teacher's edition\n\n"
        + (site if with_site else "")
        + "- `notebooks/`: the lessons with their solutions in place, in nbgrader's source form\n"
        "  (`### BEGIN SOLUTION` markers and cell metadata), and `notebooks/solutions/`.\n"
        "- `grading/`: every grading test, `visible/` (also in the student's Classroom\n"
        "  repository) and `hidden/` (only here).\n"
        "- `figures/`: the pages' figures as SVG for slides, when drawn.\n\n"
        f"Lessons:\n\n{_lessons(lessons)}\n\n"
        "Grade a folder of submissions (one sub-folder or one `.ipynb` per student), offline:\n\n"
        "```bash\nbarenet course grade SUBMISSIONS --out report/\n```\n\n"
        "It writes `report/<student>.md` and `.json` (points per exercise, the checker's message\n"
        "for each failed test) and `report/summary.csv`, `.md`, `.json`. `--tests grading/`\n"
        "grades with the tests of this folder instead of those installed with barenet (edit\n"
        "them, or add your own hidden tests there).\n"
    )
