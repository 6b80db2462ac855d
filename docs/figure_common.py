"""What the figure scripts of the documentation share: where the PNGs go, their size and
palette, a blank figure, saving (scaled down and with 256 colours, at most about 125 KB) and the
MNIST data, read once."""

from pathlib import Path

from matplotlib.figure import Figure
from PIL import Image

from barenet import load_and_preprocess_mnist

IMG = Path(__file__).resolve().parent / "img"
DPI = 90
MAX_WIDTH = 1100  # pixels, for the study figures barenet draws at 120 dpi
BLUE, ORANGE, GREEN, RED, PURPLE = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"


def figure(width, height):
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def save(fig, name):
    path = IMG / name
    fig.savefig(path, format="png")
    shrink(path)
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
