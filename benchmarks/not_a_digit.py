"""How often the page says "this does not look like a digit": on digits, and on things that are not.

Run from the repository root, with one or more model files (the presets: ``barenet train`` and
``barenet train --model cnn``)::

    python benchmarks/not_a_digit.py mlp.npz cnn.npz
    python benchmarks/not_a_digit.py mlp.npz --digits 2000 --others 200    # quicker

Every picture is made as the page would send it, 280x280, white ink on black, then prepared by
the server's own code (:func:`barenet.serve.inputs.image_stages`) and judged by its own check
(:class:`barenet.serve.digits.DigitCheck`), the one ``POST /predict`` and ``POST /explain`` use:

- digits: MNIST validation digits (the calibration set: the thresholds of
  :mod:`barenet.serve.digits` were chosen on it) and test digits (held out), enlarged ten times;
  and test digits traced with the page's pen, one stroke per run of ink in each row, as the
  browser test draws them;
- letters in Pillow's own font (``ImageFont.load_default``), upper and lower case, 120 to 260
  pixels tall, leaving out those that are also digits (O, I, l, Z, S, B, b, G, g, q);
- letters drawn with pen strokes (A E F H K L M N P R T U V W X Y), slanted and shaken;
- scribbles: a pen stroke through 8 to 25 random points;
- blobs: filled ellipses and polygons, and patches scrubbed in with many strokes;
- near-blank pictures: a tap of the pen, a short dash, a few specks, a faint smudge.

For each model, the table gives the share of each set flagged "not a digit", by all rules
together and by each rule alone; then the ink statistics of the validation digits the
thresholds come from. This is a measurement, not a test. MNIST is found by barenet's own
lookup (``BARENET_DATA``).
"""

import argparse
import io
import sys
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from barenet import load_and_preprocess_mnist, load_model
from barenet.errors import DataError
from barenet.serve import digits
from barenet.serve.inputs import image_stages

SIDE = 280  # the page's canvas
PEN = 20
# Letters that are not also written as digits (O 0, I l 1, Z 2, S 5, B 8, b G 6, g q 9).
FONT_LETTERS = "ACEFHKLMNPRTUVWXYadefhkmnprtuvwxy"
# Letters as pen strokes in a unit box (x right, y down).
STROKE_LETTERS = {
    "A": [[(0.1, 1), (0.5, 0), (0.9, 1)], [(0.28, 0.6), (0.72, 0.6)]],
    "E": [[(0.85, 0), (0.15, 0), (0.15, 1), (0.85, 1)], [(0.15, 0.5), (0.7, 0.5)]],
    "F": [[(0.85, 0), (0.15, 0), (0.15, 1)], [(0.15, 0.5), (0.7, 0.5)]],
    "H": [[(0.15, 0), (0.15, 1)], [(0.85, 0), (0.85, 1)], [(0.15, 0.5), (0.85, 0.5)]],
    "K": [[(0.2, 0), (0.2, 1)], [(0.85, 0), (0.2, 0.55)], [(0.4, 0.4), (0.85, 1)]],
    "L": [[(0.2, 0), (0.2, 1), (0.85, 1)]],
    "M": [[(0.05, 1), (0.15, 0), (0.5, 0.7), (0.85, 0), (0.95, 1)]],
    "N": [[(0.15, 1), (0.15, 0), (0.85, 1), (0.85, 0)]],
    "P": [[(0.2, 1), (0.2, 0), (0.7, 0.05), (0.85, 0.25), (0.7, 0.45), (0.2, 0.5)]],
    "R": [
        [(0.2, 1), (0.2, 0), (0.7, 0.05), (0.8, 0.25), (0.7, 0.45), (0.2, 0.5)],
        [(0.45, 0.5), (0.85, 1)],
    ],
    "T": [[(0.05, 0), (0.95, 0)], [(0.5, 0), (0.5, 1)]],
    "U": [[(0.15, 0), (0.15, 0.75), (0.3, 0.95), (0.5, 1), (0.7, 0.95), (0.85, 0.75), (0.85, 0)]],
    "V": [[(0.1, 0), (0.5, 1), (0.9, 0)]],
    "W": [[(0.0, 0), (0.25, 1), (0.5, 0.3), (0.75, 1), (1.0, 0)]],
    "X": [[(0.1, 0), (0.9, 1)], [(0.9, 0), (0.1, 1)]],
    "Y": [[(0.1, 0), (0.5, 0.5), (0.9, 0)], [(0.5, 0.5), (0.5, 1)]],
}
RULES = ["small", "blob", "loops", "ink", "weak"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", help="model files reading MNIST digits")
    parser.add_argument("--digits", type=int, default=10000, help="validation and test digits")
    parser.add_argument("--others", type=int, default=500, help="pictures of each other kind")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    _, X_val, X_test, _, _, _ = load_and_preprocess_mnist()
    rng = np.random.default_rng(args.seed)
    pictures = {
        "validation digits": [enlarged(x) for x in X_val[: args.digits]],
        "test digits": [enlarged(x) for x in X_test[: args.digits]],
        "traced test digits": [traced(x) for x in X_test[-min(args.digits, 2000) :]],
        "font letters": [font_letter(rng) for _ in range(args.others)],
        "stroke letters": [stroke_letter(rng) for _ in range(args.others)],
        "scribbles": [scribble(rng) for _ in range(args.others)],
        "blobs": [blob(rng) for _ in range(args.others)],
        "near-blank": [near_blank(rng) for _ in range(args.others)],
    }
    started = time.perf_counter()
    prepared = {name: prepare_all(images) for name, images in pictures.items()}
    print(
        f"prepared {sum(map(len, pictures.values()))} pictures in "
        f"{time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )

    for path in args.models:
        net = load_model(path)
        check = digits.DigitCheck(net)
        if not check.applies:
            print(f"{path}: the check does not apply (not a 28x28 digit reader)")
            continue
        if check.yardstick is None:
            print(f"\n{path}: {net.describe()}; reads too few reference digits: no energy rule")
        else:
            print(
                f"\n{path}: {net.describe()}; median energy on the reference digits "
                f"{check.yardstick:.2f}, weak under {digits.WEAK_ENERGY * check.yardstick:.2f}"
            )
        head = " ".join(f"{rule:>6}" for rule in RULES)
        print(f"{'':20} {'n':>6} {'refused':>8} {'flagged':>8} {head}")
        for name, items in prepared.items():
            flags = [rules(check, net, p) for p in items if p is not None]
            fired = np.array([[rule in f for rule in RULES] for f in flags])
            refused = sum(p is None for p in items)  # no ink at all: the server says so (422)
            flagged = (fired.any(axis=1).sum() + refused) / len(items)
            print(
                f"{name:20} {len(items):6} {refused:8} {flagged:8.1%} "
                + " ".join(f"{share:6.1%}" for share in fired.mean(axis=0))
            )

    statistics(prepared["validation digits"])


def rules(check, net, prepared):
    """The names of the rules that fire on one prepared picture."""
    x = prepared.input
    logits = net.forward(x[np.newaxis].astype(net.dtype))[0].astype(np.float64)
    image = x.reshape(digits.SHAPE).astype(np.float64)
    strength = digits.energy(logits[np.newaxis])[0]
    fired = {
        "small": prepared.ink_fraction < digits.SMALLEST_DRAWING,
        "blob": digits.stroke_width(image) > digits.WIDEST_STROKE
        or digits.ink_depth(image) >= digits.THICKEST_INK,
        "loops": digits.count_loops(image) > digits.MOST_LOOPS,
        "ink": image.sum() > digits.MOST_INK,
        "weak": check.yardstick is not None and strength < digits.WEAK_ENERGY * check.yardstick,
    }
    reasons = check.reasons(x, logits, prepared)
    assert bool(reasons) == any(fired.values()), (reasons, fired)  # the same rules as serve
    return {rule for rule, on in fired.items() if on}


def statistics(items):
    """The ink statistics of (validation) digits that the thresholds were read from."""
    items = [p for p in items if p is not None]
    images = [p.input.reshape(digits.SHAPE).astype(np.float64) for p in items]
    widths = np.array([digits.stroke_width(image) for image in images])
    ink = np.array([image.sum() for image in images])
    loops = np.array([digits.count_loops(image) for image in images])
    spans = np.array([p.ink_fraction for p in items])
    print(f"\nink statistics of {len(items)} validation digits (percentiles 0.3, 50, 99.7):")
    depths = np.array([digits.ink_depth(image) for image in images])
    rows = [("stroke width / 20", widths), ("ink (sum)", ink), ("span", spans), ("depth", depths)]
    for name, values in rows:
        low, mid, high = np.percentile(values, [0.3, 50, 99.7])
        print(f"  {name:18} {low:8.3f} {mid:8.3f} {high:8.3f}")
    print(
        "  closed loops       "
        + ", ".join(f"{k}: {share:.2%}" for k, share in enumerate(np.bincount(loops) / len(loops)))
    )


def prepare_all(images):
    out = []
    for image in images:
        try:
            out.append(image_stages(png(image), "picture", digits.SHAPE))
        except DataError:  # no ink at all
            out.append(None)
    return out


# -- the pictures ------------------------------------------------------------------------------


def png(image):
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def canvas():
    image = Image.new("L", (SIDE, SIDE), 0)
    return image, ImageDraw.Draw(image)


def stroke(draw, points, width=PEN):
    """A pen stroke through ``points``, with round ends as the page's pen draws it."""
    if len(points) > 1:
        draw.line(points, fill=255, width=width, joint="curve")
    for x, y in {points[0], points[-1]}:
        draw.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=255)


def enlarged(x):
    """An MNIST digit (784 values) as a 280x280 drawing: enlarged ten times, bicubic."""
    pixels = np.round(np.clip(x.reshape(28, 28), 0, 1) * 255).astype(np.uint8)
    return Image.fromarray(pixels).resize((SIDE, SIDE), Image.Resampling.BICUBIC)


def traced(x):
    """An MNIST digit traced with the page's pen: one stroke per run of ink in each row."""
    image, draw = canvas()
    for row, ink in enumerate(x.reshape(28, 28) > 0.5):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], ink.astype(np.int8), [0]])))
        for start, stop in zip(edges[::2], edges[1::2]):
            y = (row + 0.5) * 10
            stroke(draw, [((start + 0.5) * 10, y), ((stop - 0.5) * 10, y)])
    return image


def font_letter(rng):
    image, draw = canvas()
    letter = FONT_LETTERS[rng.integers(len(FONT_LETTERS))]
    font = ImageFont.load_default(size=int(rng.integers(120, 260)))
    left, top, right, bottom = draw.textbbox((0, 0), letter, font=font)
    x = (SIDE - (right - left)) / 2 - left + rng.normal(0, 10)
    y = (SIDE - (bottom - top)) / 2 - top + rng.normal(0, 10)
    width = int(rng.integers(0, 6))  # from the font's own strokes to a marker's
    draw.text((x, y), letter, fill=255, font=font, stroke_width=width, stroke_fill=255)
    return image


def stroke_letter(rng):
    image, draw = canvas()
    letter = list(STROKE_LETTERS)[rng.integers(len(STROKE_LETTERS))]
    width, height = rng.uniform(120, 220), rng.uniform(150, 240)
    left = (SIDE - width) / 2 + rng.normal(0, 10)
    top = (SIDE - height) / 2 + rng.normal(0, 10)
    slant = rng.normal(0, 0.1)
    pen = int(rng.integers(12, 28))
    for line in STROKE_LETTERS[letter]:
        points = [
            (
                left + (x + slant * (1 - y)) * width + rng.normal(0, 5),
                top + y * height + rng.normal(0, 5),
            )
            for x, y in line
        ]
        stroke(draw, points, pen)
    return image


def scribble(rng):
    image, draw = canvas()
    centre = rng.uniform(90, 190, 2)
    spread = rng.uniform(40, 110)
    n = int(rng.integers(8, 26))
    points = [tuple(np.clip(centre + rng.normal(0, spread, 2), 10, 270)) for _ in range(n)]
    stroke(draw, points, int(rng.integers(12, 28)))
    return image


def blob(rng):
    image, draw = canvas()
    kind = rng.integers(3)
    cx, cy = rng.uniform(80, 200, 2)
    if kind == 0:  # a filled ellipse
        rx, ry = rng.uniform(15, 110, 2)
        draw.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=255)
    elif kind == 1:  # a filled polygon
        angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(4, 9))))
        radii = rng.uniform(30, 110, len(angles))
        corners = [(cx + r * np.cos(a), cy + r * np.sin(a)) for a, r in zip(angles, radii)]
        draw.polygon(corners, fill=255)
    else:  # a patch scrubbed in with many thick strokes
        for _ in range(int(rng.integers(8, 20))):
            ends = [tuple(np.clip((cx, cy) + rng.normal(0, 35, 2), 5, 275)) for _ in range(2)]
            stroke(draw, ends, 28)
    return image


def near_blank(rng):
    image, draw = canvas()
    kind = rng.integers(4)
    x, y = rng.uniform(40, 240, 2)
    if kind == 0:  # a tap of the pen
        stroke(draw, [(x, y)])
    elif kind == 1:  # a short dash
        stroke(draw, [(x, y), (x + rng.normal(0, 20), y + rng.normal(0, 20))])
    elif kind == 2:  # a few specks
        for _ in range(int(rng.integers(2, 5))):
            stroke(draw, [tuple(rng.uniform(20, 260, 2))], int(rng.integers(4, 20)))
    else:  # a faint smudge
        r = rng.uniform(3, 12)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=int(rng.integers(60, 255)))
    return image


if __name__ == "__main__":
    main()
