"""Tests of the model-file format: round trips, hostile files, fuzzing and crash-safe writes."""

import io
import json
import os
import pickle
import random
import signal
import subprocess
import sys
import time
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import barenet.files.archive
from barenet.errors import ModelFileError
from barenet.files.archive import (
    FORMAT_VERSION,
    atomic_open,
    atomic_write_bytes,
    load_arrays,
    save_arrays,
)

HEADER = {
    "architecture": {"layers": [784, 32, 10], "activations": ["relu", "softmax"]},
    "history": {"loss": [2.3, 0.51, 0.25], "val_loss": [None, 0.6, 0.3], "epochs": 3},
    "settings": {"learning_rate": 1e-3, "seed": None, "nested": [[1, [2.5, {"deep": True}]]]},
    "note": "café ✓",
}


def make_arrays():
    rng = np.random.default_rng(0)
    return {
        "W0": rng.standard_normal((4, 3)).astype(np.float32),
        "b0": np.linspace(-1, 1, 3),
        "steps": np.arange(-5, 5, dtype=np.int64).reshape(2, 5),
        "scale": np.array(0.5, dtype=np.float32),
        "empty": np.zeros((0, 7), dtype=np.float32),
        "mask": np.array([True, False, True]),
        "pixels.u8": np.arange(6, dtype=np.uint8),
    }


def assert_same_arrays(got, expected):
    assert got.keys() == expected.keys()
    for name, a in expected.items():
        assert got[name].dtype == a.dtype and got[name].shape == a.shape, name
        np.testing.assert_array_equal(got[name], a)


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "model.bn"
    save_arrays(path, HEADER, make_arrays())
    return path


def members_of(path):
    """{member name: bytes} of a ZIP file, for building edited copies by hand."""
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    """Write ``members`` (a dict, or a list of (name, bytes) pairs to allow duplicates)."""
    items = members.items() if isinstance(members, dict) else members
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicates we ask for
        with zipfile.ZipFile(path, "w", compression) as zf:
            for name, data in items:
                zf.writestr(name, data)
    return path


def npy_bytes(array, allow_pickle=False):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def npy_with_header(text, data=bytes(48)):
    """A version 1.0 .npy member with ``text`` as its header dict, followed by ``data``."""
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + data


def edited(model_file, tmp_path, change_header=None, **member_changes):
    """A copy of ``model_file`` with header fields changed and members replaced (None: removed)."""
    members = members_of(model_file)
    if change_header is not None:
        header = json.loads(members["header.json"])
        change_header(header)
        members["header.json"] = json.dumps(header).encode()
    for member, data in member_changes.items():
        member = f"arrays/{member}.npy"
        if data is None:
            del members[member]
        else:
            members[member] = data
    return write_zip(tmp_path / "edited.bn", members)


# ---------------------------------------------------------------- round trips and saving


@pytest.mark.parametrize("filename", ["model.pkl", "model.npz", "model"])
def test_round_trip_keeps_arrays_and_header_whatever_the_extension(tmp_path, filename):
    path = tmp_path / filename
    save_arrays(path, HEADER, make_arrays())
    header, arrays = load_arrays(path)
    assert {k: header[k] for k in HEADER} == HEADER
    assert header["format"] == "barenet" and header["format_version"] == FORMAT_VERSION
    assert header["kind"] == "model"
    assert header["arrays"]["W0"] == {"shape": [4, 3], "dtype": "<f4"}
    assert header["checksum"].startswith("sha256:")
    assert_same_arrays(arrays, make_arrays())
    for a in arrays.values():
        assert a.flags.writeable and a.flags.c_contiguous and a.dtype.isnative


def test_big_endian_and_non_contiguous_inputs_come_back_native(tmp_path):
    big = np.arange(6, dtype=">i4").reshape(2, 3)
    _, arrays = load_arrays_after_save(tmp_path, {"big": big, "strided": big.T[::-1]})
    assert arrays["big"].dtype == np.dtype("=i4") and arrays["big"].dtype.isnative
    np.testing.assert_array_equal(arrays["big"], big)
    np.testing.assert_array_equal(arrays["strided"], big.T[::-1])
    assert arrays["strided"].flags.c_contiguous


def load_arrays_after_save(tmp_path, arrays, **kwargs):
    save_arrays(tmp_path / "m", {}, arrays, **kwargs)
    return load_arrays(tmp_path / "m", **kwargs)


def test_same_content_gives_the_same_bytes_at_any_time(tmp_path, monkeypatch):
    save_arrays(tmp_path / "a", HEADER, make_arrays())
    later = time.time() + 86_400
    monkeypatch.setattr(time, "time", lambda: later)  # ZIP entries often carry the clock time
    save_arrays(tmp_path / "b", HEADER, make_arrays())
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


def test_saved_file_is_a_plain_zip_of_json_and_npy(model_file):
    members = members_of(model_file)
    assert set(members) == {"header.json"} | {f"arrays/{n}.npy" for n in make_arrays()}
    assert json.loads(members["header.json"])["format"] == "barenet"
    loaded = np.load(io.BytesIO(members["arrays/W0.npy"]), allow_pickle=False)
    np.testing.assert_array_equal(loaded, make_arrays()["W0"])


def test_checkpoint_and_model_kinds_are_not_interchangeable(tmp_path):
    path = tmp_path / "run.ckpt"
    save_arrays(path, {"epoch": 3}, {"w": np.ones(2)}, kind="checkpoint")
    header, _ = load_arrays(path, kind="checkpoint")
    assert header["kind"] == "checkpoint" and header["epoch"] == 3
    with pytest.raises(ModelFileError, match=r"run\.ckpt is a barenet 'checkpoint' file, not a"):
        load_arrays(path)


@pytest.mark.parametrize(
    ("header", "arrays", "message"),
    [
        ({}, {"a/b": np.ones(1)}, "array name 'a/b'"),
        ({}, {"": np.ones(1)}, "array name ''"),
        ({}, {"w": np.array([object()])}, "dtype object"),
        ({}, {"w": np.array(["text"])}, "dtype <U4"),
        ({"kind": "model"}, {}, "reserved"),
        ({"checksum": "x"}, {}, "reserved"),
        ({"deep": json.loads("[" * 70 + "]" * 70)}, {}, "over 1048576 bytes or 64 levels deep"),
        ({"big": "x" * (2 << 20)}, {}, "over 1048576 bytes or 64 levels deep"),
    ],
)
def test_save_refuses_what_it_could_not_load_back(tmp_path, header, arrays, message):
    with pytest.raises(ValueError, match=message):
        save_arrays(tmp_path / "m", header, arrays)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- atomic writes


def test_atomic_write_bytes_replaces_the_file(tmp_path):
    path = tmp_path / "out.bin"
    atomic_write_bytes(path, b"old")
    atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_atomic_open_keeps_the_old_file_when_the_writer_fails(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"), atomic_open(path) as f:
        f.write(b"half of the new")
        raise RuntimeError("boom")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_failed_save_keeps_the_previous_model(model_file):
    class Unserialisable:
        pass

    with pytest.raises(TypeError):
        save_arrays(model_file, {"bad": Unserialisable()}, {"w": np.ones(2)})
    _, arrays = load_arrays(model_file)
    assert_same_arrays(arrays, make_arrays())


CHILD = """
import sys
import numpy as np
from barenet.files.archive import save_arrays
path, first = sys.argv[1], int(sys.argv[2])
w = np.empty(300_000, dtype=np.int32)
for version in range(first, first + 100_000):
    w.fill(version)
    save_arrays(path, {"version": version}, {"w": w, "v": np.array(version)})
    if version == first:
        print("saving", flush=True)
"""


def test_kill_9_during_saves_leaves_an_old_or_new_complete_file(tmp_path):
    path = tmp_path / "model.pkl"
    save_arrays(path, {"version": 0}, {"w": np.zeros(300_000, np.int32), "v": np.array(0)})
    env = {**os.environ, "PYTHONPATH": str(Path(barenet.files.archive.__file__).parents[2])}
    rng = random.Random(1234)
    seen = set()
    for trial in range(30):
        first = (trial + 1) * 1_000_000
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), str(first)], stdout=subprocess.PIPE, env=env
        )
        assert child.stdout.readline() == b"saving\n"
        time.sleep(rng.uniform(0, 0.03))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        header, arrays = load_arrays(path)
        version = header["version"]
        assert first <= version < first + 100_000  # the child saved, so it is a new version
        assert arrays["v"] == version and np.all(arrays["w"] == version)
        seen.add(version)
    leftovers = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(seen) == 30
    assert leftovers, "no kill landed in the middle of a write: the test proved nothing"


# ---------------------------------------------------------------- pickles and non-barenet files


class MakesMarker:
    """Unpickling this runs ``open(marker, 'w')``: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("protocol", [0, 1, 2, pickle.HIGHEST_PROTOCOL])
def test_a_malicious_pickle_is_refused_without_running_it(tmp_path, protocol):
    canary = tmp_path / "canary"
    pickle.loads(pickle.dumps(MakesMarker(canary), protocol=protocol)).close()
    assert canary.exists()  # the payload really does run when unpickled

    marker = tmp_path / "marker"
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"weights": MakesMarker(marker)}, protocol=protocol))
    with pytest.raises(ModelFileError, match=r"model\.pkl is a Python pickle; barenet refuses"):
        load_arrays(path)
    assert not marker.exists()


def test_object_array_member_is_refused_without_unpickling(model_file, tmp_path):
    marker = tmp_path / "marker"
    payload = npy_bytes(np.array([MakesMarker(marker), None], dtype=object), allow_pickle=True)
    path = edited(model_file, tmp_path, b0=payload)
    with pytest.raises(ModelFileError, match=r"'arrays/b0\.npy' has dtype object"):
        load_arrays(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"hello world", r"not a barenet file \(not a ZIP archive\)"),
        (npy_bytes(np.ones(3)), r"not a barenet file \(a bare NumPy .npy file\)"),
        (b"PK\x03\x04" + bytes(100), "damaged ZIP archive"),
    ],
)
def test_files_that_are_not_zips_are_refused(tmp_path, content, message):
    path = tmp_path / "thing.bn"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=r"thing\.bn: " + message):
        load_arrays(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ModelFileError, match=r"nothing\.bn: no such file"):
        load_arrays(tmp_path / "nothing.bn")
    with pytest.raises(ModelFileError, match="cannot open"):
        load_arrays(tmp_path)


def test_an_npz_archive_is_not_a_barenet_file(tmp_path):
    path = tmp_path / "weights.npz"
    np.savez(path, w=np.ones(3))
    with pytest.raises(ModelFileError, match="not a barenet file .*no header.json"):
        load_arrays(path)


# ---------------------------------------------------------------- hostile ZIP layouts


def test_extra_members_are_refused(model_file, tmp_path):
    members = members_of(model_file)
    write_zip(tmp_path / "x.bn", {**members, "notes.txt": b"hi"})
    with pytest.raises(ModelFileError, match="unexpected member 'notes.txt'"):
        load_arrays(tmp_path / "x.bn")
    write_zip(tmp_path / "y.bn", {**members, "arrays/extra.npy": npy_bytes(np.ones(2))})
    with pytest.raises(ModelFileError, match="unexpected member 'arrays/extra.npy' not listed"):
        load_arrays(tmp_path / "y.bn")


def test_missing_member_is_refused(model_file, tmp_path):
    with pytest.raises(ModelFileError, match=r"missing member 'arrays/W0\.npy'"):
        load_arrays(edited(model_file, tmp_path, W0=None))


def test_duplicated_member_is_refused(model_file, tmp_path):
    members = list(members_of(model_file).items())
    write_zip(tmp_path / "dup.bn", members + [members[-1]])
    with pytest.raises(ModelFileError, match="appears twice"):
        load_arrays(tmp_path / "dup.bn")


def test_unsupported_compression_is_refused(model_file, tmp_path):
    write_zip(tmp_path / "bz.bn", members_of(model_file), zipfile.ZIP_BZIP2)
    with pytest.raises(ModelFileError, match="unsupported compression"):
        load_arrays(tmp_path / "bz.bn")


def test_deflated_file_loads(model_file, tmp_path):
    write_zip(tmp_path / "deflated.bn", members_of(model_file), zipfile.ZIP_DEFLATED)
    assert_same_arrays(load_arrays(tmp_path / "deflated.bn")[1], make_arrays())


@pytest.mark.parametrize(("count", "size"), [(1, 16 << 20), (32, 64 << 10)])
def test_zip_bombs_are_refused_in_one_member_or_spread_over_many(model_file, tmp_path, count, size):
    zeros = npy_bytes(np.zeros(size, np.uint8))  # deflate squeezes zeros about 1000 times

    def declare(header):
        for i in range(count):
            header["arrays"][f"zeros{i}"] = {"shape": [size], "dtype": "|u1"}

    members = members_of(edited(model_file, tmp_path, change_header=declare))
    members.update({f"arrays/zeros{i}.npy": zeros for i in range(count)})
    write_zip(tmp_path / "bomb.bn", members, zipfile.ZIP_DEFLATED)
    with pytest.raises(ModelFileError, match="bomb.bn: members expand to .* a possible zip bomb"):
        load_arrays(tmp_path / "bomb.bn")


def test_header_claiming_an_enormous_array_is_refused_before_allocating(model_file, tmp_path):
    path = edited(
        model_file,
        tmp_path,
        change_header=lambda h: h["arrays"]["W0"].update(shape=[100_000, 100_000]),
    )
    with pytest.raises(ModelFileError, match="declares 40000000.* bytes of arrays, over"):
        load_arrays(path)


def test_member_larger_than_its_declared_shape_is_refused(model_file, tmp_path):
    path = edited(model_file, tmp_path, W0=npy_bytes(np.zeros(5000, np.float32)))
    with pytest.raises(ModelFileError, match=r"'arrays/W0\.npy' is 20128 bytes, but <f4 \[4, 3\]"):
        load_arrays(path)


def test_member_truncated_inside_its_data_is_refused(model_file, tmp_path):
    path = edited(model_file, tmp_path, W0=npy_bytes(make_arrays()["W0"])[:-4])
    with pytest.raises(ModelFileError, match=r"'arrays/W0\.npy' has 44 bytes of data, not 48"):
        load_arrays(path)


# ---------------------------------------------------------------- hostile headers


@pytest.mark.parametrize(
    ("header_bytes", "message"),
    [
        (b"\xff\xfe{}", "header.json is not valid UTF-8"),
        (b'{"format": "barenet",', "header.json is not valid JSON"),
        (b"[1, 2]", "header.json is not a JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, "header.json is nested 100000 deep, over the limit"),
        # Brackets inside strings are not nesting: this header parses, and fails later.
        (b'{"a": "' + b'\\"[' * 200_000 + b'"}', r"not a barenet file \(format is None\)"),
        (b" " * (50 << 20), r"header.json is 52428800 bytes, over 1048576"),
        (b'{"format": "keras"}', r"not a barenet file \(format is 'keras'\)"),
        (b'{"format": "barenet", "format_version": "1"}', "format_version '1' is not a positive"),
    ],
)
def test_bad_header_json_is_refused(model_file, tmp_path, header_bytes, message):
    members = {**members_of(model_file), "header.json": header_bytes}
    path = write_zip(tmp_path / "bad.bn", members)
    with pytest.raises(ModelFileError, match=r"bad\.bn: " + message):
        load_arrays(path)


def test_depth_scan_stays_linear_on_an_unterminated_string(model_file, tmp_path):
    # An unterminated string full of escaped quotes must not make the depth scan quadratic.
    members = {**members_of(model_file), "header.json": b'["' + b'\\"' * 400_000}
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load_arrays(write_zip(tmp_path / "slow.bn", members))
    assert time.perf_counter() - start < 2


def test_newer_format_version_is_refused_with_an_upgrade_message(model_file, tmp_path):
    path = edited(model_file, tmp_path, change_header=lambda h: h.update(format_version=7))
    with pytest.raises(
        ModelFileError,
        match=r"edited\.bn was written by a newer barenet \(format version 7\); "
        rf"this version reads up to {FORMAT_VERSION}",
    ):
        load_arrays(path)


@pytest.mark.parametrize(
    "change",
    [
        lambda h: h.pop("checksum"),
        lambda h: h.pop("arrays"),
        lambda h: h["arrays"]["W0"].update(dtype="|O"),
        lambda h: h["arrays"]["W0"].update(shape=[4, -3]),
        lambda h: h["arrays"]["W0"].update(shape=[4.0, 3]),
        lambda h: h["arrays"]["W0"].update(extra=1),
        lambda h: h["arrays"].update({"../W0": h["arrays"]["W0"]}),
    ],
)
def test_invalid_manifest_is_refused(model_file, tmp_path, change):
    with pytest.raises(ModelFileError, match="header.json (lacks|has an invalid entry)"):
        load_arrays(edited(model_file, tmp_path, change_header=change))


# ---------------------------------------------------------------- hostile .npy members


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (npy_with_header(b"{'descr': oops}"), "has an invalid .npy header"),
        (npy_with_header(b"{'descr': '<f4'}"), "has an invalid .npy header .*correct keys"),
        (
            npy_with_header(b"{'descr': 'O', 'fortran_order': False, 'shape': (4, 3)}"),
            "has dtype object",
        ),
        (npy_with_header(b"[" * 1500 + b"]" * 1500), r"has an invalid .npy header \(Cannot parse"),
        (b"\x93NUMPY\x09\x00" + bytes(200), r"has an invalid .npy header \(unsupported .npy ver"),
        (b"NOTNUMPY" + bytes(200), "has an invalid .npy header .*magic string"),
        (npy_bytes(np.zeros((3, 4), np.float32)), r"holds \['<f4', \[3, 4\], 'C'\]"),
        (npy_bytes(np.zeros((4, 3), np.float64)[:, :2]), r"holds \['<f8', \[4, 2\], 'C'\]"),
        (
            npy_bytes(np.asfortranarray(np.zeros((4, 3), np.float32))),
            r"holds \[.*'Fortran'\], but header.json says <f4 \[4, 3\] in C",
        ),
        (npy_bytes(np.zeros(12, "S1").reshape(4, 3)), r"has dtype \|S1, which is not allowed"),
    ],
)
def test_bad_npy_members_are_refused(model_file, tmp_path, member, message):
    with pytest.raises(ModelFileError, match=r"member 'arrays/W0\.npy' " + message):
        load_arrays(edited(model_file, tmp_path, W0=member))


def test_edited_array_fails_the_checksum(model_file, tmp_path):
    changed = make_arrays()["W0"]
    changed[0, 0] += 1
    path = edited(model_file, tmp_path, W0=npy_bytes(changed))
    with pytest.raises(
        ModelFileError, match="checksum mismatch: the file is damaged or was edited"
    ):
        load_arrays(path)


def test_edited_header_fails_the_checksum(model_file, tmp_path):
    path = edited(model_file, tmp_path, change_header=lambda h: h["history"]["loss"].append(0.1))
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        load_arrays(path)


def test_flipped_byte_in_array_data_is_caught(model_file, tmp_path):
    data = bytearray(model_file.read_bytes())
    data[data.index(make_arrays()["W0"].tobytes()) + 5] ^= 0x10
    path = tmp_path / "flipped.bn"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="Bad CRC-32 for file 'arrays/W0.npy'"):
        load_arrays(path)


def test_every_truncation_is_refused(model_file):
    for length in reversed(range(model_file.stat().st_size)):
        os.truncate(model_file, length)  # cutting in place is much faster than rewriting
        with pytest.raises(ModelFileError, match=r"model\.bn: "):
            load_arrays(model_file)


# ---------------------------------------------------------------- fuzzing

mutation = st.one_of(
    st.tuples(st.just("truncate"), st.integers(0, 10_000)),
    st.tuples(st.just("flip"), st.integers(0, 10_000), st.integers(1, 255)),
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.binary(min_size=1, max_size=8)),
)


def mutate(data, mutations):
    data = bytearray(data)
    for kind, position, *arg in mutations:
        position %= len(data) + 1
        if kind == "truncate":
            del data[position:]
        elif kind == "flip" and position < len(data):
            data[position] ^= arg[0]
        elif kind == "insert":
            data[position:position] = arg[0]
    return bytes(data)


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "small.bn"
    save_arrays(path, {"history": [0.5, None]}, {"w": np.arange(6.0).reshape(2, 3), "s": 1})
    return path


@settings(
    max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(mutations=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_files_load_unchanged_or_raise_model_file_error(small_model, tmp_path, mutations):
    expected_header, expected_arrays = load_arrays(small_model)
    path = tmp_path / "mutant.bn"
    path.unlink(missing_ok=True)  # a fresh file: rewriting one in place is slow on ext4
    path.write_bytes(mutate(small_model.read_bytes(), mutations))
    tracemalloc.start()
    start = time.perf_counter()
    try:
        header, arrays = load_arrays(path)
    except ModelFileError:
        return
    finally:  # refused or loaded quickly, with memory bounded (the file is a few hundred bytes)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert time.perf_counter() - start < 5 and peak < 16 * 2**20
    assert header == expected_header
    assert_same_arrays(arrays, expected_arrays)
