"""Model and checkpoint files: a ZIP holding ``header.json`` and one ``.npy`` per array.

A barenet file is never a pickle, so loading one runs no code whatever its name ('.pkl' too).
Layout, members stored uncompressed::

    header.json        UTF-8 JSON object: the caller's fields plus "format", "format_version",
                       "kind", "arrays" ({name: {"shape": [...], "dtype": "<f4"}}) and "checksum"
    arrays/<name>.npy  one array in NumPy's .npy format, little-endian, C order

The checksum is SHA-256 over the canonical header (without its checksum) and every array sorted
by name (name, dtype, shape, raw bytes). Loading checks the ZIP layout, each declared size, the
header, each .npy header and the checksum before returning anything, and never allocates more
than MAX_RATIO times the file's real size, so hostile files fail fast with :class:`ModelFileError`.
Writes go through :func:`atomic_open`: a crash leaves the old file or the new one, never a mix.
"""

import contextlib
import hashlib
import io
import itertools
import json
import math
import os
import pickletools
import re
import secrets
import struct
import tokenize
import zipfile
import zlib

import numpy as np

from barenet.errors import BarenetError, ModelFileError, ModelFileNotFoundError

FORMAT_VERSION = 2  # 2: a model's architecture is its layer list (1: the original arguments)
HEADER_MEMBER = "header.json"
MAX_HEADER_BYTES = 1 << 20
MAX_JSON_DEPTH = 64
MAX_TOTAL_BYTES = 4 << 30
MAX_NPY_HEADER = 4096  # numpy writes 128 bytes for ordinary shapes
MAX_RATIO = 100  # real weights barely compress; a file expanding more is a zip bomb
MAX_NDIM = 32

_SMALL = 1 << 20  # this much may come from a file at any compression ratio
_RESERVED = ("format", "format_version", "kind", "arrays", "checksum")
_DTYPES = frozenset(
    np.dtype(c).newbyteorder("<").str for c in "f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1".split()
)
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_MEMBER = re.compile(r"arrays/[A-Za-z0-9_.-]+\.npy")
# The closing quote is optional so that a match never fails and backtracks: linear on any input.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_PICKLE_OPENERS = b"(c]})"  # MARK, GLOBAL, EMPTY_LIST/DICT/TUPLE: how protocol 0/1 pickles begin
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
# numpy parses .npy headers with ast.literal_eval, falling back on tokenize for old files.
_NPY_HEADER_ERRORS = (ValueError, TypeError, SyntaxError, RecursionError, tokenize.TokenError)
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, struct.error)
_ZIP_ERRORS += (NotImplementedError, RuntimeError, OverflowError, ValueError)


@contextlib.contextmanager
def atomic_open(path):
    """Yield a binary file that replaces ``path`` only once fully written and synced.

    The data goes to a temporary file in the same folder, is flushed and fsynced, then
    ``os.replace`` swaps it in, so a crash or ``kill -9`` at any moment leaves the old complete
    file or the new one. On any exception the temporary file is removed and ``path`` is untouched.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as exc:  # named by the path the caller gave, not the hidden temporary file
        raise _unwritable(exc, path, folder) from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # makes the rename durable; not every OS opens folders
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _unwritable(exc, path, folder):
    """The error of a file that cannot be created in ``folder``, naming ``path`` and the
    folder: an exception of ``exc``'s type (FileNotFoundError, PermissionError...)."""
    if isinstance(exc, FileNotFoundError):
        reason = f"no folder {folder} to write it in"
    else:
        reason = f"cannot write it in the folder {folder}: {exc.strerror or exc}"
    return type(exc)(exc.errno, reason, path)


def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path) as f:
        f.write(data)


def save_arrays(path, header, arrays, kind="model"):
    """Atomically write ``arrays`` ({name: array}) and the JSON-able dict ``header`` to ``path``.

    The written header is ``header`` plus the reserved fields (format, format_version, kind,
    arrays, checksum), which ``header`` must not hold. Raises
    :class:`~barenet.errors.BarenetError` for a bad name, dtype or header before the file is
    touched.
    """
    clash = sorted(set(header) & set(_RESERVED))
    if clash:
        raise BarenetError(f"header keys {clash} are reserved by the barenet file format")
    stored = {name: _storable(name, arrays[name]) for name in sorted(arrays)}
    full = json.loads(json.dumps(header))  # what load_arrays will see: tuples as lists, str keys
    full.update(format="barenet", format_version=FORMAT_VERSION, kind=kind)
    full["arrays"] = {n: {"shape": list(a.shape), "dtype": a.dtype.str} for n, a in stored.items()}
    full["checksum"] = _checksum(full, stored)
    text = json.dumps(full).encode("utf-8")
    if len(text) > MAX_HEADER_BYTES or _json_depth(text.decode("utf-8")) > MAX_JSON_DEPTH:
        raise BarenetError(f"header over {MAX_HEADER_BYTES} bytes or {MAX_JSON_DEPTH} levels deep")
    with atomic_open(path) as f, zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(zipfile.ZipInfo(HEADER_MEMBER), text)  # fixed date: same content, same bytes
        for name, a in stored.items():
            _write_npy(zf, name, a)


def _storable(name, array):
    """``array`` as a little-endian C-contiguous ndarray; BarenetError for a bad name or dtype."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise BarenetError(f"array name {name!r} must match [A-Za-z0-9_.-]+")
    a = np.asarray(array)
    little = a.dtype.newbyteorder("<")
    if little.str not in _DTYPES:
        raise BarenetError(
            f"array {name!r} has dtype {a.dtype}; only bool, int, uint, float allowed"
        )
    return np.asarray(a, dtype=little, order="C")  # ascontiguousarray would make 0-d arrays 1-d


def _write_npy(zf, name, a):
    """Stream ``a`` into member ``arrays/<name>.npy`` without copying its data."""
    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(head, np.lib.format.header_data_from_array_1_0(a))
    info = zipfile.ZipInfo(f"arrays/{name}.npy")
    info.file_size = head.tell() + a.nbytes  # lets zipfile choose ZIP64 for members over 2 GiB
    with zf.open(info, "w") as out:
        out.write(head.getvalue())
        out.write(_raw(a))


def _raw(a):
    """The bytes of a C-contiguous array (any shape, 0-d and empty included), as a memoryview."""
    return memoryview(a.reshape(-1).view(np.uint8))


def _checksum(header, arrays):
    """``"sha256:<hex>"`` over ``header`` minus its checksum, then each array sorted by name."""
    digest = hashlib.sha256()

    def feed(data):  # length prefixes keep the boundaries between fields unambiguous
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)

    feed(_canonical({k: v for k, v in header.items() if k != "checksum"}))
    for name in sorted(arrays):
        a = arrays[name]
        feed(_canonical([name, a.dtype.str, list(a.shape)]))
        feed(_raw(a))
    return "sha256:" + digest.hexdigest()


def _canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode("ascii")


def load_arrays(path, kind="model"):
    """Read a file written by :func:`save_arrays`; returns ``(header, {name: ndarray})``.

    ``header`` includes the reserved fields. Arrays are writable, C-contiguous and in native byte
    order. Raises :class:`ModelFileError`, naming the file and the problem, for anything that is
    not an intact barenet file of this ``kind``; nothing is returned before all checks pass.
    """
    name = os.fspath(path)
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise ModelFileNotFoundError(f"{name}: no such file") from None
    except OSError as e:
        raise _bad(name, f"cannot open: {e.strerror or e}") from None
    with f:
        try:
            header, arrays = _read_file(name, f, kind)
        except ModelFileError:
            raise
        except _ZIP_ERRORS as e:
            raise _bad(name, f"damaged ZIP archive: {e}") from e
    return header, {n: a.astype(a.dtype.newbyteorder("="), copy=False) for n, a in arrays.items()}


def _bad(name, problem):
    return ModelFileError(f"{name}: {problem}")


def _read_file(name, f, kind):
    """Check and read the open file ``f``; arrays come back little-endian."""
    _check_signature(name, f.read(64))
    f.seek(0)
    with zipfile.ZipFile(f) as zf:
        infos = _check_members(name, zf, os.fstat(f.fileno()).st_size)
        header = _read_header(name, zf, infos[HEADER_MEMBER], kind)
        manifest = header["arrays"]
        _check_manifest_sizes(name, manifest, infos)
        arrays = {n: _read_npy(name, zf, infos[f"arrays/{n}.npy"], manifest[n]) for n in manifest}
    if _checksum(header, arrays) != header["checksum"]:
        raise _bad(name, "checksum mismatch: the file is damaged or was edited")
    return header, arrays


def _check_signature(name, head):
    """Refuse empty files, pickles, bare .npy files and anything else that is not a ZIP."""
    if not head:
        raise _bad(name, "the file is empty")
    if _is_pickle(head):
        raise ModelFileError(
            f"{name} is a Python pickle; barenet refuses to load pickles "
            "because they can run arbitrary code"
        )
    if not head.startswith(b"PK\x03\x04"):
        what = "a bare NumPy .npy file" if head.startswith(b"\x93NUMPY") else "not a ZIP archive"
        raise _bad(name, f"not a barenet file ({what})")


def _is_pickle(head):
    """Whether ``head`` starts like a pickle: PROTO 2-5, or three protocol 0/1 opcodes."""
    if head[0] == 0x80:
        return len(head) > 1 and 2 <= head[1] <= 5
    if head[0] not in _PICKLE_OPENERS:
        return False
    try:  # genops only decodes opcodes; it never executes them
        return len(list(itertools.islice(pickletools.genops(io.BytesIO(head)), 3))) == 3
    except ValueError:
        return False


def _check_members(name, zf, file_size):
    """``{member name: ZipInfo}`` once names, duplicates, compression and sizes are plausible."""
    if HEADER_MEMBER not in zf.namelist():
        raise _bad(name, f"not a barenet file (the archive has no {HEADER_MEMBER})")
    infos = {}
    for info in zf.infolist():
        member = info.filename
        if member != HEADER_MEMBER and not _MEMBER.fullmatch(member):
            raise _bad(name, f"unexpected member {member!r} in the archive")
        if member in infos:
            raise _bad(name, f"member {member!r} appears twice")
        if info.flag_bits & 0x1 or info.compress_type not in _COMPRESSIONS:
            raise _bad(name, f"member {member!r} is encrypted or uses unsupported compression")
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            raise _bad(name, f"member {member!r} declares inconsistent sizes")
        infos[member] = info
    claimed = sum(info.compress_size for info in infos.values())
    if claimed > file_size:
        raise _bad(name, f"truncated: members claim {claimed} bytes, the file has {file_size}")
    expanded = sum(info.file_size for info in infos.values())  # all that loading may allocate
    if expanded > max(MAX_RATIO * file_size, _SMALL):
        raise _bad(name, f"members expand to {expanded} bytes, a possible zip bomb")
    return infos


def _read_header(name, zf, info, kind):
    """Parse and check ``header.json``: size, UTF-8, nesting depth, JSON, fields, manifest."""
    if info.file_size > MAX_HEADER_BYTES:
        raise _bad(name, f"header.json is {info.file_size} bytes, over {MAX_HEADER_BYTES}")
    with zf.open(info) as member:
        raw = member.read(MAX_HEADER_BYTES + 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad(name, "header.json is not valid UTF-8") from None
    depth = _json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise _bad(name, f"header.json is nested {depth} deep, over the limit of {MAX_JSON_DEPTH}")
    try:
        header = json.loads(text)
    except ValueError as e:
        raise _bad(name, f"header.json is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise _bad(name, "header.json is not a JSON object")
    _check_fields(name, header, kind)
    return header


def _json_depth(text):
    """Deepest ``[``/``{`` nesting of JSON ``text`` outside strings; linear time, no recursion."""
    skeleton = np.frombuffer(_JSON_STRING.sub("", text).encode("utf-8"), np.uint8)
    opens = (skeleton == ord("[")) | (skeleton == ord("{"))
    closes = (skeleton == ord("]")) | (skeleton == ord("}"))
    return int(np.cumsum(opens.astype(np.int64) - closes).max(initial=0))


def _check_fields(name, header, kind):
    """Check the reserved header fields and every manifest entry."""
    if header.get("format") != "barenet":
        raise _bad(name, f"not a barenet file (format is {header.get('format')!r})")
    version = header.get("format_version")
    if type(version) is not int or version < 1:
        raise _bad(name, f"format_version {version!r} is not a positive integer")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{name} was written by a newer barenet (format version {version}); "
            f"this version reads up to {FORMAT_VERSION}"
        )
    if header.get("kind") != kind:
        raise ModelFileError(f"{name} is a barenet {header.get('kind')!r} file, not a {kind!r}")
    if not isinstance(header.get("checksum"), str) or not isinstance(header.get("arrays"), dict):
        raise _bad(name, "header.json lacks its checksum or its 'arrays' table")
    for array, spec in header["arrays"].items():
        if not (_NAME.fullmatch(array) and isinstance(spec, dict) and _valid_spec(**spec)):
            raise _bad(name, f"header.json has an invalid entry for array {array!r}")


def _valid_spec(shape=None, dtype=None, **unknown):
    """Whether a manifest entry is ``{"shape": [non-negative ints], "dtype": allowed dtype}``."""
    sizes_ok = isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)
    return not unknown and dtype in _DTYPES and sizes_ok and len(shape) <= MAX_NDIM


def _nbytes(spec):
    return math.prod(spec["shape"]) * np.dtype(spec["dtype"]).itemsize


def _check_manifest_sizes(name, manifest, infos):
    """Members must match the manifest one to one, each sized as its shape and dtype need."""
    expected = {f"arrays/{n}.npy" for n in manifest} | {HEADER_MEMBER}
    missing, extra = sorted(expected - infos.keys()), sorted(infos.keys() - expected)
    if missing:
        raise _bad(name, f"missing member {missing[0]!r} listed in header.json")
    if extra:
        raise _bad(name, f"unexpected member {extra[0]!r} not listed in header.json")
    total = sum(_nbytes(spec) for spec in manifest.values())
    if total > MAX_TOTAL_BYTES:
        raise _bad(name, f"header.json declares {total} bytes of arrays, over {MAX_TOTAL_BYTES}")
    for array, spec in manifest.items():
        size, need = infos[f"arrays/{array}.npy"].file_size, _nbytes(spec)
        if not need < size <= need + MAX_NPY_HEADER:
            needs = f"{spec['dtype']} {spec['shape']} needs {need} plus a .npy header"
            raise _bad(name, f"member 'arrays/{array}.npy' is {size} bytes, but {needs}")


def _read_npy(name, zf, info, spec):
    """Read one ``.npy`` member into a fresh little-endian array after checking its header."""
    member = info.filename
    with zf.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
            if version not in ((1, 0), (2, 0)):
                raise ValueError(f"unsupported .npy version {version}")
            reader = getattr(np.lib.format, f"read_array_header_{version[0]}_0")
            shape, fortran_order, dtype = reader(f, max_header_size=MAX_NPY_HEADER)
        except _NPY_HEADER_ERRORS as e:
            raise _bad(name, f"member {member!r} has an invalid .npy header ({e})") from None
        if dtype.str not in _DTYPES:
            raise _bad(name, f"member {member!r} has dtype {dtype}, which is not allowed")
        found = [dtype.str, list(shape), "Fortran" if fortran_order else "C"]
        if found != [spec["dtype"], spec["shape"], "C"]:
            declared = f"{spec['dtype']} {spec['shape']} in C order"
            raise _bad(name, f"member {member!r} holds {found}, but header.json says {declared}")
        data_size = info.file_size - f.tell()
        if data_size != _nbytes(spec):  # checked before allocating anything
            raise _bad(
                name, f"member {member!r} has {data_size} bytes of data, not {_nbytes(spec)}"
            )
        array = np.empty(shape, dtype)
        if f.readinto(_raw(array)) != array.nbytes or f.read(1):
            raise _bad(name, f"member {member!r} is truncated or has trailing data")
    return array
