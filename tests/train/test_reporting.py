"""What the loop reports while it runs (per batch, on resume, on Ctrl-C), and what it refuses:
a resume without a checkpoint, a resume with other settings, pixels on the 0-255 scale."""

import re
import warnings

import numpy as np
import pytest

from barenet import BarenetError, ModelFileError, NeuralNetwork
from barenet.progress import ProgressBar
from barenet.train.trainer import TrainingInterrupted


def data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 16), dtype=np.float32)
    return X, (X[:, :4].sum(axis=1) * 2).astype(int) % 3


def net(**kwargs):
    return NeuralNetwork(16, [8], 3, **{"learning_rate": 0.1, "seed": 0, **kwargs})


class Recorder:
    def __init__(self):
        self.events = []

    def on_epoch_begin(self, trainer, epoch):
        self.events.append(("epoch", epoch))

    def on_batch_end(self, trainer, batch, logs):
        self.events.append(("batch", batch, logs["batch"], logs["batches"], logs["loss"]))


def test_callbacks_see_every_batch_with_the_running_loss():
    X, y = data(n=100)
    recorder = Recorder()
    history = net().train(X, y, epochs=2, batch_size=32, verbose=False, callbacks=[recorder])
    batches = [e for e in recorder.events if e[0] == "batch"]
    assert [e[0] for e in recorder.events[:5]] == ["epoch", "batch", "batch", "batch", "batch"]
    assert [e[1:4] for e in batches[:4]] == [(0, 1, 4), (1, 2, 4), (2, 3, 4), (3, 4, 4)]
    assert len(batches) == 8
    # The running loss at the epoch's last batch is the epoch's training loss.
    assert batches[3][4] == pytest.approx(history["train_loss"][0])
    assert batches[7][4] == pytest.approx(history["train_loss"][1])


def test_the_same_weights_with_or_without_batch_callbacks():
    X, y = data()
    a, b = net(), net()
    a.train(X, y, epochs=2, batch_size=16, verbose=False)
    b.train(X, y, epochs=2, batch_size=16, verbose=False, callbacks=[Recorder()])
    np.testing.assert_array_equal(a.params, b.params)


def test_the_progress_bar_counts_batches_and_keeps_the_epoch_lines(capsys):
    X, y = data(n=100)
    bar = ProgressBar(2, file=None)
    net().train(X, y, epochs=2, batch_size=25, verbose=False, callbacks=[bar])
    out, err = capsys.readouterr()
    assert re.findall(r"^epoch +(\d)/2  loss [\d.]+  acc", out, flags=re.M) == ["1", "2"]
    assert "8/8" in err and "batch" in err and "loss " in err  # 2 epochs of 4 batches
    quiet = ProgressBar(2, bar=False)
    net().train(X, y, epochs=2, batch_size=25, verbose=False, callbacks=[quiet])
    out, err = capsys.readouterr()
    assert len(re.findall(r"^epoch +\d/2", out, flags=re.M)) == 2 and err == ""


def interrupt_at(epoch):
    def stop(trainer, batch, logs):
        if trainer.epoch == epoch:
            raise KeyboardInterrupt

    return type("Stop", (), {"on_batch_end": staticmethod(stop)})()


def test_ctrl_c_says_truthfully_what_was_saved(tmp_path):
    X, y = data()
    ckpt = tmp_path / "run.ckpt"
    with pytest.raises(TrainingInterrupted) as caught:
        net().train(X, y, epochs=3, verbose=False, checkpoint=ckpt, callbacks=[interrupt_at(0)])
    assert "after 0 complete epoch(s)" in str(caught.value)
    assert "nothing was saved" in str(caught.value) and not ckpt.exists()
    with pytest.raises(TrainingInterrupted) as caught:
        net().train(X, y, epochs=3, verbose=False, checkpoint=ckpt, callbacks=[interrupt_at(2)])
    assert f"{ckpt} holds 2 epoch(s)" in str(caught.value) and ckpt.exists()
    with pytest.raises(TrainingInterrupted) as caught:
        net().train(X, y, epochs=3, verbose=False, callbacks=[interrupt_at(1)])
    assert "after 1 complete epoch(s); nothing was saved (no checkpoint" in str(caught.value)


def test_resume_needs_a_checkpoint():
    X, y = data()
    with pytest.raises(BarenetError, match="resume=True continues from a checkpoint"):
        net().train(X, y, epochs=1, verbose=False, resume=True)


def test_resume_refuses_other_settings_and_names_a_longer_run(tmp_path, capsys):
    X, y = data()
    ckpt = tmp_path / "run.ckpt"
    net().train(X, y, epochs=2, verbose=False, checkpoint=ckpt, schedule="cosine")
    with pytest.raises(ModelFileError, match=r"learning rate 0.1, not .*learning rate 0.5"):
        net(learning_rate=0.5).train(X, y, epochs=3, checkpoint=ckpt, resume=True)
    with pytest.raises(ModelFileError, match="optimizer SGD, learning rate 0.1, not Adam"):
        net(optimizer="adam").train(X, y, epochs=3, checkpoint=ckpt, resume=True)
    with pytest.raises(ModelFileError, match=r"schedule cosine \(down to 0\), not constant"):
        net().train(X, y, epochs=3, verbose=False, checkpoint=ckpt, resume=True)
    with pytest.raises(ModelFileError, match="layers"):
        NeuralNetwork(16, [9], 3, seed=0).train(X, y, epochs=3, checkpoint=ckpt, resume=True)
    capsys.readouterr()
    resumed = net()
    resumed.train(X, y, epochs=3, checkpoint=ckpt, resume=True, schedule="cosine")
    out = capsys.readouterr().out
    assert f"resuming at epoch 3 of 3 from {ckpt}" in out
    assert "its run was set for 2 epochs: the schedule now spans 3" in out
    assert len(resumed.history["train_loss"]) == 3


def test_pixels_on_the_0_255_scale_are_named_in_a_warning():
    X, y = data()
    with pytest.warns(UserWarning, match=r"X_train ranges from 0 to 255: .*divide by 255"):
        net().train(np.round(X * 255), y, epochs=1, verbose=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net().train(X, y, epochs=1, verbose=False)  # [0, 1]: no warning
        net().train(X * 20 - 10, y, epochs=1, verbose=False)  # standardised: no warning
        net().train(X * 5 + 97, y, epochs=1, verbose=False)  # no background at 0: no pixels
