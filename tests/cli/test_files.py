"""``barenet download`` (``barenet export`` is tested with the ONNX files, tests/files)."""

import dataclasses

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


def test_a_failed_download_leaves_no_folder_behind(tmp_path, capsys, monkeypatch):
    """In a shared data folder, an empty kmnist/ would look like a data set that is there."""
    import barenet.data.datasets as datasets

    family = datasets.IDX_FAMILIES["kmnist"]
    dead = dataclasses.replace(family, mirrors=("http://127.0.0.1:9/",))
    monkeypatch.setitem(datasets.IDX_FAMILIES, "kmnist", dead)
    shared = tmp_path / "shared"
    shared.mkdir()
    code, out, err = run(capsys, "download", "--dataset", "kmnist", "--data-dir", shared)
    assert code == 2 and "could not download" in err and "Traceback" not in err
    assert list(shared.iterdir()) == []
