"""The drawing page as the server sends it: ``static/index.html`` with the model's own parts
filled in on the server, so that the page says something true even with JavaScript off.

The model card (in words: :func:`~.card.card_lines`), one probability bar per class and the
class choices of the "that was wrong" menus are written into the HTML once, when the app is
made; ``static/app.js`` only updates them.
"""

from html import escape
from pathlib import Path

STATIC = Path(__file__).parent / "static"
# Where the server's parts go in index.html (HTML comments, so the file is valid as it is).
MARKERS = ("<!--card-->", "<!--bars-->", "<!--class-options-->")


def render_page(card):
    """The page for a :class:`~.schemas.ModelCard`, as one HTML string."""
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    for marker in MARKERS:
        if html.count(marker) != 1:  # a broken template must fail when the app is made
            raise RuntimeError(f"index.html must hold {marker} once")
    names = card.class_names
    return (
        html.replace(MARKERS[0], _card_fields(card.lines))
        .replace(MARKERS[1], "\n".join(_bar(i, name) for i, name in enumerate(names)))
        .replace(MARKERS[2], "".join(_option(i, name) for i, name in enumerate(names)))
    )


def _card_fields(lines):
    """``<dt>label</dt><dd data-field=...>text</dd>`` for each line of the card."""
    return "\n".join(
        f'<dt>{escape(line.label)}</dt><dd data-field="{escape(line.field)}">'
        f"{escape(line.text)}</dd>"
        for line in lines
    )


def _bar(index, name):
    """One class's probability bar, empty: name, track and value, as app.js fills them."""
    return (
        f'<li class="bar" data-class-index="{index}" data-class-name="{escape(name)}" '
        f'data-probability="0"><span class="name">{escape(name)}</span>'
        '<span class="track"><span class="fill"></span></span>'
        '<span class="value">0%</span><span class="rank"></span></li>'
    )


def _option(index, name):
    return f'<option value="{index}">{escape(name)}</option>'
