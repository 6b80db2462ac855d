"""Read and write IDX files, the array format of the MNIST distribution.

An IDX file is two zero bytes, a dtype code, the number of dimensions ``ndim``, then ``ndim``
big-endian uint32 sizes, then the values in C order, big-endian. Files may be gzip-compressed;
compression is detected from the gzip magic bytes, not from the file name.

Files are treated as untrusted: every size is checked against the bytes actually present before
anything is allocated, and every problem raises :class:`DataError` naming the file.
"""

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from barenet.errors import DataError, DataNotFoundError

# IDX dtype code -> big-endian numpy dtype of the stored values.
_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {(dt.kind, dt.itemsize): code for code, dt in _DTYPES.items()}

MAX_NDIM = 8
_GZIP_MAGIC = b"\x1f\x8b"
# Deflate cannot expand data by more than about 1032:1, so a gzip file of n bytes never holds
# more than this many times n: a header declaring more is refused before any decompression.
_MAX_GZIP_RATIO = 1100
_CHUNK = 1 << 22


def read_idx(path):
    """Read the IDX file at ``path`` (raw or gzip) into an array of native byte order.

    Returns an array of the shape and dtype the header declares (uint8, int8, int16, int32,
    float32 or float64). Raises :class:`DataNotFoundError` if the file does not exist and
    :class:`DataError` if it is not a complete, well-formed IDX file.
    """
    path = Path(path)
    try:
        raw = open(path, "rb")
    except FileNotFoundError:
        raise DataNotFoundError(f"{path}: no such file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot open file: {exc.strerror or exc}") from exc
    with raw:
        size = os.fstat(raw.fileno()).st_size
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if not compressed:
            return _read_stream(raw, path, size, f"the file has only {size} bytes")
        try:
            with gzip.GzipFile(fileobj=raw) as stream:
                limit = f"a {size}-byte gzip file cannot hold that much"
                return _read_stream(stream, path, _MAX_GZIP_RATIO * size, limit)
        except (OSError, EOFError, zlib.error) as exc:
            # BadGzipFile is an OSError, a gzip stream cut short raises EOFError.
            raise DataError(f"{path}: corrupt gzip stream: {exc}") from exc


def _read_stream(stream, path, max_bytes, limit):
    """Parse an IDX header and its data from a stream that holds at most ``max_bytes`` bytes.

    ``limit`` says in words why the stream cannot hold more, for the error message.
    """
    dtype, shape = _read_header(stream, path)
    n_bytes = math.prod(shape) * dtype.itemsize
    declared = f"header declares shape {shape} ({n_bytes} bytes of data)"
    if 4 + 4 * len(shape) + n_bytes > max_bytes:
        raise DataError(f"{path}: truncated: {declared} but {limit}")
    data = _read_at_most(stream, n_bytes + 1)
    if len(data) < n_bytes:
        raise DataError(f"{path}: truncated: {declared} but only {len(data)} bytes follow")
    if len(data) > n_bytes:
        raise DataError(f"{path}: trailing bytes: {declared} but more data follows")
    array = np.frombuffer(data, dtype=dtype).reshape(shape)
    return array if dtype.isnative else array.astype(dtype.newbyteorder("="))


def _read_header(stream, path):
    """Return ``(dtype, shape)`` from the magic number and the sizes that follow it."""
    magic = stream.read(4)
    if len(magic) == 0:
        raise DataError(f"{path}: empty, expected an IDX header")
    if len(magic) < 4:
        raise DataError(f"{path}: truncated: {len(magic)} bytes, too short for an IDX header")
    number = int.from_bytes(magic, "big")
    if magic[:2] != b"\0\0":
        raise DataError(f"{path}: bad magic number 0x{number:08x}, IDX files start with 0x0000")
    if magic[2] not in _DTYPES:
        raise DataError(f"{path}: unknown IDX dtype code 0x{magic[2]:02x} in 0x{number:08x}")
    ndim = magic[3]
    if not 1 <= ndim <= MAX_NDIM:
        raise DataError(f"{path}: IDX header declares {ndim} dimensions, expected 1 to {MAX_NDIM}")
    sizes = stream.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise DataError(f"{path}: truncated inside the header ({ndim} sizes declared)")
    return _DTYPES[magic[2]], struct.unpack(f">{ndim}I", sizes)


def _read_at_most(stream, limit):
    """Read up to ``limit`` bytes in chunks, so memory follows the bytes actually present."""
    chunks, total = [], 0
    while total < limit:
        chunk = stream.read(min(_CHUNK, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    # A bytearray makes the array built on it writable without another copy.
    return bytearray().join(chunks)


def write_idx(path, array, compress=None):
    """Write ``array`` (1 to 8 dimensions, a dtype IDX supports) to ``path`` as an IDX file.

    ``compress=None`` gzips when the name ends in ``.gz``; True or False forces the choice.
    Returns the path written.
    """
    path = Path(path)
    array = np.asarray(array)
    code = _CODES.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise DataError(f"{path}: IDX cannot store dtype {array.dtype}")
    if not 1 <= array.ndim <= MAX_NDIM:
        raise DataError(f"{path}: IDX stores 1 to {MAX_NDIM} dimensions, got {array.ndim}")
    if max(array.shape) >= 1 << 32:
        raise DataError(f"{path}: IDX sizes must be below 2**32, got shape {array.shape}")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    body = np.ascontiguousarray(array, dtype=_DTYPES[code]).tobytes()
    if compress is None:
        compress = path.name.endswith(".gz")
    with open(path, "wb") as out:
        if compress:
            # mtime=0 makes the output depend on the data only.
            with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as stream:
                stream.write(header + body)
        else:
            out.write(header + body)
    return path
