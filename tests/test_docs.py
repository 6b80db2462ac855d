"""The documentation: every Python example on every page runs, and the site builds strictly.

Each page's ```python blocks run in order in one fresh Python process (so a block may use the
names of the blocks above it), in a temporary folder, with one BLAS thread. A failing block
fails the test with the page and the line where the block starts; the traceback's lines are the
page's lines. Blocks that only include barenet's source (``--8<--`` lines) are not examples.

What a block prints is checked against the comments that state it (*output comments*):

- the comment at the end of a line that calls ``print(...)`` is what that call prints
  (``print(r2)  # 0.905``); a note about the line goes on a comment line above it;
- comment lines directly under a statement that prints (a ``print`` call, or a loop or ``with``
  whose body prints), at that statement's indentation, are its output, one printed line per
  comment line; a comment about the code that follows a print is separated by a blank line.

The comment and the output are compared token by token (numbers, words, single characters;
spaces and line breaks do not count):

- a number agrees to the digits written: ``0.905`` accepts 0.904 to 0.906 (one unit of its last
  digit, for rounding and the last bits of a parallel sum), ``4.5e-12`` accepts 4.4e-12 to
  4.6e-12, an integer (``109386``, ``23``) only itself;
- ``~1e-10`` is an order of magnitude: a number of the same sign within a factor of 10 of it
  (from 1e-11 to 1e-9), for the errors of a float computation, which vary from one machine to
  the next;
- ``...`` stands for any text, or none (``{'loss': ..., 'r2': 0.905}``).

A statement with an output comment that never printed fails too. ``PROSE_COMMENTS`` lists the
comments on print lines of pages still written the old way, as notes rather than outputs, which
are not compared; the list may only shrink.

```bash blocks are not run, but every ``barenet ...`` command in them must parse with the real
command-line parser, so the pages cannot show an option that does not exist.

The built site is opened from disk in headless Chromium (when Playwright and Debian's Chromium
are there): no display formula may scroll or clip, no code block may run past the column at
1,280 pixels, and the search must answer without a server. Its formulas are MathML that
Chromium draws right (docs/hooks/mathml.py: bold and double-struck characters, an upright d,
limits under a sum), in a font in which brackets and sums grow with what they hold; a nested
list is indented by four spaces, or Python-Markdown runs it into the paragraph. The pages keep
one notation (the one-hot labels are T, a finite difference steps by h = 1e-5), and every
How-it-works page has exercises with their solutions.
"""

import argparse
import ast
import html
import importlib.util
import inspect
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tokenize
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
import builtins, io, json, sys, traceback
blocks, record = json.load(open(sys.argv[1], encoding="utf-8")), sys.argv[2]
printed = []  # [page line of the print call, the text it printed], for the output comments
print_to = builtins.print


def recording_print(*args, **kwargs):
    if kwargs.get("file") not in (None, sys.stdout):
        return print_to(*args, **kwargs)
    text = io.StringIO()
    print_to(*args, **{**kwargs, "file": text})
    caller = sys._getframe(1)
    if caller.f_code.co_filename == blocks[0]["path"]:  # the page's code, not barenet's
        printed.append([caller.f_lineno, text.getvalue()])
    sys.stdout.write(text.getvalue())


builtins.print = recording_print
namespace = {"__name__": "__main__"}
try:
    for block in blocks:
        # Blank lines in front, so that tracebacks give the line numbers of the page.
        code = "\\n" * (block["line"] - 1) + block["source"]
        try:
            exec(compile(code, block["path"], "exec"), namespace)  # the traceback quotes the page
        except BaseException:
            traceback.print_exc()
            print(f"DOCS-BLOCK-FAILED {block['page']}:{block['line']}", file=sys.stderr)
            sys.exit(1)
finally:
    json.dump(printed, open(record, "w", encoding="utf-8"))
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


README = ROOT / "README.md"
# The README's examples run too: its hand-written training loop is the first code a user copies.
PYTHON_PAGES = [
    p
    for p in [README, *PAGES]
    if any(b.language == "python" and not _included(b) for b in code_blocks(p))
]


def test_the_pages_have_python_examples():
    names = {p.relative_to(ROOT).as_posix() for p in PYTHON_PAGES}
    assert {"README.md", "docs/getting-started.md", "docs/toolkit.md"} <= names
    assert "docs/how-it-works/backpropagation.md" in names


def test_the_readme_is_a_short_front_door_with_the_loop_in_it():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200, "the README is a front door: measurements go to docs/"
    loop = [b.source for b in code_blocks(README) if "net.optimizer.step(" in b.source]
    assert loop and "net.backprop(" in loop[0], "the README shows the training loop by hand"
    toolkit = (DOCS / "toolkit.md").read_text(encoding="utf-8")
    assert "net.optimizer.step(net.params, net.grads)" in toolkit


# -- output comments: what a page says its code prints ------------------------------------------


@dataclass
class Claim:
    """An output comment: ``expected`` is what the statement on page lines ``first`` to ``last``
    prints; ``line`` is the line of the comment."""

    page: str
    line: int
    first: int
    last: int
    expected: str


def _is_print(node):
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
    )


def output_claims(block):
    """The output comments of the Python ``block`` (see the module docstring), in page lines."""
    comments = {}  # line of the block -> (column, text, whether the comment is alone on its line)
    for token in tokenize.generate_tokens(StringIO(block.source).readline):
        if token.type == tokenize.COMMENT:
            row, column = token.start
            comments[row] = (column, token.string[1:].strip(), not token.line[:column].strip())
    shift, claims = block.line - 1, []
    for node in ast.walk(ast.parse(block.source)):
        if not isinstance(node, ast.stmt) or not any(map(_is_print, ast.walk(node))):
            continue
        first, last = node.lineno + shift, node.end_lineno + shift
        trailing = comments.get(node.end_lineno)
        if isinstance(node, ast.Expr) and _is_print(node.value) and trailing and not trailing[2]:
            claims.append(Claim(block.page, last, first, last, trailing[1]))
        below, row = [], node.end_lineno + 1
        while row in comments and comments[row][2] and comments[row][0] == node.col_offset:
            below.append(comments[row][1])
            row += 1
        if below:
            claims.append(Claim(block.page, last + 1, first, last, "\n".join(below)))
    return claims


NUMBER = r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?"
TOKEN = re.compile(rf"(?P<any>\.\.\.)|(?P<approx>~)?(?P<number>{NUMBER})|(?P<other>[^\W\d]\w*|\S)")


def _tokens(text, comment):
    """``text`` as tokens: ``("any",)``, ``("number", text, approx)`` or ``("text", text)``; in
    printed output (``comment`` false) ``...`` and ``~`` are text like any other."""
    tokens = []
    for match in TOKEN.finditer(text):
        if match["any"]:
            tokens.append(("any",) if comment else ("text", "..."))
        elif match["number"]:
            if match["approx"] and not comment:
                tokens.append(("text", "~"))
            tokens.append(("number", match["number"], bool(match["approx"]) and comment))
        else:
            tokens.append(("text", match["other"]))
    return tokens


def numbers_agree(written, printed, approx=False):
    """Whether the printed number agrees with the ``written`` one to the digits written: exactly
    for an integer, within one unit of the last digit otherwise, within a factor of 10 for
    ``~written`` (an order of magnitude)."""
    want, got = float(written), float(printed)
    if approx:
        return want * got > 0 and 0.1 <= got / want <= 10
    mantissa, _, exponent = written.lower().partition("e")
    if "." not in mantissa and not exponent:
        return got == want
    unit = 10.0 ** (int(exponent or 0) - len(mantissa.partition(".")[2]))
    return abs(got - want) <= unit * (1 + 1e-9)


def output_matches(comment, output):
    """Whether ``output`` is what ``comment`` says, token by token (the module docstring)."""
    want, got = _tokens(comment, True), _tokens(output, False)
    reachable = {0}  # how many printed tokens the comment's tokens so far can account for
    for token in want:
        if token[0] == "any":
            reachable = set(range(min(reachable), len(got) + 1)) if reachable else set()
            continue
        reachable = {
            j + 1
            for j in reachable
            if j < len(got)
            and got[j][0] == token[0]
            and (
                numbers_agree(token[1], got[j][1], token[2])
                if token[0] == "number"
                else got[j][1] == token[1]
            )
        }
    return len(got) in reachable


# Comments on print lines written as notes, not outputs, on pages not converted yet: page ->
# comments. Each is skipped by the comparison; convert a page's comments, then drop its entries.
PROSE_COMMENTS = {}


def test_output_comments_compare_numbers_to_the_digits_written():
    assert output_matches("0.905", "0.9050971383643994\n")
    assert output_matches("{'loss': ..., 'r2': 0.905}", "{'loss': 0.0587, 'r2': 0.90509}")
    # The regression page's old comment, against what its block printed.
    old = '{"loss": ..., "r2": ...}: R^2 above 0.95'
    assert not output_matches(old, "{'loss': 0.05875182916194455, 'r2': 0.9050971383643994}")
    assert not output_matches("{'loss': ..., 'r2': 0.95}", "{'loss': 0.0587, 'r2': 0.905}")
    assert output_matches("[-0.475 -0.95 ] -0.475", "[-0.475 -0.95 ] -0.475")
    assert not output_matches("0.906", "0.904") and output_matches("0.906", "0.905")
    assert output_matches("23", "23") and not output_matches("23", "22")  # integers exactly
    assert output_matches("1.1", "1.05") and not output_matches("1.1", "0.4")
    assert output_matches("~1e-10", "2.7e-11") and not output_matches("~1e-10", "1.2e-9")
    assert not output_matches("~1e-16", "0.0")
    assert output_matches("4.5e-12", "4.4e-12") and not output_matches("4.5e-12", "4.3e-12")
    assert output_matches("True", "True\n") and not output_matches("True", "False")
    assert output_matches("... 2 of 3 ...", "dense: 2 of 3 gradients right\n  dX ok")
    assert not output_matches("['db']", "['db', 'dW']") and output_matches("[...]", "[]")


def test_output_comments_are_read_from_print_lines_and_the_lines_under_them():
    source = """x = 1  # not a print: a note
print(x)  # 1
# a note about the next line

for i in range(2):
    print(i)
# 0
# 1
print(
    x + 1,
)  # 2
print(x)
"""
    block = Block(page="p.md", line=10, language="python", source=source)
    claims = [(c.line, c.first, c.last, c.expected) for c in output_claims(block)]
    assert sorted(claims) == [
        (11, 11, 11, "1"),
        (12, 11, 11, "a note about the next line"),  # under a print: read as its output
        (16, 14, 15, "0\n1"),
        (20, 18, 20, "2"),
    ]


@pytest.mark.mnist
@pytest.mark.parametrize("page", PYTHON_PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_python_blocks_run_and_print_what_their_comments_say(page, tmp_path):
    blocks = [b for b in code_blocks(page) if b.language == "python" and not _included(b)]
    (tmp_path / "blocks.json").write_text(
        json.dumps([{**asdict(b), "path": str(ROOT / b.page)} for b in blocks])
    )
    (tmp_path / "run_blocks.py").write_text(RUNNER)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(
        [sys.executable, tmp_path / "run_blocks.py", tmp_path / "blocks.json", tmp_path / "out"],
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
    printed = json.loads((tmp_path / "out").read_text(encoding="utf-8"))
    failures = []
    for claim in (c for b in blocks for c in output_claims(b)):
        if claim.expected in PROSE_COMMENTS.get(claim.page, ()):
            continue
        output = "".join(text for line, text in printed if claim.first <= line <= claim.last)
        if not output_matches(claim.expected, output):
            shown = "\n      ".join(output.rstrip("\n").splitlines()) or "(nothing)"
            failures.append(f"{claim.page}:{claim.line}: # {claim.expected}\n    printed: {shown}")
    assert not failures, "output comments that the code does not print:\n" + "\n".join(failures)


def test_the_prose_comments_still_exist():
    for page, comments in PROSE_COMMENTS.items():
        blocks = [b for b in code_blocks(ROOT / page) if b.language == "python"]
        found = {c.expected for b in blocks if not _included(b) for c in output_claims(b)}
        missing = set(comments) - found
        assert not missing, f"{page}: no longer has {missing}: drop them from PROSE_COMMENTS"


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


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built once with ``mkdocs build --strict``: ``(folder, result)``."""
    missing = [name for name in DOCS_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        message = f"documentation tools missing ({missing}): pip install -e '.[docs]'"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("docs") / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return folder, result


def test_site_builds_strictly(site):
    site, result = site
    assert result.returncode == 0, result.stderr
    pages = {p: p.read_text(encoding="utf-8") for p in site.rglob("*.html")}
    assert len(pages) >= len(PAGES)
    for path, text in pages.items():
        assert "--8<--" not in text, f"{path}: a snippet was not included"
        assert "\\(" not in text and "\\[" not in text, f"{path}: a formula was left as LaTeX"
    # Pages are files, so that the site opened from disk follows its own links.
    backprop = pages[site / "how-it-works" / "backpropagation.html"]
    assert "<math" in backprop
    text = html.unescape(re.sub(r"<[^>]+>", "", backprop))  # the code, without highlighting
    assert "np.matmul(self.X.T, dY, out=self.dW)" in text  # included from barenet/layers.py
    for path, text in pages.items():
        links = re.findall(r'href="([^"#:?]+)(?:#[^"]*)?"', text)
        folders = [link for link in links if link.endswith("/") and "://" not in link]
        assert not folders, f"{path}: links to folders, which a browser on disk cannot open"
        assert "unpkg.com" not in text and "cdn." not in text, f"{path}: needs the network"
    reference = pages[site / "reference" / "network.html"]
    assert re.search(r"doc-signature.*?input_size.*?\n.*?hidden_sizes", reference, re.S), (
        "API signatures are not formatted on several lines (ruff, in the docs extra)"
    )


def test_formulas_are_written_for_the_browsers_mathml(site):
    # Chromium implements MathML Core: no mathvariant but "normal", a one-letter <mi> in italics,
    # limits where the MathML puts them. docs/hooks/mathml.py writes what it draws right.
    folder, result = site
    assert result.returncode == 0, result.stderr
    backprop = (folder / "how-it-works" / "backpropagation.html").read_text(encoding="utf-8")
    assert "\U0001d7cf" in backprop and "\U0001d7d9" in backprop  # \mathbf{1}, \mathbb{1}
    assert "<mtext>d</mtext>" in backprop  # \mathrm{d}, upright
    toolkit = (folder / "toolkit.html").read_text(encoding="utf-8")
    assert re.search(r"<munder><mo>\u2211</mo><mi>k</mi></munder>", toolkit)  # \sum_k
    for path in folder.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for variant in re.findall(r'mathvariant="([^"]+)"', text):
            assert variant == "normal", f"{path.name}: mathvariant={variant!r} draws as normal"
        assert not re.search(r"<msub><mo>[\u2211\u220f]</mo>", text), f"{path.name}: \\sum_k"
    css = (DOCS / "css" / "extra.css").read_text(encoding="utf-8")
    assert re.search(r"\.md-typeset math \{[^}]*font-family:[^}]*Math", css)  # a MATH table


CHROMIUM = Path("/usr/bin/chromium")
MEASURE = """() => {
  const column = document.querySelector('.md-content__inner').getBoundingClientRect();
  const formulas = [...document.querySelectorAll('div.arithmatex')];
  const code = [...document.querySelectorAll('pre')].filter(el => el.offsetWidth > 0);
  const text = el => el.textContent.trim().slice(0, 60);
  return {
    formulas: formulas.length,
    scrolling: formulas.filter(el => el.scrollWidth > el.clientWidth
                                     || el.scrollHeight > el.clientHeight).map(text),
    code: code.length,
    past_column: code.filter(el => el.getBoundingClientRect().right > column.right + 1
                                   || el.scrollWidth > el.clientWidth + 1
                                   || (el.querySelector('code') || el).scrollWidth
                                      > (el.querySelector('code') || el).clientWidth + 1).map(text),
  };
}"""


@pytest.fixture(scope="module")
def chromium():
    playwright = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("no Chromium at /usr/bin/chromium")
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


def test_formulas_and_code_fit_the_column_in_chromium(site, chromium):
    folder, result = site
    assert result.returncode == 0, result.stderr
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    formulas, blocks, failures = 0, 0, []
    for path in sorted(folder.rglob("*.html")):
        if "assets" in path.parts or path.name == "404.html":
            continue
        page.goto(path.as_uri())
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        found = page.evaluate(MEASURE)
        formulas, blocks = formulas + found["formulas"], blocks + found["code"]
        name = path.relative_to(folder)
        failures += [f"{name}: formula scrolls or clips: {f}" for f in found["scrolling"]]
        failures += [f"{name}: code runs past the column: {c}" for c in found["past_column"]]
    page.close()
    assert formulas > 50 and blocks > 100  # the measure saw the pages
    assert not failures, "\n".join(failures)


STRETCH = """() => {
  const height = selector => [...document.querySelectorAll(selector)]
    .map(el => el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).fontSize));
  return {fences: height('div.arithmatex mo[stretchy="true"][fence="true"]'),
          sums: height('div.arithmatex munderover > mo:first-child'),
          inline: height('span.arithmatex mo')};
}"""


def test_braces_and_sums_grow_with_what_they_hold(site, chromium):
    # They grow only in a font with an OpenType MATH table, which docs/css/extra.css names;
    # without one Chromium drew every bracket and sum at the text's height.
    if shutil.which("fc-list") is None:
        pytest.skip("no fc-list to say which fonts are installed")
    fonts = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True).stdout
    css = (DOCS / "css" / "extra.css").read_text(encoding="utf-8")
    named = re.search(r"\.md-typeset math \{[^}]*font-family:([^;]*);", css)
    families = [name.strip(' "\n') for name in named.group(1).split(",")[:-1]] if named else []
    if families and not any(family in fonts for family in families):
        pytest.skip(f"none of the math fonts {families} is installed")
    folder, result = site
    assert result.returncode == 0, result.stderr
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto((folder / "toolkit.html").as_uri())  # batch norm: (...) around fractions
    toolkit = page.evaluate(STRETCH)
    page.goto((folder / "how-it-works" / "softmax-cross-entropy.html").as_uri())
    softmax = page.evaluate(STRETCH)
    page.close()
    normal = sorted(toolkit["inline"])[len(toolkit["inline"]) // 2]  # in em: an inline operator
    assert max(toolkit["fences"]) > 2 * normal, (toolkit["fences"], normal)
    assert max(softmax["sums"]) > 1.3 * normal, (softmax["sums"], normal)


def test_search_works_in_the_site_opened_from_disk(site, chromium):
    folder, result = site
    assert result.returncode == 0, result.stderr
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto((folder / "how-it-works" / "backpropagation.html").as_uri())
    page.keyboard.press("s")  # Material's shortcut to the search box
    page.keyboard.type("dropout")
    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=10_000)
    assert results.count() > 0
    page.close()


# -- one notation, and a course a teacher can hand out ------------------------------------------

HOW_IT_WORKS = sorted((DOCS / "how-it-works").glob("*.md"))
NOTEBOOK_FILES = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _sources():
    """``(name, text)`` of every page and of every notebook's cells."""
    for page in PAGES:
        yield str(page.relative_to(ROOT)), page.read_text(encoding="utf-8")
    for path in NOTEBOOK_FILES:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        yield path.name, "\n".join("".join(cell["source"]) for cell in cells)


def test_every_how_it_works_page_has_exercises_with_solutions():
    for page in HOW_IT_WORKS:
        if page.name == "notation.md":  # a reference page: its glossary is the exercise's key
            continue
        text = page.read_text(encoding="utf-8")
        questions = re.findall(r'^\?\?\? question "', text, flags=re.M)
        solutions = re.findall(r'^\?\?\? success "Solution"', text, flags=re.M)
        assert "## Exercises" in text, f"{page.name}: no exercises"
        assert len(questions) >= 3 and len(questions) == len(solutions), page.name


def test_one_notation_everywhere():
    for name, text in _sources():
        # Finite differences: the step is h = 1e-5 on every page and in every notebook.
        steps = re.findall(r"/ \(2 \* (\w+)\)", text)
        assert all(step == "h" for step in steps), f"{name}: finite-difference step {steps}"
        assert not re.search(r"\bh = 1e-(?!5\b)", text), f"{name}: a step other than 1e-5"
        # One-hot labels are T; Y is a layer's output.
        assert "Y = np.eye(" not in text, f"{name}: one-hot labels named Y (they are T)"
        assert not re.search(r"\(P - Y\)", text), f"{name}: P - Y (the one-hot labels are T)"
        # The penalties are lambda_2 and lambda_1, never l_2.
        assert "l_2" not in text and "l_1" not in text, f"{name}: l_2 (write \\lambda_2)"
    notation = (DOCS / "how-it-works" / "notation.md").read_text(encoding="utf-8")
    for symbol in (r"\(T\)", r"\(Y\)", r"\(L\)", r"\(D\)", r"\(\lambda_2,\ \lambda_1\)", r"\(h\)"):
        assert symbol in notation, f"the notation page does not define {symbol}"


def test_nested_lists_are_indented_by_four_spaces():
    # Python-Markdown nests a list only four spaces in; at two, the items run into the
    # paragraph above them (the web-app page's list of what it shows inside the network).
    for page in PAGES:
        inside = False  # in a code block or a display formula, where indentation means nothing
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if FENCE.match(line) or line.strip() in ("\\[", "\\]"):
                inside = not inside
            if not inside and re.match(r"^ {1,3}(\d+\.|[-*+]) ", line):
                pytest.fail(f"{page.relative_to(ROOT)}:{number}: a nested list needs 4 spaces")


def test_pages_name_no_developers_folder():
    for name, text in _sources():
        assert "shared/data" not in text, f"{name}: a path only barenet's developers have"


def test_the_docs_extra_holds_what_the_pages_import():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 and later
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names = {re.split(r"[<>=~\[ ]", requirement)[0] for requirement in extra["docs"]}
    imports = set()
    for page in PYTHON_PAGES:
        for block in code_blocks(page):
            imports |= set(re.findall(r"^\s*(?:from|import) (\w+)", block.source, flags=re.M))
    if "sklearn" in imports:
        assert "scikit-learn" in names
    assert "ruff" in names or "black" in names  # mkdocstrings formats the signatures with it


def test_the_reference_describes_every_constructor_argument():
    # The class docstring's Parameters section is not in numpy's format, so the reference page
    # lists the arguments itself (docs/reference/network.md): it must keep up with the code.
    page = (DOCS / "reference" / "network.md").read_text(encoding="utf-8")
    arguments = inspect.signature(barenet.NeuralNetwork).parameters
    missing = [name for name in arguments if f"`{name}`" not in page]
    assert not missing, f"docs/reference/network.md does not describe {missing}"
