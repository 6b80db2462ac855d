"""Does it look like a digit? The "not a digit" state of the page and the API.

A network trained on digits always picks a digit: a scribble is an 8 at 95%, a letter A a 4 at
100%, a dot a 0. Its top probability does not tell them apart (a trained network is confident
far from its data). Two kinds of evidence do, each calibrated on MNIST's validation digits
drawn as the page sends them (``benchmarks/not_a_digit.py`` measures the rules and how often
they fire, on test digits and on letters, scribbles, blobs and near-blank pictures):

- the ink of the picture as the network sees it (28x28, after the page's preparation), against
  what MNIST's digits have: strokes far wider than a pen's (a blob, a dot blown up to the
  box), more closed loops than any digit (an 8 has two), more ink than any digit, or a
  drawing too small for a digit (a speck on the canvas);
- how strongly the network answers: the energy of its scores, ``log sum_k exp(z_k)``, which is
  high for the inputs it was trained on and low for the rest (Liu et al., 2020, "Energy-based
  out-of-distribution detection"). Its scale is the network's own, so the server measures it
  when the app is made, without any data: the network reads sixty digits the server draws with
  pen strokes (:func:`reference_digits`), and an answer weaker than :data:`WEAK_ENERGY` of their
  median energy is not a digit.

The check applies to networks reading 28x28 pictures of the ten digits (MNIST's framing);
:meth:`DigitCheck.reasons` returns None for any other network (Fashion-MNIST, letters, your own
data), whose inputs these rules know nothing of.
"""

import functools

import numpy as np
from PIL import Image, ImageDraw

from barenet.data import strokes
from barenet.data.images import prepare

SHAPE = (28, 28)
DIGITS = [str(d) for d in range(10)]
BOX = 20  # pixels of the larger side of a digit in MNIST's framing
INK = 0.5  # a pixel of the 28x28 input is ink from this value up

# The rules' thresholds, read from 10,000 MNIST validation digits drawn as the page would send
# them (enlarged to 280x280, then prepared) so that each fires on at most about 0.3% of them,
# and all together on about 1% (benchmarks/not_a_digit.py measures them; docs/web-app.md has
# the figures).
WIDEST_STROKE = 0.22  # stroke width over the box side: MNIST's 99.7th percentile is 0.19
THICKEST_INK = 6  # erosions until the ink is gone: MNIST's median 2, 99.7th percentile 5
MOST_LOOPS = 2  # closed loops of background (holes) of at least LOOP_AREA pixels: an 8 has two
LOOP_AREA = 2
MOST_INK = 200.0  # sum of the 28x28 input: MNIST's 99.7th percentile is 174, its median 97
SMALLEST_DRAWING = 0.1  # larger side of the ink over the picture's: a tap of the pen is 0.07
WEAK_ENERGY = 0.4  # of the median energy of the network on the reference digits
# A network that reads fewer of the reference digits right has no yardstick (an untrained one):
# the energy rule is then left out, the ink rules stay.
READS_REFERENCE = 0.8


class DigitCheck:
    """The "not a digit" rules for one network: whether they apply to it, and its yardstick
    (the median energy of its scores on :func:`reference_digits`; None when it reads fewer than
    :data:`READS_REFERENCE` of them right), worked out once."""

    def __init__(self, net):
        image_shape = tuple(net.image_shape) if net.image_shape else None
        self.applies = image_shape == SHAPE and list(net.class_names) == DIGITS
        self.yardstick = None
        if self.applies:
            logits = net.forward(reference_digits().astype(net.dtype)).astype(np.float64)
            right = np.mean(logits.argmax(axis=1) == np.repeat(np.arange(10), REFERENCE_VARIANTS))
            if right >= READS_REFERENCE:
                self.yardstick = float(np.median(energy(logits)))

    def reasons(self, x, logits, prepared=None):
        """Why the input ``x`` (the network's flat input, 784 values) with scores ``logits``
        does not look like a digit, in words: ``[]`` when it does, None when the check does not
        apply to this network. ``prepared`` (a :class:`~barenet.data.framing.Prepared`) adds
        the size of the drawing on its picture."""
        if not self.applies:
            return None
        image = np.asarray(x, dtype=np.float64).reshape(SHAPE)
        reasons = []
        if prepared is not None and prepared.ink_fraction < SMALLEST_DRAWING:
            reasons.append(
                f"the drawing spans {prepared.ink_fraction:.0%} of the picture: a dot or a "
                "speck, too small for a digit"
            )
        if stroke_width(image) > WIDEST_STROKE or ink_depth(image) >= THICKEST_INK:
            reasons.append("its ink is a blob, far wider than pen strokes")
        loops = count_loops(image)
        if loops > MOST_LOOPS:
            reasons.append(f"{loops} closed loops: no digit has more than {MOST_LOOPS}")
        if image.sum() > MOST_INK:
            reasons.append("more ink than any digit has")
        strength = float(energy(np.asarray(logits, dtype=np.float64)[np.newaxis])[0])
        if self.yardstick is not None and strength < WEAK_ENERGY * self.yardstick:
            reasons.append(
                f"the network's scores are weak ({strength / self.yardstick:.0%} of their "
                "strength for digits), as they are for things it was not trained on"
            )
        return reasons


def energy(logits):
    """``log sum_k exp(z_k)`` of each row of ``logits`` ``(n, classes)``: ``(n,)``, computed
    without overflow."""
    top = logits.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(logits - top).sum(axis=1, keepdims=True)))[:, 0]


def stroke_width(image):
    """The mean width of the strokes of a 28x28 ``image``, over the side of MNIST's box (20):
    about 0.12 for MNIST's digits, 0.5 for a filled disc."""
    return strokes.stroke_width(image) / BOX


def ink_depth(image, ink=INK):
    """How many times the ink of ``image`` (pixels from ``ink`` up) can be eroded by one pixel
    (4-connected) before nothing is left: half the width of its thickest part, in pixels."""
    mask = np.asarray(image) >= ink
    depth = 0
    while mask.any():
        inner = mask.copy()
        inner[1:] &= mask[:-1]
        inner[:-1] &= mask[1:]
        inner[:, 1:] &= mask[:, :-1]
        inner[:, :-1] &= mask[:, 1:]
        inner[[0, -1]] = False  # past the border is background
        inner[:, [0, -1]] = False
        mask = inner
        depth += 1
    return depth


def count_loops(image, ink=INK, area=LOOP_AREA):
    """The closed loops of ``image``: regions of background (4-connected, under ``ink``) of at
    least ``area`` pixels that do not reach its border: a 0 has one, an 8 two.

    The background is taken row by row as runs of pixels; a run joins the region of every run
    of the row above that it touches (union-find): a few hundred runs, not 784 pixels."""
    background = np.pad(np.asarray(image) < ink, 1, constant_values=True)
    parent, size = [], []  # of each run: the run it joined (itself for a region), pixels

    def region(run):
        while parent[run] != run:
            parent[run] = parent[parent[run]]
            run = parent[run]
        return run

    above = []  # (first column, last column + 1, run) of the row above
    for row in background:
        edges = np.flatnonzero(np.diff(np.concatenate(([0], row.astype(np.int8), [0]))))
        runs = []
        for start, stop in zip(edges[::2].tolist(), edges[1::2].tolist()):
            run = len(parent)
            parent.append(run)
            size.append(stop - start)
            for first, last, other in above:
                joined = region(other)
                if first < stop and start < last and joined != run:  # they touch
                    parent[joined] = run
                    size[run] += size[joined]
            runs.append((start, stop, run))
        above = runs
    outside = region(0)  # the padded top row: the background around the drawing
    regions = {region(run) for run in range(len(parent))}
    return sum(1 for r in regions if r != outside and size[r] >= area)


# -- the reference digits --------------------------------------------------------------------


def _arc(cx, cy, rx, ry, start, stop, n=12):
    angle = np.radians(np.linspace(start, stop, n))
    return list(zip(cx + rx * np.cos(angle), cy + ry * np.sin(angle)))


# Each digit as pen strokes in a unit box (x right, y down), shaped as MNIST's writers draw it.
DIGIT_STROKES = {
    0: [_arc(0.5, 0.5, 0.32, 0.48, -90, 270, 24)],
    1: [[(0.55, 0.0), (0.45, 1.0)]],
    2: [_arc(0.5, 0.3, 0.33, 0.3, 180, 380, 10) + [(0.12, 1.0), (0.9, 1.0)]],
    3: [_arc(0.48, 0.26, 0.3, 0.26, 200, 450, 10) + _arc(0.48, 0.74, 0.34, 0.26, 270, 520, 10)],
    4: [[(0.55, 0.0), (0.1, 0.65), (0.9, 0.65)], [(0.68, 0.3), (0.68, 1.0)]],
    5: [[(0.85, 0.0), (0.25, 0.0), (0.2, 0.45)] + _arc(0.47, 0.7, 0.35, 0.3, 230, 490, 12)],
    6: [[(0.7, 0.0)] + _arc(0.5, 0.7, 0.32, 0.3, 190, 550, 20)],
    7: [[(0.1, 0.0), (0.9, 0.0), (0.4, 1.0)]],
    8: [_arc(0.5, 0.25, 0.26, 0.25, 90, 450, 16) + _arc(0.5, 0.74, 0.32, 0.26, -90, 270, 16)],
    9: [_arc(0.5, 0.28, 0.3, 0.28, 0, 360, 16) + [(0.78, 0.5), (0.7, 1.0)]],
}
REFERENCE_SIDE = 140  # pixels of the pictures the reference digits are drawn on
SLANTS = (-0.2, 0.0, 0.2)
PEN_WIDTHS = (8, 12)
REFERENCE_VARIANTS = len(SLANTS) * len(PEN_WIDTHS)


@functools.lru_cache(maxsize=1)
def reference_digits():
    """The ten digits drawn with pen strokes, each slanted three ways with two pen widths, and
    prepared as the page's drawings are: ``(60, 784)`` float32, digit after digit. Any network
    that reads MNIST reads them right; how strongly it does is the yardstick of its energy."""
    pictures = []
    for digit_strokes in DIGIT_STROKES.values():
        for slant in SLANTS:
            for width in PEN_WIDTHS:
                pictures.append(_drawn(digit_strokes, slant, width))
    return np.stack([prepare(picture, SHAPE).input for picture in pictures])


def _drawn(digit_strokes, slant, width):
    """One digit drawn white on black, ``slant`` leaning it right (positive) or left."""
    image = Image.new("L", (REFERENCE_SIDE, REFERENCE_SIDE), 0)
    pen = ImageDraw.Draw(image)
    for line in digit_strokes:
        points = [(35 + (x + slant * (0.5 - y)) * 70, 15 + y * 110) for x, y in line]
        pen.line(points, fill=255, width=width, joint="curve")
        for x, y in (points[0], points[-1]):  # round ends, as a pen's
            pen.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=255)
    return np.asarray(image)
