"""Turn any picture of a single digit into a 784-vector that looks like an MNIST image.

MNIST digits are light on a dark background, fit in a 20x20 box that keeps their aspect ratio,
and sit in a 28x28 image with their centre of mass at its centre. :func:`preprocess_digit`
applies the same steps to a grey image of any size (:mod:`barenet.data.framing` does them,
evening out stroke width and contrast on the way), so a network trained on MNIST sees a
photographed or drawn digit the way it saw its training data. ``barenet predict`` and the web
page of ``barenet serve`` both prepare pictures with these functions.
"""

import io
import os
import warnings

import numpy as np
from PIL import Image, ImageOps

from barenet.data.framing import prepare_digit
from barenet.errors import DataError, DataNotFoundError

# Larger images are refused before decoding: a tiny file can declare billions of pixels.
MAX_PIXELS = 40_000_000
SIZE = 28
# Pillow's modes of one channel of more than 8 bits, and the largest value of each: such a
# picture is scaled to 8 bits (Pillow's own conversion clips everything above 255 to white).
WIDE_GREY = {"I;16": 65535, "I;16B": 65535, "I;16L": 65535, "I;16N": 65535, "I": 65535}


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
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise DataError(
            f"{name}: refused as a decompression bomb: it declares more than {MAX_PIXELS:,} pixels"
        ) from None
    except Image.UnidentifiedImageError:
        raise DataError(
            f"{name}: not an image file, or not in a format read here (PNG, JPEG, GIF, BMP, "
            "TIFF, WebP...)"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # Pillow reports damaged data as OSError ("image file is truncated") or SyntaxError;
        # its wording names its internals, so the message is ours.
        raise DataError(
            f"{name}: corrupt or truncated image: the file is damaged or cut short"
        ) from exc
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
    """Pillow image -> mode "L", painting transparent areas white, scaling 16-bit grey."""
    if image.mode in WIDE_GREY or image.mode == "F":
        return _scaled_to_8_bits(image)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("L")
    return image.convert("L")


def _scaled_to_8_bits(image):
    """A 16-bit (or 32-bit, or float) grey picture -> mode "L", scaled rather than clipped."""
    values = np.asarray(image, dtype=np.float64)
    top = WIDE_GREY.get(image.mode) or max(1.0, float(values.max()))  # "F": 0-1 or 0-max
    if image.mode == "I" and values.max() > top:  # 32-bit integers beyond 16 bits
        top = float(values.max())
    grey = np.round(np.clip(values / top, 0.0, 1.0) * 255).astype(np.uint8)
    return Image.fromarray(grey)


def preprocess_digit(image, shape=(SIZE, SIZE)):
    """Make a 2-D grey image of one digit look like MNIST; returns a flat float32 vector.

    ``image`` is uint8 (0-255) or float (0-1), of any size, dark-on-light or light-on-dark.
    The digit is made light on dark, cropped to its ink, its strokes brought to the width of
    MNIST's and its contrast stretched, scaled so its larger side is 20 pixels and placed in a
    28x28 image with its centre of mass at (14, 14): a ``(784,)`` vector in [0, 1]. Another
    ``shape`` ``(height, width)`` keeps MNIST's proportions (box of 20/28 of the smaller side),
    except for images with a side under 16 pixels, which the digit fills as it fills
    scikit-learn's 8x8 digits (see :mod:`barenet.data.framing`). Raises :class:`DataError` if
    the image is not 2-D or holds no digit.
    """
    return prepare(image, shape).input


def prepare(image, shape=(SIZE, SIZE)):
    """:func:`preprocess_digit` with every stage kept: a :class:`~barenet.data.framing.Prepared`
    (the picture, the cropped ink, the digit fitted to its box, the centred image), for showing
    how a picture became the network's input."""
    return prepare_digit(_as_unit_float(image), _check_shape(shape))


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


def preprocess_image(source, shape=(SIZE, SIZE)):
    """:func:`load_image` then :func:`preprocess_digit`: a picture file -> ``(784,)`` float32
    (or a flat image of another ``shape``)."""
    return preprocess_digit(load_image(source), shape)
