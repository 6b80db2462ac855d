"""Grade a folder of submissions with pytest, offline: a report per student and one for the class.

A submission is a sub-folder (holding the student's notebooks, named as handed out or not) or a
single ``.ipynb`` file; its name is the student's. For each student and each test file (the
visible and the hidden tests of :mod:`barenet.course.grading`, or those of ``tests``), pytest
runs in a child process, in a scratch copy of the submission, with :mod:`barenet.course.plugin`:
it runs the notebook's cells and scores each test's points. A child that runs past ``timeout``
is stopped and its tests score 0 with a note; a notebook that is blank, raises or hangs scores 0
for the exercises it breaks and never stops the grading of the others.

Writes into ``out``: ``<student>.md`` and ``<student>.json`` (points per exercise, total, and the
checker's message for each failed test), ``summary.csv``, ``summary.md`` and ``summary.json``
(every student's points per exercise, and per exercise the class's mean).
"""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from barenet.course.markers import CourseError
from barenet.course.submission import find_notebook

GRADING = Path(__file__).resolve().parent / "grading"
TIMEOUT = 300.0  # seconds for one student's run of one test file
INI = "[pytest]\naddopts = -p no:cacheprovider\n"  # no settings of the folder it runs in


def default_tests():
    """The test files of the course: the visible ones, then the hidden ones."""
    return sorted((GRADING / "visible").glob("test_*.py")) + sorted(
        (GRADING / "hidden").glob("test_*.py")
    )


def grading_files(tests=None):
    """The ``test_*.py`` files under ``tests`` (a folder or a file), or the course's own."""
    if tests is None:
        files = default_tests()
    else:
        tests = Path(tests)
        files = [tests] if tests.is_file() else sorted(tests.rglob("test_*.py"))
    if not files:
        raise CourseError(f"no test files (test_*.py) in {tests}")
    return files


def submissions_in(folder):
    """``{student: path}``: each sub-folder and each ``.ipynb`` file of ``folder``, by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CourseError(f"{folder}: not a folder of submissions")
    found = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith((".", "_")):
            continue
        if path.is_dir() or path.suffix == ".ipynb":
            name = path.stem if path.is_file() else path.name
            if name in found:
                raise CourseError(f"{folder}: two submissions named {name!r} (a folder and a file)")
            found[name] = path
    if not found:
        raise CourseError(f"{folder}: no submissions (one sub-folder or one .ipynb per student)")
    return found


def _pytest(args, cwd, timeout, report):
    """Run pytest with the grading plugin; ``(results or None, note)``."""
    (Path(cwd) / "pytest.ini").write_text(INI, encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "barenet.course.plugin"]
    command += ["-c", str(Path(cwd) / "pytest.ini"), "--import-mode=importlib"]
    command += ["--grade-report", str(report), *args]
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",  # nothing written beside the tests
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1"),
    }
    try:
        done = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None, f"stopped after {timeout:g} s (an endless loop?)"
    if not Path(report).is_file():
        lines = (done.stderr or done.stdout).strip().splitlines()
        return None, "pytest did not run: " + (lines[-1] if lines else f"exit {done.returncode}")
    return json.loads(Path(report).read_text(encoding="utf-8")), None


def collect(files):
    """The graded tests of ``files``: ``{file: [test entries]}``, without running them (a test
    without its points is an error here, before any student is graded)."""
    collected = {}
    with tempfile.TemporaryDirectory(prefix="barenet-grade-") as scratch:
        for file in files:
            report = Path(scratch) / "collect.json"
            results, note = _pytest(
                ["--collect-only", "--rootdir", str(file.parent), str(file)], scratch, 120, report
            )
            if results is None:
                raise CourseError(f"{file}: the tests cannot be collected: {note}")
            collected[file] = results["tests"]
    return collected


def submitted(collected, submissions):
    """The test files of ``collected`` whose notebook at least one of ``submissions`` holds:
    a folder of notebook 6 is graded on notebook 6's tests (a student who left out a notebook
    others handed in scores 0 on it)."""
    kept = {}
    for file, tests in collected.items():
        if not tests:
            continue
        notebook, functions = tests[0]["notebook"], tests[0]["functions"]
        if any(find_notebook(path, notebook, functions) for path in submissions):
            kept[file] = tests
    if not kept:
        names = sorted({t["notebook"] for tests in collected.values() for t in tests})
        raise CourseError(f"no submission holds a notebook the tests grade ({', '.join(names)})")
    return kept


@dataclass
class StudentReport:
    """One student's graded tests (each a dict: exercise, points, hidden, outcome, message)
    and the notes of the run (a notebook that raised, a run that was stopped)."""

    student: str
    submission: str
    tests: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def exercises(self):
        """``{exercise: [points won, points possible]}``, in the order of the tests."""
        table = {}
        for test in self.tests:
            won = test["points"] if test["outcome"] == "passed" else 0
            row = table.setdefault(test["exercise"], [0, 0])
            row[0] += won
            row[1] += test["points"]
        return table

    @property
    def total(self):
        return sum(won for won, _ in self.exercises().values())

    @property
    def possible(self):
        return sum(possible for _, possible in self.exercises().values())

    def to_json(self):
        return {
            "student": self.student,
            "submission": self.submission,
            "total": self.total,
            "possible": self.possible,
            "exercises": {
                name: {"points": won, "possible": possible}
                for name, (won, possible) in self.exercises().items()
            },
            "tests": self.tests,
            "notes": self.notes,
        }

    def markdown(self):
        lines = [
            f"# {self.student}: {self.total:g} / {self.possible:g} points",
            "",
            f"Submission: `{self.submission}`",
            "",
            "| exercise | points | of |",
            "| --- | ---: | ---: |",
        ]
        lines += [f"| {n} | {w:g} | {p:g} |" for n, (w, p) in self.exercises().items()]
        lines += [f"| **total** | **{self.total:g}** | **{self.possible:g}** |", ""]
        lines += ["## Tests", ""]
        for test in self.tests:
            mark = "passed" if test["outcome"] == "passed" else test["outcome"].upper()
            kind = "hidden" if test["hidden"] else "visible"
            won = test["points"] if test["outcome"] == "passed" else 0
            lines.append(
                f"- `{test['test']}` ({test['exercise']}, {kind}): {mark}, "
                f"{won:g} / {test['points']:g}"
            )
            if test["message"]:
                lines += ["", "  ```text", *[f"  {m}" for m in test["message"].splitlines()]]
                lines += ["  ```", ""]
        if self.notes:
            lines += ["", "## Notes", "", *[f"- {note}" for note in self.notes]]
        return "\n".join(lines) + "\n"


def grade_student(student, submission, collected, timeout=TIMEOUT, limits=()):
    """Run every test file of ``collected`` on one submission: a :class:`StudentReport`.
    ``limits`` are more options of the plugin (``--cell-timeout``, ``--test-timeout``)."""
    report = StudentReport(student, str(submission))
    with tempfile.TemporaryDirectory(prefix="barenet-grade-") as scratch:
        work = Path(scratch) / "submission"
        if Path(submission).is_dir():
            shutil.copytree(submission, work, ignore=shutil.ignore_patterns(".*"))
            target = work
        else:
            work.mkdir()
            target = work / Path(submission).name
            shutil.copy2(submission, target)
        for number, (file, tests) in enumerate(collected.items()):
            results, note = _pytest(
                ["--rootdir", str(file.parent), "--submission", str(target), *limits, str(file)],
                work,
                timeout,
                Path(scratch) / f"results-{number}.json",
            )
            if results is None:  # every test of the file scores 0, with why
                report.notes.append(f"{file.name}: {note}")
                results = {"tests": [{**t, "outcome": "failed", "message": note} for t in tests]}
            for name, run in results.get("notebooks", {}).items():
                report.notes += [f"{name}: {problem}" for problem in run["problems"]]
            report.tests += results["tests"]
    report.notes = list(dict.fromkeys(report.notes))  # the visible and hidden runs say the same
    return report


def grade(
    submissions, out, tests=None, timeout=TIMEOUT, cell_timeout=None, test_timeout=None, log=print
):
    """Grade every submission in the folder ``submissions`` and write the reports into ``out``;
    returns the :class:`StudentReport` list. ``timeout`` bounds one student's run of one test
    file; ``cell_timeout`` and ``test_timeout`` one cell of the notebook and one test (default:
    the plugin's, 60 s)."""
    limits = []
    if cell_timeout is not None:
        limits += ["--cell-timeout", str(cell_timeout)]
    if test_timeout is not None:
        limits += ["--test-timeout", str(test_timeout)]
    students = submissions_in(submissions)
    collected = submitted(collect(grading_files(tests)), students.values())
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    reports = []
    for student, path in students.items():
        report = grade_student(student, path, collected, timeout, limits)
        reports.append(report)
        stem = _file_name(student)
        (out / f"{stem}.md").write_text(report.markdown(), encoding="utf-8")
        (out / f"{stem}.json").write_text(json.dumps(report.to_json(), indent=1), "utf-8")
        log(f"{student}: {report.total:g} / {report.possible:g}")
    write_summary(reports, out)
    return reports


def _file_name(student):
    return re.sub(r"[^\w.-]+", "_", student) or "student"


def write_summary(reports, out):
    """``summary.csv``, ``summary.md`` and ``summary.json``: the class, one row per student."""
    exercises = list(dict.fromkeys(e for r in reports for e in r.exercises()))
    possible = {e: max(r.exercises().get(e, [0, 0])[1] for r in reports) for e in exercises}
    rows = [
        {
            "student": r.student,
            **{e: r.exercises().get(e, [0, 0])[0] for e in exercises},
            "total": r.total,
            "possible": r.possible,
        }
        for r in reports
    ]
    with open(out / "summary.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=["student", *exercises, "total", "possible"])
        writer.writeheader()
        writer.writerows(rows)
    means = {e: sum(row[e] for row in rows) / len(rows) for e in exercises}
    full = {e: sum(row[e] == possible[e] for row in rows) for e in exercises}
    (out / "summary.json").write_text(
        json.dumps(
            {
                "students": rows,
                "exercises": {
                    e: {"possible": possible[e], "mean": means[e], "full_marks": full[e]}
                    for e in exercises
                },
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    head = ["student", *exercises, "total"]
    lines = [
        f"# Class summary: {len(rows)} submissions",
        "",
        "| " + " | ".join(head) + " |",
        "| --- |" + " ---: |" * (len(head) - 1),
    ]
    for row in rows:
        cells = [f"[{row['student']}]({_file_name(row['student'])}.md)"]
        cells += [f"{row[e]:g}" for e in exercises] + [f"{row['total']:g} / {row['possible']:g}"]
        lines.append("| " + " | ".join(cells) + " |")
    total = sum(possible.values())
    mean_total = sum(row["total"] for row in rows) / len(rows)
    lines.append(
        "| *mean* | "
        + " | ".join(f"{means[e]:.3g} / {possible[e]:g}" for e in exercises)
        + f" | {mean_total:.3g} / {total:g} |"
    )
    lines += ["", "Full marks per exercise: " + ", ".join(f"{e} {full[e]}" for e in exercises)]
    (out / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def summary_table(reports):
    """The class's points as a text table, for the terminal."""
    exercises = list(dict.fromkeys(e for r in reports for e in r.exercises()))
    width = max(len("student"), *(len(r.student) for r in reports))
    lines = ["student".ljust(width) + "".join(f"  {e}" for e in exercises) + "  total"]
    for r in reports:
        table = r.exercises()
        cells = "".join(
            f"  {f'{table[e][0]:g}/{table[e][1]:g}' if e in table else '-':>{len(e)}}"
            for e in exercises
        )
        lines.append(f"{r.student:<{width}}{cells}  {r.total:g}/{r.possible:g}")
    return "\n".join(lines)
