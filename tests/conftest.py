"""Shared test setup: the real MNIST files.

Tests marked ``mnist`` need the real data (found through ``BARENET_DATA``). Without it they are
skipped on a developer's machine, but in CI (``CI`` set) they run and fail loudly instead, so
that the real-data tests can never silently skip there.
"""

import functools
import http.server
import os
import threading

# One BLAS thread for the tests and the processes they start. Results do not depend on it, but
# time does: OpenBLAS threads spin while they wait, so two processes with two threads each on
# this 2-core machine (a test and its child, or a test and anything else) slow each other ~50x.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
# The README's command gives BARENET_DATA relative to the checkout; the scripts the tests start
# run in other folders, so they inherit it made absolute.
if os.environ.get("BARENET_DATA"):
    os.environ["BARENET_DATA"] = os.path.abspath(os.environ["BARENET_DATA"])

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# In CI the property-based tests draw the same examples every run (a fixed seed), so a submission
# is judged on reproducible inputs; on a developer's machine every run explores new ones.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

from barenet.data import data_home  # noqa: E402

MNIST_FOUND = all(
    (data_home() / name).is_file()
    for name in (
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    )
)


def pytest_configure(config):
    config.addinivalue_line("markers", "mnist: needs the real MNIST files (BARENET_DATA)")


def pytest_collection_modifyitems(config, items):
    if MNIST_FOUND or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason="MNIST not found: set BARENET_DATA to the folder holding mnist/")
    for item in items:
        if "mnist" in item.keywords:
            item.add_marker(skip)


# -- a real HTTP server on 127.0.0.1, for the download tests ------------------------------------


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves files from a folder; ``/short`` promises 1000 bytes and sends 10."""

    def do_GET(self):
        if self.path == "/short":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(bytes(10))
            return
        super().do_GET()

    def log_message(self, format, *args):
        """Keep the test output clean."""


@pytest.fixture
def server(tmp_path):
    """A live server: returns (folder it serves, base URL ending in /)."""
    root = tmp_path / "www"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
    )
    # A short poll interval makes shutdown() quick.
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()
