"""read_idx / write_idx: round trips, the exact byte layout, hostile files and a fuzz test."""

import contextlib
import gzip
import math
import struct
import time
import tracemalloc
import zlib

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from barenet.data import data_home, read_idx, write_idx
from barenet.errors import DataError, DataNotFoundError

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]
IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def idx_header(code, shape):
    """The header of an IDX file: magic number then one big-endian uint32 per dimension."""
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def write_bytes(tmp_path, data, name="file.idx"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 5), (0, 28, 28), (1, 1, 1, 1, 1, 1, 2, 3)])
def test_round_trip_keeps_values_shape_and_dtype(tmp_path, dtype, shape, compress):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal(shape) * 100).astype(dtype)
    path = write_idx(tmp_path / "a.idx", array, compress=compress)
    result = read_idx(path)
    assert result.dtype == np.dtype(dtype) and result.dtype.isnative
    assert result.shape == shape
    np.testing.assert_array_equal(result, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == compress


def test_layout_is_big_endian_idx(tmp_path):
    array = np.array([1, 256, -2], dtype="<i2")  # little-endian input must be swapped on disk
    path = write_idx(tmp_path / "layout.idx", array)
    assert path.read_bytes() == idx_header(0x0B, (3,)) + b"\x00\x01\x01\x00\xff\xfe"


def test_compression_follows_the_file_name_and_reading_follows_the_content(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    gz = write_idx(tmp_path / "x.idx.gz", array)
    plain = write_idx(tmp_path / "x.idx", array)
    assert gz.read_bytes()[:2] == b"\x1f\x8b"
    assert plain.read_bytes()[:4] == b"\x00\x00\x08\x02"
    # A gzip file with a misleading name is still recognised by its magic bytes.
    disguised = write_bytes(tmp_path, gz.read_bytes(), "disguised.idx")
    np.testing.assert_array_equal(read_idx(disguised), array)


def test_returned_array_is_writable(tmp_path):
    array = read_idx(write_idx(tmp_path / "a.idx", np.zeros((2, 2), np.uint8)))
    array[0, 0] = 5
    assert array[0, 0] == 5


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "empty"),
        (b"\x00\x00", "too short"),
        (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "bad magic number 0x01000801"),
        (b"\x00\x00\x0a\x01" + struct.pack(">I", 1) + b"\x00", "unknown IDX dtype code 0x0a"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (b"\x00\x00\x08\x09" + struct.pack(">9I", *[1] * 9) + b"\x00", "9 dimensions"),
        (b"\x00\x00\x08\x03" + struct.pack(">2I", 1, 1), "truncated inside the header"),
        (idx_header(0x08, (2, 3)) + bytes(5), "truncated"),
        (idx_header(0x0C, (2,)) + bytes(7), "truncated"),
        (idx_header(0x08, (2, 3)) + bytes(7), "trailing bytes"),
    ],
)
@pytest.mark.parametrize("compress", [False, True])
def test_hostile_files_raise_data_error_naming_file_and_problem(tmp_path, data, problem, compress):
    path = write_bytes(tmp_path, gzip.compress(data) if compress else data, "hostile.idx")
    with pytest.raises(DataError, match=problem) as info:
        read_idx(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("compress", [False, True])
def test_enormous_declared_array_is_refused_without_allocating(tmp_path, compress):
    data = idx_header(0x08, (60000, 60000, 60000))
    path = write_bytes(tmp_path, gzip.compress(data) if compress else data)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(DataError, match=r"truncated.*\(60000, 60000, 60000\)"):
            read_idx(path)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 0.5
    assert peak < 1_000_000


def test_gzip_bomb_is_not_decompressed_past_the_declared_size(tmp_path):
    # 20 MB of zeros after a header declaring a single byte: the reader must stop early.
    bomb = gzip.compress(idx_header(0x08, (1,)) + bytes(20_000_000), compresslevel=9)
    path = write_bytes(tmp_path, bomb, "bomb.idx.gz")
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="trailing bytes"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000


def test_corrupt_gzip_streams_raise_data_error(tmp_path):
    good = gzip.compress(idx_header(0x08, (1024,)) + bytes(range(256)) * 4)
    damaged = bytearray(good)
    damaged[len(good) // 2] ^= 0xFF
    for name, data in [("cut.gz", good[:-12]), ("flipped.gz", bytes(damaged))]:
        with pytest.raises(DataError, match="corrupt gzip stream"):
            read_idx(write_bytes(tmp_path, data, name))
    with pytest.raises(DataError, match="corrupt gzip stream"):
        read_idx(write_bytes(tmp_path, b"\x1f\x8b" + bytes(30), "header.gz"))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DataNotFoundError, match="no such file") as info:
        read_idx(tmp_path / "absent.idx")
    assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(DataError, match="cannot open"):
        read_idx(tmp_path)


@pytest.mark.parametrize(
    ("array", "problem"),
    [
        (np.zeros(3, np.int64), "cannot store dtype int64"),
        (np.zeros(3, bool), "cannot store dtype bool"),
        (np.uint8(3), "got 0"),
        (np.zeros((1,) * 9, np.uint8), "got 9"),
    ],
)
def test_write_idx_refuses_what_idx_cannot_store(tmp_path, array, problem):
    with pytest.raises(DataError, match=problem):
        write_idx(tmp_path / "bad.idx", array)


@pytest.mark.mnist
def test_reads_the_real_training_images_quickly():
    path = data_home() / "train-images-idx3-ubyte.gz"
    start = time.perf_counter()
    images = read_idx(path)
    elapsed = time.perf_counter() - start
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    # About 0.2 s here; a per-byte Python loop would take minutes.
    assert elapsed < 2.0


def reference_parse(data):
    """An independent reading of the IDX spec: the array, or None if ``data`` is not valid."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error):
            return None
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in IDX_DTYPES:
        return None
    ndim, header = data[3], 4 + 4 * data[3]
    if not 1 <= ndim <= 8 or len(data) < header:
        return None
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = IDX_DTYPES[data[2]]
    if len(data) - header != math.prod(shape) * dtype.itemsize:
        return None
    return np.frombuffer(data[header:], dtype=dtype).reshape(shape)


def mutate(data, draw, ndim):
    """One random damage: cut the file, flip a byte, rewrite a size field or append bytes."""
    kind = draw(st.sampled_from(["truncate", "flip", "size", "append"]))
    if kind == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))]
    if kind == "flip":
        position = draw(st.integers(0, len(data) - 1))
        return (
            data[:position]
            + bytes([data[position] ^ draw(st.integers(1, 255))])
            + data[position + 1 :]
        )
    if kind == "size":
        offset = 4 + 4 * draw(st.integers(0, ndim - 1))
        size = draw(st.integers(0, 6) | st.integers(0, 2**32 - 1))
        return data[:offset] + struct.pack(">I", size) + data[offset + 4 :]
    return data + draw(st.binary(min_size=1, max_size=8))


@contextlib.contextmanager
def bounded(seconds=5.0, megabytes=16):
    """Fail if the block takes longer than ``seconds`` or allocates more than ``megabytes``:
    a hostile file must be refused quickly, with memory bounded (these files are a few bytes)."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert elapsed < seconds and peak < megabytes * 2**20, (elapsed, peak)


@settings(
    max_examples=1000,
    deadline=None,
    # The one file in tmp_path is rewritten by every example, so sharing it is harmless.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    array=hnp.arrays(
        st.sampled_from(DTYPES),
        hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4),
    ),
    compress=st.booleans(),
    damage_compressed=st.booleans(),
    data=st.data(),
)
def test_damaged_files_give_the_right_array_or_data_error(
    tmp_path, array, compress, damage_compressed, data
):
    path = write_idx(tmp_path / "fuzz.idx", array, compress=False)
    payload = path.read_bytes()
    if compress and damage_compressed:
        payload = mutate(gzip.compress(payload), data.draw, array.ndim)
    elif compress:
        payload = gzip.compress(mutate(payload, data.draw, array.ndim))
    else:
        payload = mutate(payload, data.draw, array.ndim)
    path.write_bytes(payload)
    expected = reference_parse(payload)
    if expected is None:
        with pytest.raises(DataError), bounded():
            read_idx(path)
    else:
        with bounded():
            result = read_idx(path)
        assert result.shape == expected.shape
        assert result.dtype == expected.dtype.newbyteorder("=")
        assert result.tobytes() == expected.astype(result.dtype).tobytes()
