"""The figures as they are saved, for the tests that read their Axes back."""

import pytest
from matplotlib.figure import Figure

pytest.register_assert_rewrite("tests.viz.helpers")  # its asserts explain their failures


@pytest.fixture
def drawn(monkeypatch):
    """Every Figure saved during the test, in order, kept to read its Axes back.

    Kept at ``Figure.savefig``, which every figure function of barenet.viz ends with, so the
    tests do not depend on the module or helper a function saves through.
    """
    kept, savefig = [], Figure.savefig

    def keep(fig, *args, **kwargs):
        kept.append(fig)
        return savefig(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    return kept
