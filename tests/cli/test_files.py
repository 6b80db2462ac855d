"""``barenet download`` (``barenet export`` is tested with the ONNX files, tests/files)."""

from barenet.data import data_home
from tests.cli.helpers import needs_mnist, run


@needs_mnist
def test_download_with_the_files_present_prints_the_folder(capsys):
    # Nothing is missing, so nothing is fetched: this runs offline.
    code, out, _ = run(capsys, "download", "--data-dir", data_home())
    assert code == 0 and out == f"mnist is in {data_home()}\n"


def test_download_help_names_the_data_folder_option(capsys):
    out = run(capsys, "download", "--help")[1]
    assert "--data-dir" in out and "BARENET_DATA" in out
