"""What the figure scripts of the documentation share: where the PNGs go, their size and
palette, a blank figure, saving (scaled down and with 256 colours, at most about 125 KB) and the
MNIST data, read once.

Saving also writes the figure as SVG for slides, into ``img/svg/``, when ``FORMATS`` holds
``"svg"`` (``make_figures.py --svg``, or ``--svg-only`` to leave the PNGs as they are): the same
drawing with no text under ``SLIDE_POINTS`` (legends, ticks and notes grow; titles keep their
size, so that nothing collides), the glyphs drawn as paths so that a slide needs no font. Placed
across a 13.3-inch slide, a 7.5-inch figure's smallest text shows at about 20 points, a 10-inch
one's at about 15.
"""

from pathlib import Path

import matplotlib
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

from barenet import load_and_preprocess_mnist

IMG = Path(__file__).resolve().parent / "img"
SVG = IMG / "svg"
SLIDE_POINTS = 11  # the SVGs' smallest text: the pages' legends and notes are 8 or 9 points
FORMATS = {"png"}  # what save() writes: "png" (docs/img) and/or "svg" (docs/img/svg)
DPI = 90
MAX_WIDTH = 1100  # pixels, for the study figures barenet draws at 120 dpi
BLUE, ORANGE, GREEN, RED, PURPLE = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"


def figure(width, height):
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def save(fig, name):
    path = IMG / name
    if "png" in FORMATS:
        fig.savefig(path, format="png")
        shrink(path)
    if "svg" in FORMATS:
        save_svg(fig, name)
    return path


def save_svg(fig, name, points=SLIDE_POINTS):
    """``fig`` as ``img/svg/<name>.svg`` for slides, no text smaller than ``points`` (the
    constrained layout makes room for it); no date in the file, so a redraw changes nothing.
    Call it after the PNG is saved: the figure keeps the larger text."""
    SVG.mkdir(exist_ok=True)
    for artist in fig.findobj(Text):
        if artist.get_text() and artist.get_fontsize() < points:
            artist.set_fontsize(points)
    path = SVG / f"{Path(name).stem}.svg"
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "barenet"}):
        fig.savefig(path, format="svg", metadata={"Date": None})
    return path


def shrink(path):
    """Scale ``path`` down to MAX_WIDTH pixels and store it with a 256-colour palette."""
    with Image.open(path) as image:
        image = image.convert("RGB")
        if image.width > MAX_WIDTH:
            height = round(image.height * MAX_WIDTH / image.width)
            image = image.resize((MAX_WIDTH, height), Image.Resampling.LANCZOS)
        image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=0)
        image.save(path, optimize=True)


_DATA = {}


def mnist():
    if not _DATA:
        keys = ("X_train", "X_val", "X_test", "y_train", "y_val", "y_test")
        _DATA.update(zip(keys, load_and_preprocess_mnist()))
    return _DATA
