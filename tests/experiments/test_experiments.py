"""The studies end to end on a small MNIST subset and on scikit-learn's 8x8 digits, the
perturbations and the input gradient."""

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import barenet.experiments as ex
from barenet import NeuralNetwork, load_and_preprocess_mnist
from barenet.cli.main import main
from barenet.errors import BarenetError
from barenet.experiments import perturbations as pert
from barenet.experiments import trial

SMALL = {"train_size": 2000, "val_size": 500, "test_size": 1000, "progress": False}
# scikit-learn's 8x8 digits: 1,137 training, 300 validation and 360 test images, no download.
DIGITS = {"dataset": "digits", "progress": False}


def dense_parameters(sizes):
    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


# -- data sets ----------------------------------------------------------------------------------


def test_a_split_of_digits_carries_what_its_networks_need():
    data = trial.load_split(train_size=100, dataset="digits")
    assert data["X_train"].shape == (100, 64) and data["X_test"].shape == (360, 64)
    assert (data["n_features"], data["n_classes"], data["image_shape"]) == (64, 10, [8, 8])
    assert data["class_names"] == [str(k) for k in range(10)]
    assert {k: data[k] for k in trial.dataset_spec("digits")} == trial.dataset_spec("digits")
    net = trial.build_network({"hidden_sizes": [8]}, 0, data)
    assert (net.input_size, net.output_size, net.image_shape) == (64, 10, [8, 8])


def test_the_spec_of_an_idx_family_is_known_without_its_files():
    spec = trial.dataset_spec("fashion-mnist")
    assert (spec["n_features"], spec["image_shape"]) == (784, [28, 28])
    assert spec["class_names"][7] == "Sneaker"
    assert trial.dataset_spec("emnist-letters")["n_classes"] == 26


def test_an_unknown_data_set_is_refused_before_any_training():
    with pytest.raises(BarenetError, match=r"unknown data set 'cifar'; expected one of mnist, "):
        ex.experiment_with_architectures([[16]], dataset="cifar", progress=False)


@pytest.mark.mnist
def test_mnist_keeps_its_standard_split():
    data = trial.load_split(train_size=5, val_size=5, test_size=5)
    X_train, X_val, X_test, y_train, y_val, y_test = load_and_preprocess_mnist()
    for name, expected in (("train", (X_train, y_train)), ("val", (X_val, y_val))):
        np.testing.assert_array_equal(data[f"X_{name}"], expected[0][:5])
        np.testing.assert_array_equal(data[f"y_{name}"], expected[1][:5])
    np.testing.assert_array_equal(data["X_test"], X_test[:5])
    assert (data["n_features"], data["image_shape"]) == (784, [28, 28])


@pytest.fixture(scope="module")
def digit_architectures():
    return ex.experiment_with_architectures(
        [[16], [32, 16]], epochs=2, seeds=1, learning_rate=0.5, **DIGITS
    )


def test_an_architecture_study_on_digits_builds_64_input_networks(digit_architectures):
    assert [r["architecture"] for r in digit_architectures] == ["64-16-10", "64-32-16-10"]
    for row in digit_architectures:
        assert row["n_parameters"] == dense_parameters([64, *row["hidden_sizes"], 10])
        assert row["epochs_run"] == 2 and 0.3 < row["test_accuracy"] <= 1
    assert "64-32-16-10" in ex.architecture_table(digit_architectures)


def test_the_other_studies_run_on_digits():
    grid = ex.experiment_with_learning_rates({"sgd": [0.5]}, hidden_sizes=[16], epochs=1, **DIGITS)
    assert grid[0]["epochs_run"] == 1 and "error" not in grid[0]
    dynamics = ex.analyze_training_dynamics(epochs=1, **DIGITS)
    assert {r["network"] for r in dynamics} == {"ReLU 64-128-64-10", "sigmoid 64-5x128-10"}
    result = ex.learning_rate_range_test(dataset="digits", steps=50)
    assert len(result["losses"]) > 10


def test_robustness_on_digits_scales_pixel_strengths_to_8x8_images():
    rows = ex.test_robustness(hidden_sizes=[32], epochs=3, learning_rate=0.5, **DIGITS)
    strengths = {}
    for row in rows:
        strengths.setdefault(row["perturbation"], []).append(row["strength"])
    assert strengths["occlusion"] == [0, 2, 3, 4, 5] and strengths["shift"] == [0, 1, 2]
    assert strengths["rotation"] == [0, 15, 30, 45, 60]
    assert accuracy(rows, "plain", "shift", 2) < accuracy(rows, "plain", "shift", 0) - 0.2


def test_a_given_model_must_take_the_data_sets_pixels(tmp_path):
    net = NeuralNetwork(784, [16], 10, seed=0)
    with pytest.raises(BarenetError, match="takes 784 inputs and 10 classes; digits has 64 and 10"):
        ex.test_robustness(net, dataset="digits")
    small = NeuralNetwork(64, [16], 10, seed=0)
    rows = ex.test_robustness(small, perturbations={"occlusion": None}, dataset="digits")
    assert [r["strength"] for r in rows] == [0, 2, 3, 4, 5]


# -- architectures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def architectures():
    return ex.experiment_with_architectures([[16], [64]], epochs=2, seeds=[0, 1], **SMALL)


@pytest.mark.mnist
def test_architecture_rows_hold_sizes_scores_and_curves(architectures):
    assert [(r["architecture"], r["seed"]) for r in architectures] == [
        ("784-16-10", 0),
        ("784-16-10", 1),
        ("784-64-10", 0),
        ("784-64-10", 1),
    ]
    for row in architectures:
        assert row["n_parameters"] == dense_parameters([784, *row["hidden_sizes"], 10])
        assert 0.6 < row["test_accuracy"] <= 1 and row["train_time"] > 0
        assert row["best_val_accuracy"] == max(row["history"]["val_accuracy"])
        assert row["final_val_accuracy"] == row["history"]["val_accuracy"][-1]
        assert len(row["history"]["train_loss"]) == row["epochs_run"] == 2
    assert architectures[0]["test_accuracy"] != architectures[1]["test_accuracy"]  # seeds


@pytest.mark.mnist
def test_architecture_summary_averages_over_seeds(architectures):
    narrow, wide = ex.summarize_architectures(architectures)
    assert wide["n_parameters_mean"] > narrow["n_parameters_mean"]
    assert narrow["runs"] == 2 and narrow["failed"] == 0
    accuracies = [r["test_accuracy"] for r in architectures[:2]]
    assert narrow["test_accuracy_mean"] == pytest.approx(np.mean(accuracies))
    assert narrow["test_accuracy_std"] == pytest.approx(np.std(accuracies, ddof=1))
    assert "784-64-10" in ex.architecture_table(architectures)


def test_a_bad_architecture_fails_before_any_training():
    with pytest.raises(BarenetError, match="hidden size"):
        ex.experiment_with_architectures([[16], [0]], progress=False)


CNN = "conv4x3 relu pool2 flatten dense16 relu"
# conv4x3: 3*3*1*4 + 4; pool2 leaves 13*13*4 = 676 values; dense16: 676*16 + 16; dense10
CNN_PARAMETERS = 40 + 676 * 16 + 16 + 16 * 10 + 10
TINY = {"train_size": 300, "val_size": 100, "test_size": 100, "epochs": 1, "progress": False}


@pytest.mark.mnist
def test_mlps_and_cnns_compare_side_by_side():
    rows = ex.experiment_with_architectures(
        [[16], CNN], optimizer="adam", learning_rate=0.003, **TINY
    )
    mlp, cnn = rows
    assert (mlp["architecture"], mlp["hidden_sizes"], "layers" in mlp) == ("784-16-10", [16], False)
    assert (cnn["architecture"], cnn["hidden_sizes"], cnn["layers"]) == (CNN, None, CNN)
    assert mlp["n_parameters"] == dense_parameters([784, 16, 10])
    assert cnn["n_parameters"] == CNN_PARAMETERS
    for row in rows:
        assert "error" not in row and row["epochs_run"] == 1 and 0 <= row["test_accuracy"] <= 1
    table = ex.architecture_table(rows)
    assert "784-16-10" in table and CNN in table and f"{CNN_PARAMETERS:,}" in table


def test_a_layer_line_is_named_in_describe_words_and_checked_before_any_training():
    rows = ex.experiment_with_architectures(
        ["conv2x3, ReLU maxpool2 flatten"], epochs=1, train_size=100, **DIGITS
    )
    assert rows[0]["architecture"] == "conv2x3 relu pool2 flatten"  # 8x8 digits: 6x6, 3x3
    assert rows[0]["n_parameters"] == 3 * 3 * 2 + 2 + 3 * 3 * 2 * 10 + 10
    with pytest.raises(BarenetError, match="unknown layer 'convolution'"):
        ex.experiment_with_architectures([[16], "convolution relu"], progress=False)
    with pytest.raises(BarenetError, match="a network given by its layers takes"):
        ex.experiment_with_architectures([CNN], network={"activation": "tanh"}, progress=False)


# -- learning rates -----------------------------------------------------------------------------


@pytest.mark.mnist
def test_learning_rate_grid_records_divergence_as_a_result_not_an_error():
    grid = {"sgd": [0.1, 1e30], "adam": [0.001]}  # 1e30: the loss overflows to infinity
    rows = ex.experiment_with_learning_rates(grid, hidden_sizes=[16], epochs=1, **SMALL)
    assert [(r["optimizer"], r["learning_rate"]) for r in rows] == [
        ("sgd", 0.1),
        ("sgd", 1e30),
        ("adam", 0.001),
    ]
    assert [r["diverged"] for r in rows] == [False, True, False]
    assert rows[0]["test_accuracy"] > 0.4 and rows[2]["test_accuracy"] > 0.4
    # The diverged run keeps the weights from before its first epoch: it guesses.
    assert "error" not in rows[1] and rows[1]["epochs_run"] == 0
    assert rows[1]["test_accuracy"] < 0.3


@pytest.mark.mnist
def test_range_test_sweeps_rates_upwards_and_stops_when_the_loss_blows_up():
    result = ex.learning_rate_range_test(train_size=2000, steps=200, min_lr=1e-4, max_lr=1e3)
    rates, smoothed = result["learning_rates"], result["smoothed_losses"]
    assert len(rates) == len(result["losses"]) == len(smoothed) < 200  # stopped early
    assert np.all(np.diff(rates) > 0)
    assert smoothed[-1] > 4 * min(smoothed)
    best = result["min_loss_learning_rate"]
    # The lowest point of a centred average: the exponential one lags behind the rates.
    assert best == rates[int(np.nanargmin(ex.centred_average(result["losses"])))]
    assert best <= rates[int(np.argmin(smoothed))]
    assert result["suggested_learning_rate"] == pytest.approx(best / 10)
    assert 1e-3 < best < 10 and min(smoothed) < smoothed[0] - 0.3


# -- dynamics -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dynamics():
    return ex.analyze_training_dynamics(epochs=2, **SMALL)


@pytest.mark.mnist
def test_dynamics_rows_per_network_epoch_and_layer(dynamics):
    relu = [r for r in dynamics if r["network"].startswith("ReLU")]
    sigmoid = [r for r in dynamics if r["network"].startswith("sigmoid")]
    assert len(relu) == 3 * 3 and len(sigmoid) == 3 * 6  # epochs 0-2, dense layers
    for row in relu + sigmoid:
        assert row["grad_norm"] > 0 and row["weight_norm"] > 0
        assert (row["update_ratio"] is None) == (row["epoch"] == 0)
        hidden = row["layer"] < (3 if row in relu else 6)
        # Only a ReLU unit can die; a sigmoid network has no dead-unit figure at all.
        assert (row["dead_fraction"] is not None) == (hidden and row in relu)
    first_relu = [r for r in relu if r["layer"] == 1]
    assert [r["epoch"] for r in first_relu] == [0, 1, 2]
    assert first_relu[1]["update_ratio"] > 0


@pytest.mark.mnist
def test_dynamics_flags_the_vanishing_gradients_of_a_deep_sigmoid_network(dynamics):
    relu, sigmoid = ex.diagnose_dynamics(dynamics)
    assert relu.startswith("ReLU 784-128-64-10: healthy")
    assert sigmoid.startswith("sigmoid 784-5x128-10: vanishing gradients")
    assert "dead" not in sigmoid
    assert "sigmoid 784-5x128-10" in ex.dynamics_table(dynamics)


def test_diagnosis_names_exploding_gradients_and_dead_units():
    rows = []
    for epoch in (0, 1):
        for layer, norm in ((1, 5e4), (2, 10.0)):
            rows.append(
                {"network": "n", "epoch": epoch, "layer": layer, "grad_norm": norm}
                | {"dead_fraction": 0.9 if layer == 1 else None}
            )
    (finding,) = ex.diagnose_dynamics(rows)
    assert "exploding gradients before training" in finding
    assert "90% of the units of hidden layer 1 are dead" in finding


def test_parameter_slices_find_each_array_in_the_flat_buffer():
    net = NeuralNetwork(784, [8], 10, batch_norm=True, seed=0)
    slices = net.parameter_slices()
    assert set(slices) == {n for n in net.named_arrays() if "running" not in n}
    for name, where in slices.items():
        np.testing.assert_array_equal(net.params[where], net.named_arrays()[name].ravel())


# -- robustness ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def robustness():
    return ex.test_robustness(hidden_sizes=[64], epochs=2, noise_training=0.3, **SMALL)


def accuracy(rows, training, perturbation, strength):
    (row,) = [
        r
        for r in rows
        if (r["training"], r["perturbation"], r["strength"]) == (training, perturbation, strength)
    ]
    return row["accuracy"]


@pytest.mark.mnist
def test_accuracy_falls_as_the_damage_grows(robustness):
    assert {r["training"] for r in robustness} == {"plain", "noise σ=0.3"}
    for name, spec in pert.PERTURBATIONS.items():
        clean = accuracy(robustness, "plain", name, 0)
        worst = accuracy(robustness, "plain", name, spec.strengths[-1])
        assert clean > 0.8 and worst < clean - 0.03, name


@pytest.mark.mnist
def test_fgsm_hurts_more_than_random_signs_of_the_same_size(robustness):
    for eps in (0.05, 0.1):
        fgsm = accuracy(robustness, "plain", "fgsm", eps)
        assert fgsm < accuracy(robustness, "plain", "random_sign", eps) - 0.2
        assert fgsm < accuracy(robustness, "plain", "gaussian", 0.1)


@pytest.mark.mnist
def test_a_given_model_is_scored_without_training(tmp_path):
    net = NeuralNetwork(784, [16], 10, seed=0)
    net.save_model(tmp_path / "m.npz")
    rows = ex.test_robustness(tmp_path / "m.npz", perturbations={"shift": [0, 2]}, test_size=300)
    assert [(r["training"], r["strength"]) for r in rows] == [
        ("given model", 0),
        ("given model", 2),
    ]
    assert net.history == {}


def test_an_unknown_perturbation_is_named():
    with pytest.raises(BarenetError, match=r"unknown perturbations \['blur'\]"):
        ex.test_robustness(perturbations=["blur", "shift"])


def test_robustness_is_not_collected_as_a_test():
    assert ex.test_robustness.__test__ is False


# -- perturbations and the input gradient -------------------------------------------------------


def images(n=6, seed=0):
    rng = np.random.default_rng(seed)
    X = np.zeros((n, 28, 28), np.float32)
    X[:, 8:20, 10:18] = rng.random((n, 12, 8))
    return X.reshape(n, 784)


@pytest.mark.parametrize("name", [n for n, s in pert.PERTURBATIONS.items() if not s.needs_model])
def test_perturbations_keep_shape_and_range_and_strength_zero_changes_nothing(name):
    X, fn = images(), pert.PERTURBATIONS[name].fn
    np.testing.assert_allclose(fn(X, 0, np.random.default_rng(0)), X, atol=1e-6)
    out = fn(X, pert.PERTURBATIONS[name].strengths[-1], np.random.default_rng(0))
    assert out.shape == X.shape and out.min() >= 0 and out.max() <= 1
    assert np.abs(out - X).max() > 0.1


def small_images(n=6, shape=(8, 8), seed=0):
    """``n`` images of ``shape`` with random strokes in the middle, flattened."""
    rng = np.random.default_rng(seed)
    height, width = shape
    X = np.zeros((n, height, width), np.float32)
    X[:, 2:-2, 2:-2] = rng.random((n, height - 4, width - 4))
    return X.reshape(n, height * width)


@pytest.mark.parametrize("name", [n for n, s in pert.PERTURBATIONS.items() if not s.needs_model])
def test_perturbations_of_8x8_images_keep_shape_and_range(name):
    X, fn = small_images(), pert.PERTURBATIONS[name].fn
    np.testing.assert_allclose(fn(X, 0, np.random.default_rng(0)), X, atol=1e-6)
    for strength in pert.default_strengths(name, (8, 8))[1:]:
        out = fn(X, strength, np.random.default_rng(0))
        assert out.shape == X.shape and out.dtype == X.dtype
        assert out.min() >= 0 and out.max() <= 1 and np.abs(out - X).max() > 0.05
    explicit = fn(X, pert.default_strengths(name, (8, 8))[-1], np.random.default_rng(0), (8, 8))
    np.testing.assert_array_equal(explicit, out)


def test_pixel_strengths_scale_with_the_image_and_others_do_not():
    assert pert.default_strengths("occlusion") == (0, 4, 8, 12, 16)
    assert pert.default_strengths("occlusion", (8, 8)) == (0, 2, 3, 4, 5)
    assert pert.default_strengths("shift", (8, 8)) == (0, 1, 2)
    assert pert.default_strengths("gaussian", (8, 8)) == pert.PERTURBATIONS["gaussian"].strengths


def test_occlusion_and_shift_of_8x8_and_oblong_images():
    out = pert.occlusion(np.ones((5, 64), np.float32), 3, np.random.default_rng(0))
    assert np.all((out == 0).sum(axis=1) == 9)  # the central half keeps a 3x3 square inside
    X = small_images(1, (6, 10))
    out = pert.shift(X, 1, np.random.default_rng(0), image_shape=(6, 10)).reshape(6, 10)
    moved = [np.roll(X.reshape(6, 10), s, axis=a) for a in (0, 1) for s in (-1, 1)]
    assert any(np.allclose(out, m, atol=1e-6) for m in moved)
    with pytest.raises(BarenetError, match="60 features per row are not a square image"):
        pert.shift(X, 1, np.random.default_rng(0))
    with pytest.raises(BarenetError, match="rotation needs square images, got 6x10"):
        pert.rotation(X, 15, np.random.default_rng(0), image_shape=(6, 10))


def test_fgsm_on_a_64_input_network_stays_in_range():
    net = NeuralNetwork(64, [16], 10, seed=0)
    X, y = small_images(4), np.arange(4)
    out = pert.fgsm(net, X, y, 0.1)
    assert out.shape == X.shape and out.min() >= 0 and out.max() <= 1
    assert net.evaluate(out, y)["loss"] > net.evaluate(X, y)["loss"]


def test_a_shift_moves_the_pixels_whole():
    X = images(1)
    out = pert.shift(X, 2, np.random.default_rng(0)).reshape(28, 28)
    moved = [np.roll(X.reshape(28, 28), s, axis=a) for a in (0, 1) for s in (-2, 2)]
    assert any(np.allclose(out, m, atol=1e-6) for m in moved)


def test_occlusion_blacks_out_a_square():
    X = np.ones((3, 784), np.float32)
    out = pert.occlusion(X, 8, np.random.default_rng(0))
    assert np.all((out == 0).sum(axis=1) == 64)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_input_gradient_matches_finite_differences(batch_norm):
    rng = np.random.default_rng(0)
    net = NeuralNetwork(784, [12, 8], 10, dtype="float64", batch_norm=batch_norm, seed=0)
    if batch_norm:  # running statistics away from 0 and 1 test the backward through them
        net.train(rng.random((64, 784)), rng.integers(0, 10, 64), epochs=2, verbose=False)
    X, y = rng.random((3, 784)), np.array([1, 5, 7])
    gradient = net.input_gradient(X, y)
    assert net.layers[0].input_grad is False
    for i, j in ((0, 300), (1, 400), (2, 500)):
        step = np.zeros_like(X)
        step[i, j] = 1e-6
        loss = [net.evaluate(X + s * step, y)["loss"] for s in (1, -1)]
        assert gradient[i, j] == pytest.approx((loss[0] - loss[1]) / 2e-6, rel=1e-4, abs=1e-9)


def test_fgsm_moves_every_pixel_by_epsilon_uphill():
    net = NeuralNetwork(784, [16], 10, seed=0)
    X, y = np.full((4, 784), 0.5, np.float32), np.arange(4)
    out = pert.fgsm(net, X, y, 0.1)
    np.testing.assert_allclose(np.abs(out - X)[np.abs(out - X) > 0], 0.1, rtol=1e-5)
    assert net.evaluate(out, y)["loss"] > net.evaluate(X, y)["loss"]


# -- summaries ----------------------------------------------------------------------------------


def test_summarize_counts_failures_and_skips_missing_values():
    rows = [
        {"k": "a", "v": 1.0},
        {"k": "a", "v": 3.0},
        {"k": "a", "error": "boom"},
        {"k": "b", "v": None},
    ]
    a, b = ex.summarize(rows, ["k"], ["v"])
    assert (a["runs"], a["failed"], a["v_mean"]) == (2, 1, 2.0)
    assert a["v_std"] == pytest.approx(np.sqrt(2))
    assert (b["v_mean"], b["v_std"]) == (None, None)
    table = ex.format_table([a, b], [("key", "k", ""), ("value", "v_mean", ".1f")])
    assert table.splitlines()[2].split() == ["a", "2.0", "±", "1.4"]
    assert table.splitlines()[3].split() == ["b", "-"]


def test_table_spreads_have_the_means_decimals_and_no_zero_spread():
    rows = [
        {"runs": 3, "t_mean": 10.8, "t_std": 0.473, "d_mean": 0.0, "d_std": 0.0},
        {"runs": 3, "t_mean": 0.01234, "t_std": 0.00056, "d_mean": 1 / 3, "d_std": 0.577},
    ]
    table = ex.format_table(rows, [("time", "t_mean", ".3g"), ("diverged", "d_mean", ".0%")])
    assert table.splitlines()[2].split() == ["10.8", "±", "0.5", "0%"]
    assert table.splitlines()[3].split() == ["0.0123", "±", "0.0006", "33%", "±", "58%"]


# -- the command line ---------------------------------------------------------------------------


@pytest.mark.mnist
def test_experiment_command_prints_the_table_and_saves_results_figures_and_report(tmp_path):
    out = io.StringIO()
    argv = "experiment dynamics --hidden 16 --epochs 1 --train-size 1000 --val-size 200"
    argv += f" --test-size 200 -q -o {tmp_path}"
    with contextlib.redirect_stdout(out):
        assert main(argv.split()) == 0
    text = out.getvalue()
    assert "relu 784-16-10" in text and "healthy" in text
    rows = json.loads((tmp_path / "dynamics.json").read_text())  # the rows the study returns
    assert [(r["network"], r["epoch"], r["layer"]) for r in rows] == [
        ("relu 784-16-10", epoch, layer) for epoch in (0, 1) for layer in (1, 2)
    ]
    assert (tmp_path / "dynamics.png").stat().st_size > 0
    assert "data:image/png;base64," in (tmp_path / "report.html").read_text()


def test_experiment_command_on_digits_writes_results_figures_and_report(tmp_path, capsys):
    argv = "experiment architectures --dataset digits --architecture 16 --architecture 8 8"
    argv += f" --epochs 1 --lr 0.5 -q -o {tmp_path}"
    assert main(argv.split()) == 0
    assert "64-8-8-10" in capsys.readouterr().out
    rows = json.loads((tmp_path / "architectures.json").read_text())
    assert [r["architecture"] for r in rows] == ["64-16-10", "64-8-8-10"]
    assert [r["n_parameters"] for r in rows] == [
        dense_parameters([64, 16, 10]),
        dense_parameters([64, 8, 8, 10]),
    ]
    assert (tmp_path / "architectures.png").stat().st_size > 0
    report = (tmp_path / "report.html").read_text()
    assert "data:image/png;base64," in report
    # The report states the run's settings, in words.
    assert "Settings of this run" in report and "SGD, learning rate 0.5" in report
    assert "1 epoch, batches of 64" in report and "16 | 8 8" in report


def test_experiment_command_compares_layer_lines_and_widths_in_their_order(tmp_path, capsys):
    argv = ["experiment", "architectures", "--dataset", "digits", "--layers", "pool2 flatten"]
    argv += ["--layers", "conv2x3 relu flatten", "--architecture", "8", "--layers", "gap"]
    argv += ["--epochs", "1", "--train-size", "200", "-q", "-o", str(tmp_path)]
    assert main(argv) == 0
    assert "conv2x3 relu flatten" in capsys.readouterr().out
    rows = json.loads((tmp_path / "architectures.json").read_text())
    names = ["pool2 flatten", "conv2x3 relu flatten", "64-8-10", "gap"]
    assert [r["architecture"] for r in rows] == names
    assert rows[1]["n_parameters"] == 3 * 3 * 2 + 2 + 6 * 6 * 2 * 10 + 10
    assert rows[2]["hidden_sizes"] == [8] and rows[3]["layers"] == "gap"
    assert (tmp_path / "architectures.png").stat().st_size > 0


def test_experiment_command_refuses_a_bad_layer_line(tmp_path, capsys):
    argv = ["experiment", "architectures", "--layers", "conv4x3 wobble", "-q", "-o", str(tmp_path)]
    assert main(argv) == 2
    assert "unknown layer 'wobble'" in capsys.readouterr().err


def test_experiment_dynamics_names_its_network_by_the_data_sets_sizes(tmp_path, capsys):
    argv = f"experiment dynamics --dataset digits --hidden 16 --epochs 1 -q -o {tmp_path}"
    assert main(argv.split()) == 0
    assert "relu 64-16-10" in capsys.readouterr().out


def test_robustness_of_a_model_defaults_to_the_data_set_it_was_trained_on(tmp_path, capsys):
    model = tmp_path / "m.npz"
    net = NeuralNetwork(64, [16], 10, seed=0)
    net.training_info.dataset = "digits"  # as `barenet train --dataset digits` records it
    net.save_model(model)
    argv = f"experiment robustness --model {model} --perturbations shift -q -o {tmp_path}"
    assert main(argv.split()) == 0
    rows = json.loads((tmp_path / "robustness.json").read_text())
    assert [r["strength"] for r in rows] == [0, 1, 2]  # the shifts of 8x8 images
    assert main([*argv.split(), "--dataset", "mnist"]) == 2
    assert "takes 64 inputs and 10 classes; mnist has 784 and 10" in capsys.readouterr().err


def test_experiment_refuses_an_unknown_data_set(capsys):
    assert main(["experiment", "architectures", "--dataset", "cifar"]) == 2
    assert "invalid choice: 'cifar'" in capsys.readouterr().err


def test_experiment_help_shows_an_example_and_every_study(capsys):
    assert main(["experiment", "--help"]) == 0
    out = capsys.readouterr().out
    assert "example:\n  barenet experiment architectures " in out
    assert "{architectures,learning-rates,dynamics,robustness}" in out
    assert "--dataset {mnist,fashion-mnist," in out
    assert "Run a study on MNIST" not in out


def test_an_optimizer_without_default_rates_is_refused_before_training(capsys, tmp_path):
    argv = ["experiment", "learning-rates", "--optimizers", "rmsprop", "-o", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == "barenet: error: no default learning rates for rmsprop: give --learning-rates\n"


@pytest.mark.mnist
def test_the_demo_script_runs_every_study_and_saves_every_figure(tmp_path):
    root = Path(__file__).resolve().parents[2]
    options = "--epochs 1 --train-size 1000 --test-size 500 --seeds 1 --workers 1"
    command = [sys.executable, "demo_advanced_features.py", *options.split(), "--output-dir"]
    result = subprocess.run(
        [*command, str(tmp_path)], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    for heading in ("Architectures", "Learning rates", "Training dynamics", "Robustness"):
        assert f"== {heading} ==" in result.stdout
    figures = {path.name for path in tmp_path.glob("*.png")}
    assert figures == {
        "training_history.png",
        "confusion_matrix.png",
        "per_class.png",
        "predictions.png",
        "mistakes.png",
        "first_layer_weights.png",
        "architectures.png",
        "learning_rates.png",
        "range_test.png",
        "dynamics.png",
        "robustness.png",
    }
    assert (tmp_path / "report.html").read_text().count("data:image/png;base64,") == 11


def test_the_demo_script_runs_on_the_digits(tmp_path):
    root = Path(__file__).resolve().parents[2]
    options = "--dataset digits --epochs 1 --seeds 1 --workers 1 --output-dir"
    result = subprocess.run(
        [sys.executable, "demo_advanced_features.py", *options.split(), str(tmp_path)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "reference network NeuralNetwork(64-128-64-10" in result.stdout
    assert "64-1024-512-10" in result.stdout  # the architectures, sized for 8x8 images
    assert "advanced experiments on digits" in (tmp_path / "report.html").read_text()


def test_the_seed_api_is_importable_from_the_repository_root(monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))
    import demo_advanced_features as demo

    assert demo.experiment_with_architectures is ex.experiment_with_architectures
    assert demo.experiment_with_learning_rates is ex.experiment_with_learning_rates
    assert demo.test_robustness is ex.test_robustness
