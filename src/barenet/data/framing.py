"""Preparing a picture of one digit the way a data set's images are framed, step by step.

MNIST's digits are light on dark, scaled so the larger side of their ink is 20 pixels (keeping
the aspect ratio), and placed in 28x28 with their centre of mass at the centre: a 4-pixel
margin. scikit-learn's 8x8 ``digits`` have no margin: the ink fills the height (or width) of the
image. :data:`MNIST` and :data:`FILL` are the two framings, each a :class:`DigitStyle`;
:func:`framing_for` picks one from the image shape (a side under 16 pixels: ``FILL``).

People draw with pens of every width. A 3-pixel pen on a 280x280 canvas becomes a faint
one-pixel line once the digit is shrunk to 20x20, and a fat marker a blob. So the stroke width,
measured relative to the digit's size (:func:`barenet.data.strokes.stroke_width`), is brought
into the range the data set's own digits have; a stroke already in that range is left alone,
so an MNIST digit passes almost unchanged. The contrast is stretched so the strongest ink is 1:
faint pencil reads like MNIST's white ink.

:func:`prepare_digit` returns every stage (:class:`Prepared`), for the web page to show them;
``barenet predict`` and the page use the same function through
:func:`barenet.data.images.preprocess_digit`.
"""

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from barenet.data import strokes
from barenet.errors import DataError

# After background removal, contrast below MIN_CONTRAST (on a 0-1 scale) means no ink at all.
# Relative to the strongest stroke, pixels under NOISE_LEVEL are noise (paper grain, JPEG
# ringing) and are zeroed; the bounding box is that of pixels of at least INK_LEVEL, which is
# close to the edge of the pen stroke and ignores the faint halo that anti-aliasing and JPEG
# spread around it. Measured on MNIST digits re-saved as PNG and JPEG, these values keep the
# result closest to the original.
MIN_CONTRAST = 0.1
NOISE_LEVEL = 0.1
INK_LEVEL = 0.3
# Strokes are measured and evened at WORK_SCALE times the size of the final box: fine enough
# that growing by a fraction of a final pixel is possible.
WORK_SCALE = 4
# Under this fraction of the picture's larger side, a digit is small: the page says so.
SMALL_DIGIT = 0.3


@dataclass(frozen=True)
class DigitStyle:
    """How a data set's digits are sized, stroked and placed in their image (its framing).

    ``box`` is the larger side of the ink as a fraction of the image's smaller side; ``widths``
    the range of stroke widths (relative to the larger side of the ink) that is left alone, and
    ``thin_to`` / ``thick_to`` the widths a thinner / thicker stroke is brought to; ``centre``
    the point, in pixels of the image, where the centre of mass goes (``None``: MNIST's
    ``(h // 2, w // 2)``).
    """

    name: str
    box: float
    widths: tuple
    thin_to: float
    thick_to: float
    fill: bool = False


# Measured on 2,000 MNIST test digits: stroke width / larger side of the ink is 0.083 to 0.18
# (5th to 95th percentile, median 0.118). Measured on scikit-learn's 1,797 digits, whose ink
# spans all 8 rows: 0.19 to 0.30 (median 0.23) at 8x8; their strokes are drawn here a little
# thinner (the 4x shrinking blurs them wider).
MNIST = DigitStyle("mnist", box=20 / 28, widths=(0.083, 0.18), thin_to=0.11, thick_to=0.15)
FILL = DigitStyle("fill", box=1.0, widths=(0.15, 0.26), thin_to=0.18, thick_to=0.22, fill=True)


def framing_for(shape):
    """:data:`FILL` for images with a side under 16 pixels (scikit-learn's 8x8 digits have no
    margin), else :data:`MNIST`."""
    return FILL if min(shape) < 16 else MNIST


@dataclass
class Prepared:
    """Every stage of :func:`prepare_digit`, as 2-D float32 arrays in [0, 1], light on dark.

    ``picture`` the whole picture, ``cropped`` the ink's bounding box, ``fitted`` the digit
    scaled to its box (strokes evened, contrast stretched), ``centred`` the image the network
    reads (``input`` is it flattened). ``ink_fraction`` is the larger side of the ink over that
    of the picture; ``notes`` say in words what was changed (``"strokes thickened"``...).
    """

    picture: np.ndarray
    cropped: np.ndarray
    fitted: np.ndarray
    centred: np.ndarray
    box: int
    framing: DigitStyle
    ink_fraction: float
    notes: list = field(default_factory=list)

    @property
    def input(self):
        """The network's input: ``centred`` as a flat float32 vector."""
        return self.centred.reshape(-1)

    @property
    def small(self):
        """True when the digit covers under :data:`SMALL_DIGIT` of the picture."""
        return self.ink_fraction < SMALL_DIGIT


def prepare_digit(pixels, shape, framing=None):
    """Prepare a 2-D float image in [0, 1] (dark-on-light or light-on-dark) for a network
    reading ``(height, width)`` images; ``framing`` defaults to :func:`framing_for` ``(shape)``.

    Raises :class:`DataError` when the image holds no ink.
    """
    height, width = shape
    framing = framing or framing_for(shape)
    if np.median(_border(pixels)) > 0.5:
        pixels = 1.0 - pixels
    ink = _remove_background(pixels)
    cropped = _crop(ink)
    box = max(1, round(min(height, width) * framing.box))
    notes = []
    evened = _even_strokes(cropped, box, framing, notes)
    fitted = _fit_box(evened, box)
    peak = fitted.max()
    if peak < 0.95:  # a thin line lost its strength in the shrinking: MNIST's ink peaks at 1
        fitted = np.clip(fitted / peak, 0.0, 1.0)
        notes.append("contrast stretched")
    centre = ((height - 1) / 2, (width - 1) / 2) if framing.fill else (height // 2, width // 2)
    fraction = max(cropped.shape) / max(pixels.shape)
    return Prepared(
        picture=pixels.astype(np.float32, copy=False),
        cropped=cropped,
        fitted=fitted,
        centred=_centre(fitted, (height, width), centre),
        box=box,
        framing=framing,
        ink_fraction=float(fraction),
        notes=notes,
    )


def _border(pixels):
    """The pixels of the outermost rows and columns, where the background is."""
    return np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])


def _remove_background(pixels):
    """Subtract the background level, stretch the strongest ink to 1 and zero faint noise."""
    ink = np.clip(pixels - np.median(_border(pixels)), 0.0, None)
    peak = ink.max()
    if peak < MIN_CONTRAST:
        raise DataError("the image contains no digit (blank image)")
    ink /= peak
    ink[ink < NOISE_LEVEL] = 0.0
    return ink


def _crop(ink):
    """The bounding box of the pixels of at least :data:`INK_LEVEL`."""
    rows, cols = np.nonzero(ink >= INK_LEVEL)
    return ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def _even_strokes(cropped, box, framing, notes):
    """``cropped`` with its strokes brought into ``framing.widths`` (relative to the larger side
    of the ink): drawn at :data:`WORK_SCALE` times ``box``, grown or shrunk by a disc, cropped
    again. Returned as it is when they already are."""
    side = WORK_SCALE * box
    work = _resize(cropped, side / max(cropped.shape))
    work = np.clip(work / max(work.max(), 1e-6), 0.0, 1.0)  # shrinking fades a thin line
    low, high = framing.widths
    relative = strokes.stroke_width(work) / side
    if low <= relative <= high:
        return cropped
    target = framing.thin_to if relative < low else framing.thick_to
    # Growing by r widens the stroke by 2r and the ink by 2r too: (w + 2r) / (L + 2r) = target.
    radius = (target * side - relative * side) / (2 * (1 - target))
    if radius > 0:
        evened = strokes.grow(work, radius)
        notes.append("strokes thickened")
    else:
        evened = strokes.shrink(work, -radius)
        notes.append("strokes thinned")
    if evened.max() < INK_LEVEL:  # shrunk away entirely: keep the drawing as it was
        return cropped
    return _crop(evened)


def _resize(image, scale):
    """``image`` scaled by ``scale``: averaging areas when shrinking (a thin line keeps its ink),
    bicubic when enlarging."""
    height, width = image.shape
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    method = Image.Resampling.BOX if scale < 1 else Image.Resampling.BICUBIC
    resized = Image.fromarray(image.astype(np.float32, copy=False)).resize(size, method)
    return np.clip(np.asarray(resized), 0.0, 1.0)


def _fit_box(ink, box):
    """Resize so the larger side is ``box`` pixels, keeping the aspect ratio."""
    height, width = ink.shape
    scale = box / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(ink.astype(np.float32, copy=False)).resize(
        size, Image.Resampling.LANCZOS
    )
    # Lanczos rings slightly below 0 and above 1 next to sharp edges.
    return np.clip(np.asarray(resized), 0.0, 1.0)


def _centre(digit, shape, centre):
    """Paste ``digit`` into a black image of ``shape`` with its centre of mass nearest
    ``centre`` ((14, 14) for MNIST's 28x28)."""
    height, width = digit.shape
    rows, cols = np.indices(digit.shape)
    mass = digit.sum()
    top = _offset(centre[0] - (rows * digit).sum() / mass, shape[0] - height)
    left = _offset(centre[1] - (cols * digit).sum() / mass, shape[1] - width)
    canvas = np.zeros(shape, dtype=np.float32)
    canvas[top : top + height, left : left + width] = digit
    return canvas


def _offset(ideal, largest):
    """``ideal`` rounded to a whole pixel and clipped to [0, largest] so nothing falls off."""
    return int(min(max(round(ideal), 0), largest))
