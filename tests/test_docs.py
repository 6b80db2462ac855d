"""The documentation: every Python example on every page runs, and the site builds strictly.

Each page's ```python blocks run in order in one fresh Python process (so a block may use the
names of the blocks above it), in a temporary folder, with one BLAS thread. A failing block
fails the test with the page and the line where the block starts; the traceback's lines are the
page's lines. Blocks that only include barenet's source (``--8<--`` lines) are not examples.

```bash blocks are not run, but every ``barenet ...`` command in them must parse with the real
command-line parser, so the pages cannot show an option that does not exist.
"""

import argparse
import html
import importlib.util
import inspect
import json
import os
import re
import shlex
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import asdict, dataclass
from io import StringIO
from pathlib import Path

import pytest

import barenet
from barenet.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)")

RUNNER = """
import json, sys, traceback
blocks = json.load(open(sys.argv[1], encoding="utf-8"))
namespace = {"__name__": "__main__"}
for block in blocks:
    # Blank lines in front, so that tracebacks give the line numbers of the page.
    code = "\\n" * (block["line"] - 1) + block["source"]
    try:
        exec(compile(code, block["path"], "exec"), namespace)  # the traceback quotes the page
    except BaseException:
        traceback.print_exc()
        print(f"DOCS-BLOCK-FAILED {block['page']}:{block['line']}", file=sys.stderr)
        sys.exit(1)
"""


@dataclass
class Block:
    page: str  # path relative to the repository root
    line: int  # line of the page where the code starts (after the opening fence)
    language: str
    source: str


def code_blocks(path):
    """Every fenced code block of the Markdown file ``path``, dedented, in page order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        body, i = [], i + 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        start = i - len(body) + 1  # 1-based line of the first code line
        blocks.append(
            Block(
                page=str(path.relative_to(ROOT)),
                line=start,
                language=opening["info"].lower(),
                source="\n".join(body) + "\n",
            )
        )
        i += 1
    return blocks


def _included(block):
    """Whether ``block`` only includes barenet's source (``--8<-- "file:section"`` lines)."""
    lines = [line.strip() for line in block.source.splitlines() if line.strip()]
    return bool(lines) and all(line.startswith("--8<--") for line in lines)


PYTHON_PAGES = [
    p for p in PAGES if any(b.language == "python" and not _included(b) for b in code_blocks(p))
]


def test_the_pages_have_python_examples():
    names = {p.relative_to(DOCS).as_posix() for p in PYTHON_PAGES}
    assert {"getting-started.md", "how-it-works/backpropagation.md", "toolkit.md"} <= names


@pytest.mark.mnist
@pytest.mark.parametrize("page", PYTHON_PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_python_blocks_run(page, tmp_path):
    blocks = [b for b in code_blocks(page) if b.language == "python" and not _included(b)]
    blocks = [{**asdict(b), "path": str(ROOT / b.page)} for b in blocks]
    (tmp_path / "blocks.json").write_text(json.dumps(blocks))
    (tmp_path / "run_blocks.py").write_text(RUNNER)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(
        [sys.executable, tmp_path / "run_blocks.py", tmp_path / "blocks.json"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        where = re.search(r"DOCS-BLOCK-FAILED (\S+)", result.stderr)
        place = where.group(1) if where else str(page.relative_to(ROOT))
        pytest.fail(f"the block at {place} failed:\n{result.stderr[-4000:]}", pytrace=False)


def _parses(words):
    """Whether ``barenet words...`` is a valid command line (``--help`` counts as valid)."""
    out, err = StringIO(), StringIO()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            build_parser().parse_args(words)
    except SystemExit as exc:
        return exc.code == 0, err.getvalue().strip()
    return True, ""


def shell_commands():
    """``(page, line, words)`` of every ``barenet ...`` command in the pages' shell blocks."""
    commands = []
    for page in PAGES:
        for block in code_blocks(page):
            if block.language not in ("bash", "sh", "shell", "console"):
                continue
            lines = block.source.splitlines()
            i = 0
            while i < len(lines):
                start, line = i, lines[i]
                while line.endswith("\\") and i + 1 < len(lines):  # a continued line
                    i += 1
                    line = line[:-1] + " " + lines[i]
                i += 1
                for part in re.split(r"&&|\|", line):
                    words = shlex.split(part, comments=True)
                    if words and words[0] == "barenet":
                        commands.append((block.page, block.line + start, words[1:]))
    return commands


def test_shell_examples_use_real_commands_and_options():
    commands = shell_commands()
    assert len(commands) > 40
    failures = []
    for page, line, words in commands:
        ok, error = _parses(words)
        if not ok:
            failures.append(f"{page}:{line}: barenet {shlex.join(words)}\n    {error}")
    assert not failures, "commands that barenet does not accept:\n" + "\n".join(failures)


def test_the_cli_page_shows_every_command_and_option():
    sections = re.split(r"^## barenet ", (DOCS / "cli.md").read_text(encoding="utf-8"), flags=re.M)
    sections = {section.split()[0]: section for section in sections[1:]}
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert sorted(sections) == sorted(commands.choices)
    for name, command in commands.choices.items():
        options = [o for a in command._actions for o in a.option_strings if o.startswith("--")]
        missing = [o for o in options if o != "--help" and f"`{o}" not in sections[name]]
        assert not missing, f"docs/cli.md, barenet {name}: options not described: {missing}"


DOCS_MODULES = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python", "pymdownx")
DOCS_MODULES += ("latex2mathml",)


def test_site_builds_strictly(tmp_path):
    missing = [name for name in DOCS_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        message = f"documentation tools missing ({missing}): pip install -e '.[docs]'"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    pages = {p: p.read_text(encoding="utf-8") for p in site.rglob("*.html")}
    assert len(pages) >= len(PAGES)
    for path, text in pages.items():
        assert "--8<--" not in text, f"{path}: a snippet was not included"
        assert "\\(" not in text and "\\[" not in text, f"{path}: a formula was left as LaTeX"
    backprop = pages[site / "how-it-works" / "backpropagation" / "index.html"]
    assert "<math" in backprop
    text = html.unescape(re.sub(r"<[^>]+>", "", backprop))  # the code, without highlighting
    assert "np.matmul(self.X.T, dY, out=self.dW)" in text  # included from barenet/layers.py


def test_the_reference_describes_every_constructor_argument():
    # The class docstring's Parameters section is not in numpy's format, so the reference page
    # lists the arguments itself (docs/reference/network.md): it must keep up with the code.
    page = (DOCS / "reference" / "network.md").read_text(encoding="utf-8")
    arguments = inspect.signature(barenet.NeuralNetwork).parameters
    missing = [name for name in arguments if f"`{name}`" not in page]
    assert not missing, f"docs/reference/network.md does not describe {missing}"
