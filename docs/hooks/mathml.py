"""MkDocs hook: turn the LaTeX that pymdownx.arithmatex marks into MathML at build time.

arithmatex (generic mode) wraps inline formulas as ``<span class="arithmatex">\\(...\\)</span>``
and display formulas as ``<div class="arithmatex">\\[...\\]</div>``. This hook replaces each
with the MathML that latex2mathml produces, which browsers draw natively: the site needs no
JavaScript and no network to show its formulas. A formula that cannot be converted is logged
as a warning, so ``mkdocs build --strict`` fails on it.

Browsers implement MathML Core, which is smaller than the MathML latex2mathml writes for, so
the hook mends what they would otherwise draw wrong (``docs/css/extra.css`` gives them a font
with the MATH table that stretchy braces, large operators and accents need):

- ``mathvariant="bold"`` or ``"double-struck"`` is ignored by Chromium (``\\mathbf{1}`` came
  out as a plain 1): the characters become their Unicode mathematical letters and digits;
- ``\\mathrm{d}`` is written as an ``mtext``, since a one-letter ``mi`` is drawn in italics;
- ``\\sum_k`` gets its limit *under* the sign in display formulas, as in TeX (latex2mathml
  writes a subscript unless both limits are given);
- ``\\log P`` gets TeX's thin spaces around the function's name.
"""

import html
import logging
import re
import xml.etree.ElementTree as ET

log = logging.getLogger("mkdocs.hooks.mathml")

NS = "http://www.w3.org/1998/Math/MathML"
ET.register_namespace("", NS)

_MATH = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*(?:\\\((?P<inline>.*?)\\\)|\\\[(?P<block>.*?)\\\])'
    r"\s*</(?P=tag)>",
    re.DOTALL,
)
_MATHRM = re.compile(r"\\mathrm\s*\{([A-Za-z]+)\}")

# Unicode's mathematical alphabets: (first character, last, code point of the first) per range.
_ALPHABETS = {
    "bold": [("A", "Z", 0x1D400), ("a", "z", 0x1D41A), ("0", "9", 0x1D7CE)],
    "double-struck": [("0", "9", 0x1D7D8)],  # its letters have gaps (ℝ...): latex2mathml's job
}
LARGE_OPERATORS = set("∑∏∐⋀⋁⋂⋃⨀⨁⨂⨄⨆")
OPENING = {"(", "[", "{", "|", "‖"}
FUNCTIONS = {"log", "ln", "exp", "sin", "cos", "tan", "tanh", "det"}  # \log...: an <mi>
_LIMITS = {"msub": "munder", "msup": "mover", "msubsup": "munderover"}


def _styled(text, variant):
    """``text`` in the Unicode alphabet of ``variant``, or None if it has a character without."""
    out = []
    for char in text:
        ranges = _ALPHABETS[variant]
        code = next((c + ord(char) - ord(lo) for lo, hi, c in ranges if lo <= char <= hi), None)
        if code is None:
            return None
        out.append(chr(code))
    return "".join(out)


def _is_mo(element, texts):
    return element.tag == f"{{{NS}}}mo" and (element.text or "").strip() in texts


def _thin_space():
    return ET.Element(f"{{{NS}}}mspace", width="0.1667em")


def mend(tree):
    """Rewrite, in place, what MathML Core browsers draw wrong in latex2mathml's ``tree``."""
    for element in tree.iter():
        variant = element.get("mathvariant")
        if variant in _ALPHABETS and element.text:
            styled = _styled(element.text, variant)
            if styled is not None:
                element.text = styled
                del element.attrib["mathvariant"]
        tag = element.tag.removeprefix(f"{{{NS}}}")
        base = element[0] if len(element) else None
        if tag in _LIMITS and base is not None and _is_mo(base, LARGE_OPERATORS):
            element.tag = f"{{{NS}}}{_LIMITS[tag]}"  # under/over; movable: scripts when inline
    for parent in list(tree.iter()):
        for i in range(len(parent) - 1, -1, -1):  # backwards: inserting keeps the rest in place
            child = parent[i]
            if not (child.tag == f"{{{NS}}}mi" and child.text in FUNCTIONS):
                continue
            # TeX's thin spaces around an operator name: x \log y, but \log(y) and -\log y
            after = parent[i + 1] if i + 1 < len(parent) else None
            if after is not None and not _is_mo(after, OPENING):
                parent.insert(i + 1, _thin_space())
            if i > 0 and parent[i - 1].tag != f"{{{NS}}}mo":
                parent.insert(i, _thin_space())
    return tree


def on_page_content(html_text, page, **kwargs):
    try:
        from latex2mathml.converter import convert
    except ImportError:
        log.warning("latex2mathml is not installed: formulas are left as LaTeX")
        return html_text

    def replace(match):
        block = match.group("block") is not None
        tex = html.unescape(match.group("block") if block else match.group("inline"))
        try:
            mathml = convert(
                _MATHRM.sub(r"\\text{\1}", tex), display="block" if block else "inline"
            )
            tree = ET.fromstring(mathml)  # well-formed: latex2mathml passes some input raw
            unknown = [el.text for el in tree.iter() if el.text and "\\" in el.text]
            if unknown:
                raise ValueError(f"unsupported commands {unknown}")
            mathml = ET.tostring(mend(tree), encoding="unicode")
        except Exception as exc:  # any failure is the page author's to fix
            log.warning("%s: cannot convert formula %r: %s", page.file.src_uri, tex, exc)
            return match.group(0)
        tag = "div" if block else "span"
        return f'<{tag} class="arithmatex">{mathml}</{tag}>'

    return _MATH.sub(replace, html_text)
