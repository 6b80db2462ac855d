"""Download one file from a list of mirrors, verify its MD5 and write it atomically.

The bytes are streamed to a temporary file in the destination folder, which is renamed over the
destination only once it is complete and verified, so an interrupted or failed download never
leaves a partial file where a complete one is expected.
"""

import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from barenet.errors import DataNotFoundError

_CHUNK = 1 << 16
_USER_AGENT = "barenet"


class _MirrorFailed(Exception):
    """One mirror served bytes that cannot be used (incomplete or wrong checksum)."""


# What makes one mirror fail and the next one be tried: URLError (HTTP errors included),
# refused or dropped connections and timeouts are OSErrors; ValueError is a malformed URL.
_MIRROR_ERRORS = (_MirrorFailed, OSError, http.client.HTTPException, ValueError)


def download(url_list, dest_path, md5=None, progress=True, timeout=30):
    """Fetch ``dest_path`` from the first of ``url_list`` that serves it completely and intact.

    Each URL is tried in order; an HTTP or connection error, a timeout, an incomplete body or an
    MD5 (hex digest) mismatch moves on to the next one. ``progress`` shows a tqdm bar on stderr.
    Returns ``dest_path`` as a Path; raises :class:`DataNotFoundError` listing every mirror and
    why it failed when none succeeds, leaving no file behind, nor the folders it made for it
    (an empty ``fashion-mnist/`` in a shared data folder would say the data set is there).
    """
    dest_path = Path(dest_path)
    url_list = [url_list] if isinstance(url_list, str) else list(url_list)
    if not url_list:
        raise DataNotFoundError(f"{dest_path.name}: no mirror URL to download it from")
    created = [p for p in (dest_path.parent, *dest_path.parent.parents) if not p.exists()]
    dest_path.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    try:
        for url in url_list:
            try:
                _download_one(url, dest_path, md5, progress, timeout)
                return dest_path
            except _MIRROR_ERRORS as exc:
                failures.append(f"  {url}: {_describe(exc)}")
    except BaseException:  # Ctrl-C too: leave the data folder as it was
        _remove_empty(created)
        raise
    _remove_empty(created)
    raise DataNotFoundError(
        f"could not download {dest_path.name} to {dest_path.parent}; every mirror failed:\n"
        + "\n".join(failures)
    )


def _remove_empty(folders):
    """Remove ``folders`` (made by this download, deepest first) that are still empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # not empty (another file arrived), or already gone
            return


def _download_one(url, dest_path, md5, progress, timeout):
    """Stream ``url`` into a temporary file beside ``dest_path``, check it, then rename it."""
    handle, tmp_name = tempfile.mkstemp(prefix=f".{dest_path.name}.", dir=dest_path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            # mkstemp makes the file private; the data is public, so make it readable by all.
            os.fchmod(out.fileno(), 0o644)
            digest = _stream(url, out, dest_path.name, progress, timeout)
            out.flush()
            os.fsync(out.fileno())
        if md5 is not None and digest != md5.lower():
            raise _MirrorFailed(f"MD5 mismatch: got {digest}, expected {md5.lower()}")
        os.replace(tmp_name, dest_path)
    except BaseException:
        os.unlink(tmp_name)
        raise


def _stream(url, out, name, progress, timeout):
    """Copy the body at ``url`` to ``out`` in chunks; return the MD5 hex digest of the body."""
    digest = hashlib.md5(usedforsecurity=False)
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        expected = _content_length(response)
        received = 0
        with _progress_bar(expected, name, progress) as bar:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    # http.client does not complain when the connection closes before Content-Length bytes.
    if expected is not None and received < expected:
        raise _MirrorFailed(f"incomplete download: got {received} of {expected} bytes")
    return digest.hexdigest()


def _content_length(response):
    """The announced body size in bytes, or None when the server did not say."""
    try:
        return int(response.headers["Content-Length"])
    except (TypeError, ValueError):
        return None


def _progress_bar(total, name, progress):
    """A byte-counting tqdm bar on stderr, silent when ``progress`` is false."""
    return tqdm(
        total=total,
        desc=name,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
        disable=not progress,
    )


def _describe(exc):
    """A one-line reason for a mirror failure, e.g. 'HTTP Error 404: File not found'."""
    if isinstance(exc, (_MirrorFailed, urllib.error.HTTPError)):
        return str(exc)
    if isinstance(exc, urllib.error.URLError):
        exc = exc.reason
    if isinstance(exc, BaseException):
        return f"{type(exc).__name__}: {exc}"
    return str(exc)
