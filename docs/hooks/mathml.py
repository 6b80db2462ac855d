"""MkDocs hook: turn the LaTeX that pymdownx.arithmatex marks into MathML at build time.

arithmatex (generic mode) wraps inline formulas as ``<span class="arithmatex">\\(...\\)</span>``
and display formulas as ``<div class="arithmatex">\\[...\\]</div>``. This hook replaces each
with the MathML that latex2mathml produces, which browsers draw natively: the site needs no
JavaScript and no network to show its formulas. A formula that cannot be converted is logged
as a warning, so ``mkdocs build --strict`` fails on it.
"""

import html
import logging
import re
import xml.etree.ElementTree as ET

log = logging.getLogger("mkdocs.hooks.mathml")

_MATH = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*(?:\\\((?P<inline>.*?)\\\)|\\\[(?P<block>.*?)\\\])'
    r"\s*</(?P=tag)>",
    re.DOTALL,
)


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
            mathml = convert(tex, display="block" if block else "inline")
            tree = ET.fromstring(mathml)  # well-formed: latex2mathml passes some input raw
            unknown = [el.text for el in tree.iter() if el.text and "\\" in el.text]
            if unknown:
                raise ValueError(f"unsupported commands {unknown}")
        except Exception as exc:  # any failure is the page author's to fix
            log.warning("%s: cannot convert formula %r: %s", page.file.src_uri, tex, exc)
            return match.group(0)
        tag = "div" if block else "span"
        return f'<{tag} class="arithmatex">{mathml}</{tag}>'

    return _MATH.sub(replace, html_text)
