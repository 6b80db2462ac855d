"""Shared test setup: the real MNIST files, the fast subset, and a local HTTP server.

Real data. Tests marked ``mnist`` need the real MNIST files, looked for where ``barenet train``
looks (:func:`barenet.data.data_home`: ``BARENET_DATA``, else the per-user cache). When they are
missing and such tests are selected, the session first downloads them as ``barenet train`` does
(:func:`barenet.data.download_mnist`, once, into that folder) and says so in one line. When the
download fails (no network), each of those tests is skipped with a one-line reason; in CI
(``CI`` set) it fails instead, so that the real-data tests can never silently skip there.

The fast subset. ``python -m pytest -m "not slow"`` leaves out the tests marked ``slow`` here:
every real-data test (``mnist``: MNIST trainings), the browser and notebook files, the
documentation site's build, and the tests named in :data:`SLOW` (kill -9 of real processes,
thousands of mutated files). What is left needs neither the data nor the network.
"""

import functools
import hashlib
import http.server
import os
import socket
import sys
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

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# In CI the property-based tests draw the same examples every run (a fixed seed), so a submission
# is judged on reproducible inputs; on a developer's machine every run explores new ones.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

import barenet.data.mnist as mnist  # noqa: E402
from barenet.data import data_home, download_mnist, write_idx  # noqa: E402
from barenet.data.families import missing_files  # noqa: E402
from barenet.errors import BarenetError  # noqa: E402

pytest_plugins = ("pytester",)  # tests/test_conftest.py runs sessions with this very file
# The helper modules' asserts explain their failures as the tests' own do.
pytest.register_assert_rewrite("tests.nn.image_layer_check")

# -- the fast subset: which tests are slow -------------------------------------------------------

# Whole files: a real Chromium driven by Playwright, each notebook run in a fresh kernel, and
# the web API driven from its OpenAPI description by schemathesis.
SLOW_FILES = ("test_serve_browser.py", "test_notebooks.py", "test_serve_schema.py")
# Fixtures that build the documentation site or start a browser.
SLOW_FIXTURES = ("site", "chromium")
# Single tests, by name, and why each takes seconds.
SLOW = {
    "test_kill_9_at_random_moments_then_resume_matches_an_uninterrupted_run": "kill -9, resume",
    "test_kill_9_during_saves_leaves_an_old_or_new_complete_file": "kill -9 during saves",
    "test_mutated_files_load_unchanged_or_raise_model_file_error": "2000 mutated model files",
    "test_damaged_files_give_the_right_array_or_data_error": "1000 mutated IDX files",
    "test_the_demo_script_runs_every_study_and_saves_every_figure": "every study, in a process",
    "test_the_demo_script_runs_on_the_digits": "every study on the digits, in a process",
    "test_model_report_holds_the_key_numbers_and_six_figures": "six figures drawn",
    "test_model_report_states_the_settings_in_words": "six figures drawn",
    "test_a_convolutional_network_shows_its_filters_and_feature_maps": "seven figures drawn",
    "test_a_stack_whose_first_layer_is_no_dense_on_the_pixels_gets_no_weight_images": "figures",
    "test_report_command_scores_on_the_models_data_set_and_names_the_classes": "figures",
    "test_cross_val_score_and_grid_search_on_diabetes": "a grid search: many trainings",
    "test_grid_search_picks_the_better_learning_rate": "a grid search: many trainings",
    "test_the_server_log_stays_clean": "barenet serve in a process",
}


def is_slow(item):
    """Whether ``item`` belongs out of the fast subset (see the module's docstring)."""
    return (
        item.get_closest_marker("mnist") is not None
        or item.path.name in SLOW_FILES
        or any(name in SLOW_FIXTURES for name in getattr(item, "fixturenames", ()))
        or getattr(item, "originalname", item.name) in SLOW
    )


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config, items):
    for item in items:
        if is_slow(item):
            item.add_marker(pytest.mark.slow)


# -- the real MNIST files, fetched once for the tests marked mnist -------------------------------


class RealData:
    """Whether the selected tests marked ``mnist`` can have the real files: ``problem`` is the
    one-line reason they cannot, or None."""

    problem = None


def short_cause(error):
    """What made a download fail, in a few words: each mirror's reason, once."""
    lines = str(error).splitlines()
    # DataNotFoundError lists one "  <url>: <reason>" line per mirror under its first line.
    reasons = [line.strip().split(": ", 1)[-1] for line in lines[1:] if line.startswith("  ")]
    cause = "; ".join(dict.fromkeys(reasons)) or (lines[0] if lines else type(error).__name__)
    return cause if len(cause) <= 120 else cause[:117] + "..."


@pytest.hookimpl(trylast=True)  # after -m and -k have chosen the tests, and "collected N items"
def pytest_collection_finish(session):
    config = session.config
    wanted = [item for item in session.items if item.get_closest_marker("mnist")]
    folder = data_home()
    if config.option.collectonly or not wanted or not missing_files(mnist.MNIST, folder):
        return
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal:
        terminal.ensure_newline()
    say = terminal.write if terminal else lambda text: print(text, end="", file=sys.stderr)
    say(f"MNIST not found in {folder}: downloading it once for {len(wanted)} real-data tests...")
    try:
        download_mnist(progress=False)
    except (BarenetError, OSError) as error:
        RealData.problem = (
            f"MNIST could not be downloaded ({short_cause(error)}): "
            "set BARENET_DATA to a folder holding mnist/"
        )
        say(" failed\n")
    else:
        say(" done\n")


def pytest_runtest_setup(item):
    if RealData.problem and item.get_closest_marker("mnist"):
        if os.environ.get("CI"):  # CI runs every test: a missing data set is a failure there
            pytest.fail(RealData.problem, pytrace=False)
        pytest.skip(RealData.problem)


# -- a real HTTP server on 127.0.0.1 for the download tests, and MNIST served by it -------------


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


@pytest.fixture
def fake_mnist(server):
    """Small MNIST-format files on the server: returns (base URL, arrays, their MD5s)."""
    root, base = server
    rng = np.random.default_rng(1)
    arrays = [
        rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, 6, dtype=np.uint8),
        rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, 4, dtype=np.uint8),
    ]
    checksums = {}
    for name, array in zip(mnist.FILES, arrays, strict=True):
        path = write_idx(root / name, array)
        checksums[name] = hashlib.md5(path.read_bytes()).hexdigest()
    return base, arrays, checksums


@pytest.fixture
def closed_port_url():
    """A URL on a port nothing listens on: the connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/file.bin"
