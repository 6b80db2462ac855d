"""``barenet course``: build the student's and the teacher's editions of the course, and grade
a folder of submissions.

:func:`add_commands` registers it on the parser of :mod:`barenet.cli.main`; the work is done by
:mod:`barenet.course`, imported only when the command runs.
"""

from barenet.cli.parsing import HelpFormatter, add_command, number_in


def add_commands(commands):
    """Add ``course`` (``build``, ``grade``) to the subcommands of the ``barenet`` parser."""
    sub = add_command(
        commands,
        course_command,
        "build the student's and teacher's editions of the course, grade submissions",
        "barenet course build --out course/ && barenet course grade submissions/ --out report/",
    )
    actions = sub.add_subparsers(title="actions", dest="action", metavar="ACTION", required=True)
    build = actions.add_parser(
        "build",
        help="write the student's and the teacher's editions",
        description=_doc(build_command),
        epilog="example:\n  barenet course build --out course/",
        formatter_class=HelpFormatter,
    )
    build.set_defaults(run=build_command)
    build.add_argument(
        "--out",
        "-o",
        required=True,
        metavar="DIR",
        help="where to write them: DIR/student and DIR/teacher, replaced if they exist",
    )
    build.add_argument(
        "--source",
        metavar="DIR",
        help="the barenet checkout to build from (default: the one barenet is installed from, "
        "else the current folder)",
    )
    build.add_argument(
        "--no-site",
        action="store_true",
        help="skip the documentation sites (they need the docs extra: pip install '.[docs]')",
    )
    build.add_argument(
        "--requirement",
        metavar="SPEC",
        help="what the Classroom repository installs barenet from, as pip reads it "
        "(e.g. 'barenet @ git+https://github.com/you/barenet')",
    )
    grade = actions.add_parser(
        "grade",
        help="grade a folder of submissions: a report per student and for the class",
        description=_doc(grade_command),
        epilog="example:\n  barenet course grade submissions/ --out report/",
        formatter_class=HelpFormatter,
    )
    grade.set_defaults(run=grade_command)
    grade.add_argument(
        "submissions", metavar="SUBMISSIONS", help="one sub-folder or one .ipynb per student"
    )
    grade.add_argument("--out", "-o", required=True, metavar="DIR", help="where the reports go")
    grade.add_argument(
        "--tests",
        metavar="PATH",
        help="the grading tests, a folder or a file (default: the course's visible and hidden "
        "tests, installed with barenet)",
    )
    grade.add_argument(
        "--timeout",
        type=number_in(low=0, low_inclusive=False),
        default=300.0,
        metavar="SECONDS",
        help="time for one student's run of one test file; past it, its tests score 0",
    )


def _doc(function):
    import inspect

    return inspect.cleandoc(function.__doc__)


def course_command(args):
    """Build the student's and the teacher's editions of the course from the same sources (the
    site and the notebooks, the solutions removed for the student, a GitHub Classroom
    repository with the visible tests), or grade a folder of submissions offline with the
    visible and hidden tests, writing a report per student and a summary of the class."""
    raise AssertionError("unreachable: build and grade set their own run")


def build_command(args):
    """Write DIR/student and DIR/teacher from a barenet checkout: the documentation site (the
    solutions removed and the questions open for the student), the notebooks (nbgrader's
    solution regions replaced by its stubs, no outputs, for the student; the solutions in
    place for the teacher), the grading tests (the hidden ones only in the teacher's), and the
    student's GitHub Classroom repository with its autograding workflow."""
    from barenet.course.build import build

    build(args.out, source=args.source, with_site=not args.no_site, requirement=args.requirement)
    if not args.requirement:
        print(
            "note: classroom/requirements.txt installs barenet from a placeholder URL: give "
            "--requirement (or edit the file) before using it as a Classroom template"
        )
    return 0


def grade_command(args):
    """Grade each submission (a sub-folder or a notebook per student) with the course's
    pytest tests, offline: each student's notebook runs in a separate process with a time
    limit, so a notebook that is blank, crashes or hangs scores 0 for what it breaks and never
    stops the others. Writes DIR/<student>.md and .json (points per exercise, total, the
    checker's message for each failed test) and DIR/summary.csv, .md and .json."""
    from barenet.course.grade import grade, summary_table

    reports = grade(args.submissions, args.out, tests=args.tests, timeout=args.timeout)
    print(summary_table(reports))
    print(f"reports written to {args.out}")
    return 0
