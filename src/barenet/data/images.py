"""Turn any picture of a single digit into a 784-vector that looks like an MNIST image.

MNIST digits are light on a dark background, fit in a 20x20 box that keeps their aspect ratio,
and sit in a 28x28 image with their centre of mass at its centre. :func:`preprocess_digit`
applies the same steps to a grey image of any size, so a network trained on MNIST sees a
photographed or drawn digit the way it saw its training data.
"""

import io
import os
import warnings

import numpy as np
from PIL import Image, ImageOps

from barenet.errors import DataError, DataNotFoundError

# Larger images are refused before decoding: a tiny file can declare billions of pixels.
MAX_PIXELS = 40_000_000
SIZE = 28
BOX = 20
# After background removal, contrast below MIN_CONTRAST (on a 0-1 scale) means no ink at all.
# Relative to the strongest stroke, pixels under NOISE_LEVEL are noise (paper grain, JPEG
# ringing) and are zeroed; the bounding box is that of pixels of at least INK_LEVEL, which is
# close to the edge of the pen stroke and ignores the faint halo that anti-aliasing and JPEG
# spread around it. Measured on MNIST digits re-saved as PNG and JPEG, these values keep the
# result closest to the original.
MIN_CONTRAST = 0.1
NOISE_LEVEL = 0.1
INK_LEVEL = 0.3


def load_image(source):
    """Decode a picture into a 2-D float32 grey array in [0, 1] (0 = black, 1 = white).

    ``source`` is a path, a binary file object or the bytes of a file, in any format Pillow
    reads. Transparent pixels count as white. Raises :class:`DataError` for anything that is
    not a readable image of at most :data:`MAX_PIXELS` pixels.
    """
    name = _describe(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = io.BytesIO(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                _check_size(image, name)
                # Phone photos are stored sideways with an EXIF tag saying how to turn them.
                grey = _to_grey(ImageOps.exif_transpose(image))
    except DataError:
        raise
    except FileNotFoundError:
        raise DataNotFoundError(f"{name}: no such file") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise DataError(f"{name}: refused as a decompression bomb: {exc}") from exc
    except Image.UnidentifiedImageError:
        raise DataError(f"{name}: not an image file (Pillow cannot identify it)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # Pillow reports damaged data as OSError ("image file is truncated") or SyntaxError.
        raise DataError(f"{name}: corrupt or unreadable image: {exc}") from exc
    return np.asarray(grey, dtype=np.float32) / np.float32(255)


def _describe(source):
    """A name for ``source`` in error messages."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "image data"
    return str(getattr(source, "name", "image file"))


def _check_size(image, name):
    """Refuse an image whose header declares more than :data:`MAX_PIXELS` pixels."""
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise DataError(
            f"{name}: refused as a decompression bomb: {width}x{height} pixels "
            f"is more than the limit of {MAX_PIXELS}"
        )


def _to_grey(image):
    """Pillow image -> mode "L", painting transparent areas white."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("L")
    return image.convert("L")


def preprocess_digit(image, shape=(SIZE, SIZE)):
    """Make a 2-D grey image of one digit look like MNIST; returns a flat float32 vector.

    ``image`` is uint8 (0-255) or float (0-1), of any size, dark-on-light or light-on-dark.
    The digit is made light on dark, cropped to its ink, scaled so its larger side is 20 pixels
    and placed in a 28x28 image with its centre of mass at (14, 14): a ``(784,)`` vector in
    [0, 1]. Another ``shape`` ``(height, width)`` keeps MNIST's proportions (box of 20/28 of
    the smaller side). Raises :class:`DataError` if the image is not 2-D or holds no digit.
    """
    height, width = _check_shape(shape)
    pixels = _as_unit_float(image)
    if np.median(_border(pixels)) > 0.5:
        pixels = 1.0 - pixels
    ink = _remove_background(pixels)
    rows, cols = np.nonzero(ink >= INK_LEVEL)
    ink = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    box = max(1, round(min(height, width) * BOX / SIZE))
    return _centre(_fit_box(ink, box), (height, width)).reshape(height * width)


def _check_shape(shape):
    """``(height, width)`` of positive integers, else DataError."""
    try:
        height, width = (int(side) for side in shape)
    except (TypeError, ValueError):
        raise DataError(f"shape must be (height, width), got {shape!r}") from None
    if height < 1 or width < 1:
        raise DataError(f"shape must be (height, width) of positive sides, got {shape!r}")
    return height, width


def _as_unit_float(image):
    """A 2-D image as a float32 array in [0, 1], checking its shape and range."""
    pixels = np.asarray(image)
    if pixels.ndim != 2 or pixels.size == 0:
        raise DataError(f"expected a non-empty 2-D grey image, got shape {pixels.shape}")
    if pixels.dtype.kind in "ui":
        low, high = 0, 255
        scaled = pixels.astype(np.float32) / np.float32(255)
    elif pixels.dtype.kind in "fb":
        low, high = 0, 1
        scaled = pixels.astype(np.float32)
    else:
        raise DataError(f"expected a numeric image, got dtype {pixels.dtype}")
    if not np.all(np.isfinite(scaled)) or pixels.min() < low or pixels.max() > high:
        raise DataError(
            f"image values must be in [{low}, {high}] for dtype {pixels.dtype}, "
            f"got [{pixels.min()}, {pixels.max()}]"
        )
    return scaled


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


def _centre(digit, shape):
    """Paste ``digit`` into a black image of ``shape`` with its centre of mass nearest the
    image's centre ((14, 14) for 28x28)."""
    height, width = digit.shape
    rows, cols = np.indices(digit.shape)
    mass = digit.sum()
    top = _offset(shape[0] // 2 - (rows * digit).sum() / mass, shape[0] - height)
    left = _offset(shape[1] // 2 - (cols * digit).sum() / mass, shape[1] - width)
    canvas = np.zeros(shape, dtype=np.float32)
    canvas[top : top + height, left : left + width] = digit
    return canvas


def _offset(ideal, largest):
    """``ideal`` rounded to a whole pixel and clipped to [0, largest] so nothing falls off."""
    return int(min(max(round(ideal), 0), largest))


def preprocess_image(source, shape=(SIZE, SIZE)):
    """:func:`load_image` then :func:`preprocess_digit`: a picture file -> ``(784,)`` float32
    (or a flat image of another ``shape``)."""
    return preprocess_digit(load_image(source), shape)
