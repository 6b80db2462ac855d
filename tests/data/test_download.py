"""download and download_mnist against a real HTTP server on 127.0.0.1 started by the tests
(the server, ``closed_port_url`` and ``fake_mnist`` are in tests/conftest.py)."""

import hashlib
import socket

import numpy as np
import pytest

import barenet.data.mnist as mnist
from barenet.data import download_mnist, load_mnist
from barenet.data.download import download
from barenet.errors import DataNotFoundError


@pytest.fixture
def silent_url():
    """A URL whose server accepts the connection but never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/file.bin"


@pytest.fixture
def served_file(server):
    """A 300 kB file on the server (several chunks): returns (URL, content, MD5)."""
    root, base = server
    content = np.random.default_rng(0).integers(0, 256, 300_000, dtype=np.uint8).tobytes()
    (root / "file.bin").write_bytes(content)
    return base + "file.bin", content, hashlib.md5(content).hexdigest()


def test_download_verifies_md5_and_leaves_only_the_file(tmp_path, served_file):
    url, content, md5 = served_file
    dest = tmp_path / "out" / "file.bin"
    assert download([url], dest, md5=md5, progress=False) == dest
    assert dest.read_bytes() == content
    assert [p.name for p in dest.parent.iterdir()] == ["file.bin"]


def test_failing_mirrors_are_skipped(tmp_path, server, served_file, closed_port_url, silent_url):
    url, content, md5 = served_file
    missing = server[1] + "missing.bin"
    short = server[1] + "short"
    dest = tmp_path / "file.bin"
    mirrors = [missing, closed_port_url, silent_url, short, url]
    download(mirrors, dest, md5=md5, timeout=0.5, progress=False)
    assert dest.read_bytes() == content


def test_every_mirror_failing_lists_each_reason(
    tmp_path, server, served_file, closed_port_url, silent_url
):
    url, _, _ = served_file
    mirrors = [server[1] + "missing.bin", closed_port_url, silent_url, server[1] + "short", url]
    dest = tmp_path / "dest" / "file.bin"
    with pytest.raises(DataNotFoundError) as info:
        download(mirrors, dest, md5="0" * 32, timeout=0.5, progress=False)
    lines = str(info.value).splitlines()
    assert "file.bin" in lines[0]
    reasons = ["404", "Connection refused", "timed out", "incomplete download", "MD5 mismatch"]
    for mirror, reason, line in zip(mirrors, reasons, lines[1:], strict=True):
        assert mirror in line and reason in line
    # No partial file left, nor the folder made for it (issue 18); its parent stays.
    assert not dest.parent.exists() and tmp_path.is_dir()


def test_md5_mismatch_everywhere_keeps_an_existing_file_intact(tmp_path, server, served_file):
    url, content, md5 = served_file
    dest = tmp_path / "dest" / "file.bin"
    dest.parent.mkdir()
    dest.write_bytes(b"previous version")
    wrong = hashlib.md5(b"something else").hexdigest()
    with pytest.raises(DataNotFoundError, match=f"MD5 mismatch: got {md5}, expected {wrong}"):
        download([url, url], dest, md5=wrong, progress=False)
    assert dest.read_bytes() == b"previous version"
    assert [p.name for p in dest.parent.iterdir()] == ["file.bin"]


def test_progress_bar_goes_to_stderr_only_when_asked(tmp_path, served_file, capsys):
    url, _, md5 = served_file
    download([url], tmp_path / "quiet.bin", md5=md5, progress=False)
    assert capsys.readouterr().err == ""
    download([url], tmp_path / "shown.bin", md5=md5, progress=True)
    captured = capsys.readouterr()
    assert "shown.bin" in captured.err and "293k" in captured.err
    assert captured.out == ""


def test_no_mirror_at_all(tmp_path):
    with pytest.raises(DataNotFoundError, match="no mirror"):
        download([], tmp_path / "file.bin")


def test_download_mnist_then_load_mnist(tmp_path, fake_mnist, closed_port_url):
    base, arrays, checksums = fake_mnist
    mirrors = [closed_port_url.rsplit("/", 1)[0], base]
    folder = download_mnist(tmp_path / "data", mirrors=mirrors, progress=False, checksums=checksums)
    assert folder == tmp_path / "data" / "mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(mnist.FILES)
    for loaded, served in zip(load_mnist(tmp_path / "data", download=False), arrays, strict=True):
        np.testing.assert_array_equal(loaded, served)


def test_download_mnist_keeps_files_already_present(tmp_path, fake_mnist, closed_port_url):
    base, _, checksums = fake_mnist
    folder = download_mnist(tmp_path, mirrors=[base], progress=False, checksums=checksums)
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    # Nothing is missing, so the unreachable mirror is never contacted.
    download_mnist(tmp_path, mirrors=[closed_port_url], progress=False)
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


def test_download_mnist_checks_the_published_md5_by_default(tmp_path, fake_mnist):
    base, _, _ = fake_mnist
    with pytest.raises(DataNotFoundError, match=f"expected {mnist.MD5[mnist.FILES[0]]}"):
        download_mnist(tmp_path, mirrors=[base], progress=False)
    assert not (tmp_path / "mnist").exists()  # no file, and no empty folder left behind


def test_load_mnist_downloads_what_is_missing(tmp_path, fake_mnist, monkeypatch):
    base, arrays, checksums = fake_mnist
    monkeypatch.setattr(mnist, "MIRRORS", (base,))
    monkeypatch.setattr(mnist, "MD5", checksums)
    loaded = load_mnist(tmp_path, progress=False)
    for array, served in zip(loaded, arrays, strict=True):
        np.testing.assert_array_equal(array, served)


def test_load_mnist_reports_where_it_looked_when_download_fails(
    tmp_path, closed_port_url, monkeypatch
):
    monkeypatch.setattr(mnist, "MIRRORS", (closed_port_url.rsplit("/", 1)[0],))
    with pytest.raises(DataNotFoundError) as info:
        load_mnist(tmp_path, progress=False)
    message = str(info.value)
    assert str(tmp_path / "mnist") in message and "BARENET_DATA" in message
    assert "Connection refused" in message


def test_a_failed_download_keeps_folders_that_were_there(tmp_path, closed_port_url):
    shared = tmp_path / "shared"
    (shared / "fashion-mnist").mkdir(parents=True)
    with pytest.raises(DataNotFoundError):
        download([closed_port_url], shared / "fashion-mnist" / "f.gz", progress=False)
    assert (shared / "fashion-mnist").is_dir()  # it was there before: only what it made goes
    with pytest.raises(DataNotFoundError):
        download([closed_port_url], shared / "kmnist" / "deep" / "f.gz", progress=False)
    assert sorted(p.name for p in shared.iterdir()) == ["fashion-mnist"]
