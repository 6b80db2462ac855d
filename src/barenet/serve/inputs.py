"""Checking and decoding what a client sends to ``POST /predict``; no web framework in here.

A request body is one of three things: the bytes of an image file (sent raw with an ``image/*``
content type, or as the field ``file`` of a multipart form), or JSON pixel values that are
already the network's input. Every check raises :class:`InputError`, which carries the HTTP
status to answer with and a message that names the problem; nothing bad reaches the network.

Status codes: 400 the request itself is malformed (empty body, invalid JSON, broken form),
413 the body is too large, 415 the content type is not one we read, 422 the content is
well-formed but unusable (not an image, a corrupt one, too many pixels, no digit, wrong number
of values, NaN, values outside [0, 1]).
"""

import io
import json
import math
import warnings

import numpy as np
from PIL import Image

from barenet.data.images import load_image, prepare
from barenet.errors import BarenetError

# 2 MB is plenty for a photo of one digit, and bounds the memory one request can take.
MAX_BODY_BYTES = 2 * 1024 * 1024
# Image sides above this are refused from the header, before decoding: a small PNG can declare
# a 50000x50000 image (a decompression bomb). load_image's own limit (40 Mpixel) is for files
# a user chose; for strangers on the network a 4096x4096 photo is enough.
MAX_IMAGE_SIDE = 4096


class InputError(BarenetError):
    """A request body that cannot be used; ``status`` is the HTTP status to answer with."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


# -- the body --------------------------------------------------------------------------------


def body_kind(content_type):
    """``"json"``, ``"image"`` or ``"form"`` for a Content-Type header; 415 for anything else."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "application/json":
        return "json"
    if media_type.startswith("image/"):  # Pillow decides whether it can read it
        return "image"
    if media_type == "multipart/form-data":
        return "form"
    got = f"Content-Type {media_type!r}" if media_type else "no Content-Type header"
    raise InputError(
        415,
        f"unsupported media type: got {got}; send an image (image/png, image/jpeg...), "
        "a multipart form with the field 'file', or JSON pixel values (application/json)",
    )


def check_content_length(header, limit=MAX_BODY_BYTES):
    """Refuse a body announced as larger than ``limit`` bytes, before reading any of it."""
    if header is None:
        return  # chunked upload: read_body counts the bytes as they come
    try:
        length = int(header)
    except ValueError:
        raise InputError(400, f"invalid Content-Length header {header[:40]!r}") from None
    if length > limit:
        raise InputError(413, _too_large(f"{length} bytes", limit))


async def read_body(chunks, limit=MAX_BODY_BYTES):
    """Join the byte chunks of an async iterator, stopping with 413 as soon as they pass ``limit``.

    A client may lie in Content-Length or send none, so the count is kept while reading: at most
    ``limit`` bytes plus one network chunk are ever held in memory.
    """
    parts, size = [], 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise InputError(413, _too_large(f"more than {limit} bytes", limit))
        parts.append(chunk)
    body = b"".join(parts)
    if not body:
        raise InputError(400, "empty request body: send an image file or JSON pixel values")
    return body


def _too_large(size, limit):
    return f"request body too large: {size}; the limit is {limit} bytes ({limit / 2**20:g} MB)"


# -- JSON pixel values -------------------------------------------------------------------------


def parse_pixels(body, n_values):
    """JSON ``{"pixels": [...]}`` or a bare array of ``n_values`` numbers in [0, 1] ->
    ``(n_values,)`` float32 array, used as the network's input as it is (no preprocessing)."""
    try:
        # A whole number of thousands of digits is kept as text: Python's int() refuses it with
        # a message about its own settings, and it is no pixel value anyway.
        data = json.loads(body, parse_int=_whole_number)
    except json.JSONDecodeError as exc:  # says where: "Expecting ',' delimiter: line 1..."
        raise InputError(400, f"invalid JSON: {exc}") from None
    except UnicodeDecodeError:
        raise InputError(400, "invalid JSON: the body is not UTF-8 text") from None
    except RecursionError:
        raise InputError(400, "invalid JSON: arrays or objects nested too deeply") from None
    if isinstance(data, dict):
        if "pixels" not in data:
            raise InputError(422, 'the JSON object has no "pixels" key')
        unexpected = sorted(set(data) - {"pixels"})
        if unexpected:
            raise InputError(422, f"unexpected keys {unexpected} in the JSON object")
        data = data["pixels"]
    if not isinstance(data, list):
        raise InputError(
            422, f'expected {{"pixels": [...]}} or a JSON array, got a {_json_type(data)}'
        )
    if len(data) != n_values:
        raise InputError(422, f"expected {n_values} pixel values, got {len(data)}")
    for i, value in enumerate(data):
        _check_pixel(i, value)
    return np.array(data, dtype=np.float32)


class _LongNumber(str):
    """A JSON whole number too long to be worth converting (its digits, as text)."""


def _whole_number(text):
    return _LongNumber(text) if len(text) > 100 else int(text)


def _check_pixel(i, value):
    """Refuse anything but a finite number in [0, 1] (Python's json reads NaN and Infinity)."""
    if isinstance(value, _LongNumber):
        raise InputError(
            422, f"pixel {i} is a whole number of {len(value.lstrip('-'))} digits, outside [0, 1]"
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(422, f"pixel {i} is a {_json_type(value)}, not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(422, f"pixel {i} is {_show(value)}: pixel values must be finite numbers")
    if not 0 <= value <= 1:  # compares big integers exactly, without converting them
        raise InputError(422, f"pixel {i} is {_show(value)}, outside [0, 1]")


def _show(number):
    """A number as JSON writes it, shortened: ``NaN``, ``-Infinity``, ``1.5``, ``12345678…``."""
    text = json.dumps(number)
    return text if len(text) <= 20 else text[:12] + "…"


def _json_type(value):
    names = {dict: "JSON object", list: "JSON array", str: "string", bool: "boolean"}
    return "null" if value is None else names.get(type(value), "number")


# -- images ------------------------------------------------------------------------------------


def image_input(data, name, image_shape):
    """The bytes of a picture of one digit -> ``(h * w,)`` float32 vector for a network reading
    images of ``image_shape`` ``(h, w)``, prepared exactly as ``barenet predict`` prepares a
    file: :func:`load_image` then :func:`preprocess_digit`."""
    return image_stages(data, name, image_shape).input


def image_stages(data, name, image_shape):
    """:func:`image_input` with every stage of the preparation kept: a
    :class:`~barenet.data.framing.Prepared` (what ``POST /explain`` shows).

    Raises :class:`InputError` (422) for a picture too large to decode, and lets the
    :class:`~barenet.errors.DataError` of :func:`load_image` and :func:`prepare` through (not
    an image, corrupt, blank), which the app answers with 422 as well.
    """
    check_image_size(data, name)
    source = io.BytesIO(data)
    source.name = name  # load_image names the file in its error messages
    grey = load_image(source)
    return prepare(grey, shape=tuple(image_shape))


def check_image_size(data, name="request body", max_side=MAX_IMAGE_SIDE):
    """Refuse (422) an image whose header declares a side over ``max_side`` pixels.

    Only the header is read. Bytes that are no image pass: :func:`load_image` then says what is
    wrong with them.
    """
    try:
        with warnings.catch_warnings():
            # Pillow warns above ~89 Mpixel and raises above twice that; we refuse far earlier.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Image.DecompressionBombError:  # Pillow's own limit, far above ours
        raise InputError(
            422,
            f"{name}: far too many pixels, refused as a decompression bomb; the largest image "
            f"accepted is {max_side}x{max_side}",
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError):  # UnidentifiedImageError is an OSError
        return
    if width > max_side or height > max_side:
        raise InputError(
            422,
            f"{name}: {width}x{height} pixels is too large; the largest image accepted is "
            f"{max_side}x{max_side}",
        )
