"""The training loop: history, callbacks, early stopping, clipping, divergence."""

import numpy as np
import pytest

from barenet import BarenetError, DivergenceError, NeuralNetwork
from barenet.train.callbacks import EarlyStopping
from barenet.train.trainer import clip_by_global_norm


def blobs(n=400, d=10, k=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (k, d))
    y = rng.integers(0, k, n)
    return (centres[y] + rng.normal(size=(n, d))).astype(np.float32), y


def test_history_has_every_documented_figure():
    X, y = blobs()
    nn = NeuralNetwork(10, [8], 3, learning_rate=0.1, seed=0)
    h = nn.train(X[:300], y[:300], X[300:], y[300:], epochs=4, batch_size=32, verbose=False)
    assert set(h) == {
        "epoch",
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
        "learning_rate",
        "epoch_time",
    }
    assert all(len(v) == 4 for v in h.values()) and h["epoch"] == [1, 2, 3, 4]
    assert h["train_loss"][-1] < h["train_loss"][0] and h["val_accuracy"][-1] > 0.9
    assert h is nn.history
    nn.train(X, y, epochs=2, verbose=False)  # a second call continues the history
    assert nn.history["epoch"][-2:] == [5, 6] and len(nn.history["train_loss"]) == 6


def test_val_figures_match_evaluate():
    X, y = blobs()
    nn = NeuralNetwork(10, [8], 3, learning_rate=0.1, seed=0)
    h = nn.train(X, y, X[:50], y[:50], epochs=1, verbose=False)
    result = nn.evaluate(X[:50], y[:50])
    assert (
        np.isclose(h["val_loss"][0], result["loss"]) and h["val_accuracy"][0] == result["accuracy"]
    )


def test_function_callback_sees_every_epoch_and_can_stop():
    X, y = blobs()
    seen = []
    nn = NeuralNetwork(10, [8], 3, seed=0)
    nn.train(X, y, epochs=10, verbose=False, callbacks=[lambda e, logs: seen.append(e) or e == 2])
    assert seen == [0, 1, 2] and len(nn.history["train_loss"]) == 3


def test_early_stopping_restores_the_best_epoch():
    X, y = blobs(n=200)
    nn = NeuralNetwork(10, [16], 3, learning_rate=0.5, seed=0)
    snapshots = []
    stopper = EarlyStopping(monitor="val_loss", patience=2)
    # Validating on shuffled labels: the best val_loss comes early, then it worsens.
    y_val = np.random.default_rng(1).permutation(y)
    nn.train(
        X,
        y,
        X,
        y_val,
        epochs=30,
        batch_size=16,
        verbose=False,
        callbacks=[lambda e, logs: snapshots.append(nn.params.copy())],
        early_stopping=stopper,
    )
    best = int(np.argmin(nn.history["val_loss"]))
    assert stopper.best_epoch == best + 1 == nn.training_info.best_epoch
    assert len(nn.history["val_loss"]) == best + 1 + 2  # stopped after `patience` worse epochs
    assert np.array_equal(nn.params, snapshots[best])
    assert not np.array_equal(nn.params, snapshots[-1])


def test_early_stopping_needs_validation_data():
    X, y = blobs()
    with pytest.raises(BarenetError, match="early_stopping needs validation data"):
        NeuralNetwork(10, [8], 3).train(X, y, early_stopping=3, verbose=False)


def test_clip_by_global_norm_keeps_direction():
    g = np.array([3.0, 4.0])
    assert clip_by_global_norm(g, 1.0) == 5.0
    np.testing.assert_allclose(g, [0.6, 0.8])
    g = np.array([0.3, 0.4])
    clip_by_global_norm(g, 1.0)
    np.testing.assert_allclose(g, [0.3, 0.4])


def test_clipping_bounds_every_update():
    X, y = blobs()
    nn = NeuralNetwork(10, [8], 3, learning_rate=1.0, seed=0)
    before = nn.params.copy()
    nn.train(X[:32], y[:32], epochs=1, batch_size=32, clip_norm=1e-3, verbose=False)
    assert np.linalg.norm(nn.params - before) <= 1e-3 * 1.0001


def test_divergence_stops_with_advice_and_keeps_finite_weights():
    X, y = blobs()
    X = X * 1e4
    nn = NeuralNetwork(10, [64, 64], 3, learning_rate=50.0, seed=0)
    with pytest.raises(DivergenceError, match="lower learning rate"):
        nn.train(X, y, epochs=20, batch_size=8, verbose=False)
    assert np.isfinite(nn.params).all()
    assert np.isfinite(nn.predict_proba(X[:5])).all()


def test_schedule_sets_the_learning_rate_each_epoch():
    X, y = blobs()
    nn = NeuralNetwork(10, [8], 3, learning_rate=0.1, seed=0)
    h = nn.train(
        X,
        y,
        epochs=4,
        batch_size=400,
        schedule={"name": "step", "every": 2, "gamma": 0.1},
        verbose=False,
    )
    np.testing.assert_allclose(h["learning_rate"], [0.1, 0.1, 0.01, 0.01])
    assert nn.learning_rate == 0.1  # the base rate is kept for the next call


def test_augmentation_is_applied_to_training_batches_only():
    X, y = blobs(d=16)
    calls = []

    def flip(batch, rng):
        calls.append(batch.shape)
        return batch[:, ::-1].copy()

    nn = NeuralNetwork(16, [8], 3, seed=0)
    nn.train(X, y, X[:10], y[:10], epochs=1, batch_size=100, augment=flip, verbose=False)
    assert calls == [(100, 16)] * 4


@pytest.mark.parametrize(
    "options",
    [
        {"optimizer": "sgd"},
        {"optimizer": "nesterov"},
        {"optimizer": "rmsprop"},
        {"optimizer": "adam"},
        {"optimizer": "adamw", "l2": 1e-4, "l1": 1e-5},
    ],
)
def test_a_training_step_allocates_nothing_the_size_of_the_parameters(options):
    """Every step reuses its buffers: over an epoch of 40 steps, memory grows by the one
    parameter-sized snapshot kept per epoch (for divergence) and batch-sized arrays, never by
    a parameter-sized temporary per step (a 784-800-800-10 network: 5.1 MB of parameters)."""
    import tracemalloc

    X, y = blobs(n=40 * 32, d=784, k=10)
    net = NeuralNetwork(784, [800, 800], 10, 0.001, seed=0, **options)
    net.train(X, y, epochs=1, batch_size=32, verbose=False)  # work buffers exist from here on
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        net.train(X, y, epochs=1, batch_size=32, verbose=False)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    batch_arrays = 32 * (784 + 4 * 800 + 4 * 10) * 4 * 2  # inputs, outputs and gradients
    assert peak < net.params.nbytes + batch_arrays + 200_000, (peak, net.params.nbytes)


# -- the loop by hand, the options in one place, callbacks ------------------------------------


def test_train_is_the_loop_written_by_hand():
    """``train`` gives bit for bit the weights of the four-line loop with the same shuffles."""
    X, y = blobs()
    trained = NeuralNetwork(10, [8], 3, learning_rate=0.1, seed=0)
    trained.train(X, y, epochs=3, batch_size=32, verbose=False)
    by_hand = NeuralNetwork(10, [8], 3, learning_rate=0.1, seed=0)
    for _ in range(3):
        order = by_hand.rng.permutation(len(X))  # the trainer shuffles with the network's rng
        for start in range(0, len(X), 32):
            batch = order[start : start + 32]
            by_hand.backprop(X[batch], y[batch])
            by_hand.optimizer.step(by_hand.params, by_hand.grads)
    assert not np.array_equal(by_hand.params, NeuralNetwork(10, [8], 3, seed=0).params)
    np.testing.assert_array_equal(by_hand.params, trained.params)


def test_backprop_fills_the_gradient_and_changes_no_parameter():
    X, y = blobs(n=64)
    net = NeuralNetwork(10, [8], 3, seed=0)
    before = net.params.copy()
    loss = net.backprop(X.astype(np.float64), y)  # cast to the network's float32
    assert loss == pytest.approx(net.evaluate(X, y)["loss"], rel=1e-5)
    assert np.abs(net.grads).sum() > 0 and net.grads.dtype == np.float32
    np.testing.assert_array_equal(net.params, before)


def test_an_unknown_training_option_is_named_with_the_known_ones():
    X, y = blobs(n=40)
    with pytest.raises(BarenetError, match=r"unknown option\(s\) \['shedule'\].*schedule"):
        NeuralNetwork(10, [8], 3, seed=0).train(X, y, shedule="cosine", verbose=False)


def test_a_callback_subclass_hears_every_hook_in_order():
    from barenet.callback import Callback

    class Log(Callback):
        def __init__(self):
            self.events = []

        def on_train_begin(self, trainer):
            self.events.append("begin")

        def on_epoch_begin(self, trainer, epoch):
            self.events.append(f"epoch{epoch}")

        def on_batch_end(self, trainer, batch, logs):
            self.events.append(f"batch{batch}")

        def on_epoch_end(self, trainer, epoch, logs):
            self.events.append(f"end{epoch}:{logs['epoch']}")

        def on_train_end(self, trainer):
            self.events.append("done")

    X, y = blobs(n=64)
    log = Log()
    NeuralNetwork(10, [8], 3, seed=0).train(X, y, epochs=2, batch_size=32, verbose=False,
                                            callbacks=[log])  # fmt: skip
    assert log.events == [
        "begin", "epoch0", "batch0", "batch1", "end0:1", "epoch1", "batch0", "batch1", "end1:2",
        "done",
    ]  # fmt: skip


def test_an_object_with_only_some_hooks_still_works_as_a_callback():
    class OnlyEpochs:  # written before the Callback base class: no other hook
        def __init__(self):
            self.epochs = []

        def on_epoch_end(self, trainer, epoch, logs):
            self.epochs.append(epoch)
            trainer.stop_training = epoch == 1

    X, y = blobs(n=64)
    watcher = OnlyEpochs()
    history = NeuralNetwork(10, [8], 3, seed=0).train(
        X, y, epochs=5, batch_size=32, verbose=False, callbacks=[watcher]
    )
    assert watcher.epochs == [0, 1] and len(history["train_loss"]) == 2
    with pytest.raises(BarenetError, match="a callback must be a function"):
        NeuralNetwork(10, [8], 3, seed=0).train(X, y, verbose=False, callbacks=[42])


def test_reduce_on_plateau_after_a_warm_up_still_lowers_the_rate():
    X, y = blobs(n=64)
    net = NeuralNetwork(10, [8], 3, learning_rate=0.1, seed=0)
    plateau = {"name": "plateau", "patience": 1, "factor": 0.5, "monitor": "train_accuracy"}
    # Training accuracy reaches 1.0 within a few epochs on these blobs, then cannot improve.
    history = net.train(X, y, epochs=8, batch_size=16, verbose=False,
                        schedule={"name": "warmup", "warmup": 1, "then": plateau})  # fmt: skip
    assert history["train_accuracy"][-3:] == [1.0] * 3
    assert history["learning_rate"][1] == pytest.approx(0.1)  # the warm-up is over
    assert history["learning_rate"][-1] <= 0.1 * 0.5**2
