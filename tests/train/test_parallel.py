"""A step shared by threads: the same gradient as one thread, deterministic, resumable."""

import numpy as np
import pytest

from barenet import NeuralNetwork
from barenet.nn import parse_layers
from barenet.train.parallel import ParallelStep, multiply_adds, resolve_workers

CNN = "conv4x3same relu pool2 conv6x3 relu flatten dense12 relu dense5"


def images(n=24, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 8 * 8)), rng.integers(0, 5, n)


def cnn(line=CNN, dtype="float64", seed=0, **kwargs):
    return NeuralNetwork.from_layers(parse_layers(line), (8, 8, 1), dtype=dtype, seed=seed,
                                     **kwargs)  # fmt: skip


@pytest.mark.parametrize("workers", [2, 3])
def test_the_shared_step_gives_the_whole_batch_gradient(workers):
    X, y = images(25)  # parts of 8 or 9 and 12 or 13 samples
    whole, shared = cnn(l2=0.01), cnn(l2=0.01)
    loss = whole.backprop(X, y)
    step = ParallelStep(shared, workers)
    shared_loss, hits = step(X, y)
    step.close()
    assert shared_loss == pytest.approx(loss, rel=1e-12)
    assert np.abs(whole.grads).max() > 0
    np.testing.assert_allclose(shared.grads, whole.grads, rtol=1e-10, atol=1e-14)
    assert hits == int(np.count_nonzero(whole.predict(X) == y))
    np.testing.assert_array_equal(shared.params, whole.params)  # a step changes no parameter


def test_batch_norm_takes_each_parts_statistics_and_averages_its_running_ones():
    line = "conv4x3same batchnorm relu flatten dense5"
    X, y = images(16)
    shared = cnn(line)
    step = ParallelStep(shared, 2)
    step(X, y)
    step.close()
    # The same as two networks, each on its half, each gradient weighted by half.
    halves = [cnn(line), cnn(line)]
    for net, part in zip(halves, (slice(0, 8), slice(8, 16))):
        net.backprop(X[part], y[part])
    np.testing.assert_allclose(shared.grads, (halves[0].grads + halves[1].grads) / 2, rtol=1e-10,
                               atol=1e-14)  # fmt: skip
    bn, (a, b) = shared.layers[1], (net.layers[1] for net in halves)
    np.testing.assert_allclose(bn.running_mean, (a.running_mean + b.running_mean) / 2)
    np.testing.assert_allclose(bn.running_var, (a.running_var + b.running_var) / 2)
    assert np.abs(bn.running_mean).max() > 0


def train(workers, epochs=3, **kwargs):
    X, y = images(96, seed=1)
    net = cnn("conv4x3same batchnorm relu dropout0.2 pool2 flatten dense5", dtype="float32",
              learning_rate=0.05, optimizer="nesterov")  # fmt: skip
    net.train(X.astype(np.float32), y, epochs=epochs, batch_size=16, verbose=False,
              workers=workers, **kwargs)  # fmt: skip
    return net


def test_the_same_seed_gives_the_same_weights_with_shared_steps():
    first, second, alone = train(2), train(2), train(1)
    np.testing.assert_array_equal(first.params, second.params)
    assert first.training_info.workers == 2 and alone.training_info.workers == 1
    assert not np.array_equal(first.params, alone.params)  # other parts, other masks
    np.testing.assert_allclose(first.params, alone.params, atol=0.5)  # but the same training


def test_a_resumed_shared_run_ends_with_the_uninterrupted_weights(tmp_path):
    checkpoint = tmp_path / "run.ckpt"
    train(2, epochs=2, checkpoint=checkpoint)
    resumed = train(2, epochs=4, checkpoint=checkpoint, resume=True)
    np.testing.assert_array_equal(resumed.params, train(2, epochs=4).params)


def test_auto_shares_steps_only_for_networks_large_enough_on_two_cores():
    mlp = NeuralNetwork(784, [128, 64], 10)
    modern = NeuralNetwork.from_layers(
        parse_layers("conv32x3same relu conv32x3same relu pool2 flatten dense10"), (28, 28, 1)
    )
    assert multiply_adds(mlp) == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    assert multiply_adds(modern) > 7_000_000
    assert resolve_workers("auto", mlp, cores=2) == 1
    assert resolve_workers("auto", modern, cores=2) == 2
    assert resolve_workers("auto", modern, cores=1) == 1
    assert resolve_workers(3, mlp, cores=2) == 3


def test_workers_must_be_a_positive_integer_or_auto():
    X, y = images(16)
    with pytest.raises(Exception, match="workers must be"):
        cnn().train(X, y, epochs=1, verbose=False, workers=0)
