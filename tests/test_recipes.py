"""The accuracy recipes (benchmarks/recipe_book.py, trained by benchmarks/accuracy_recipes.py):
each builds the network its name says and trains it as its settings say; the ensembles on a
slice of MNIST."""

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

from barenet import load_and_preprocess_mnist
from barenet.nn import BatchNorm, Conv2D, Dense, Dropout, describe_layers
from barenet.optim.optimizers import SGD, Adam


@pytest.fixture(scope="module")
def recipes():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "accuracy_recipes.py"
    spec = importlib.util.spec_from_file_location("accuracy_recipes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def small_mnist():
    X_train, X_val, X_test, y_train, y_val, y_test = load_and_preprocess_mnist()
    return X_train[:800], X_val[:400], X_test[:400], y_train[:800], y_val[:400], y_test[:400]


@pytest.mark.mnist
def test_an_ensemble_averages_the_probabilities_of_its_members(recipes, small_mnist):
    spec = recipes.cnn_recipe("conv4x3 relu pool2 flatten", 0.05, epochs=1, members=2)
    result = recipes.train_one(spec, 1, small_mnist)
    first, second = result["members"]
    assert (first["seed"], second["seed"]) == (2, 3)  # seed * members + i: no overlap
    assert first["ensemble_val_accuracy"] == first["val_accuracy"]
    # The same members trained again (same seeds, same weights) and averaged by hand.
    X_val, y_val = small_mnist[1], small_mnist[4]
    nets = [recipes.train_member(spec, s, small_mnist)[0] for s in (2, 3)]
    averaged = (nets[0].predict_proba(X_val) + nets[1].predict_proba(X_val)) / 2
    assert result["val_accuracy"] == np.mean(averaged.argmax(axis=1) == y_val)
    assert result["val_accuracy"] != first["val_accuracy"]  # the second member changed it
    assert result["train_seconds"] == pytest.approx(
        first["train_seconds"] + second["train_seconds"]
    )
    assert result["epochs_run"] == 2


@pytest.mark.mnist
def test_a_single_network_recipe_is_its_one_member(recipes, small_mnist):
    spec = recipes.cnn_recipe("conv4x3 relu pool2 flatten", 0.05, epochs=1)
    result = recipes.train_one(spec, 5, small_mnist)
    (only,) = result["members"]
    assert only["seed"] == 5
    assert result["test_accuracy"] == only["test_accuracy"] > 0.5


@pytest.mark.mnist
def test_the_final_fit_trains_on_the_validation_images_too(recipes, small_mnist, monkeypatch):
    seen = []
    train = recipes.NeuralNetwork.train

    def spy(net, X, y, X_val=None, y_val=None, **options):
        seen.append((len(X), X_val))
        return train(net, X, y, X_val, y_val, **options)

    monkeypatch.setattr(recipes.NeuralNetwork, "train", spy)
    for all_images in (False, True):
        spec = recipes.cnn_recipe(
            "conv4x3 relu pool2 flatten", 0.05, epochs=1, all_images=all_images
        )
        recipes.train_member(spec, 0, small_mnist)
    (n_split, val_split), (n_all, val_all) = seen
    assert (n_split, n_all) == (800, 1200) and val_split is not None and val_all is None


@pytest.mark.mnist
def test_a_recipe_passes_extra_network_settings_on(recipes, small_mnist):
    spec = recipes.cnn_recipe("conv4x3 relu pool2 flatten", 0.05, epochs=1, l2=5e-4)
    net, _ = recipes.train_member(spec, 0, small_mnist)
    assert net.l2 == 5e-4
    assert recipes.RECIPES["cnn_5x5_bn_l2_e20"]["network"]["l2"] == 5e-4


@pytest.mark.mnist
def test_every_recipe_builds_a_network_for_mnist(recipes, small_mnist):
    X = small_mnist[0][:3]
    for name, spec in recipes.RECIPES.items():
        net = recipes.build_member(spec, seed=0)
        assert net.predict_proba(X).shape == (3, 10), name


# -- what each recipe's name says, without the data ------------------------------------------


def stated(name):
    """What a recipe's name says, word by word: ``mlp1024x2_nesterov_affine_dropout02_e65`` is
    two hidden layers of 1024, Nesterov momentum, affine augmentation, dropout 0.2, 65 epochs."""
    words = name.split("_")
    said = {"augment": None, "optimizer": None, "dropout": 0.0, "members": 1}
    said["all_images"] = "60k" in words
    said["l2"] = "l2" in words
    said["batch_norm"] = "bn" in words
    if words[0] == "cnn":
        said["kernels"] = {"small": [3, 3], "bn": [3, 3, 3, 3]}.get(words[1])
        said["kernels"] = said["kernels"] or [int(k) for k in words[1].split("x")]
    else:
        width, times = re.fullmatch(r"mlp(\d+)(?:x(\d+))?", words[0]).groups()
        said["widths"] = [int(width)] * int(times or 1)
    for word in words[1:]:
        if word in ("shift", "affine", "elastic"):
            said["augment"] = word
        elif word in ("sgd", "momentum", "nesterov", "adam"):
            said["optimizer"] = word
        elif word.startswith("dropout"):
            said["dropout"] = float("0." + (word.removeprefix("dropout")[1:] or "1"))
        elif re.fullmatch(r"e\d+", word):
            said["epochs"] = int(word[1:])
        elif re.fullmatch(r"b\d+", word):
            said["batch_size"] = int(word[1:])
        elif re.fullmatch(r"x\d+", word):
            said["members"] = int(word[1:])
        elif word not in ("small", "bn", "60k", "l2") and not re.fullmatch(r"\d+(x\d+)+", word):
            raise AssertionError(f"{name}: what does {word!r} say? Teach stated() the word")
    return said


@pytest.fixture
def untrained(recipes, monkeypatch):
    """``train_member`` with ``NeuralNetwork.train`` recording its arguments instead of
    training: returns the list of ``(network, train arguments)``."""
    calls = []

    def record(net, X, y, X_val=None, y_val=None, **options):
        calls.append((net, {"n_train": len(X), "validation": X_val is not None, **options}))
        return {"epoch_time": [0.0]}

    monkeypatch.setattr(recipes.NeuralNetwork, "train", record)
    return calls


def test_every_recipe_builds_the_network_its_name_says(recipes, untrained):
    X, y = np.zeros((6, 784), np.float32), np.arange(6) % 10
    data = (X, X[:2], X[:2], y, y[:2], y[:2])
    aliases = ("default", "best", "best_cnn")
    for name, spec in recipes.RECIPES.items():
        if name in aliases:
            continue
        said = stated(name)
        net, _ = recipes.train_member(spec, 0, data)
        _, options = untrained[-1]
        # The layer string: the recipe's own for a CNN, one Dense-ReLU per hidden width for an
        # MLP (with the dropout the name states), and an output layer of ten classes.
        layers = describe_layers(net.layers)
        if name.startswith("cnn"):
            assert layers == spec["network"]["layers"] + " dense10", name
            kernels = [la.kernel_size[0] for la in net.layers if isinstance(la, Conv2D)]
            assert kernels == said["kernels"], name
        else:
            hidden = spec["network"]["hidden_sizes"]
            after = " relu" + (f" dropout{said['dropout']:g}" if said["dropout"] else "")
            assert layers == "".join(f"dense{h}{after} " for h in hidden) + "dense10", name
            first = len(said["widths"])
            assert hidden[:first] == said["widths"] and all(h < hidden[0] for h in hidden[first:])
        rates = [la.rate for la in net.layers if isinstance(la, Dropout)]
        if not name.startswith("cnn"):
            assert rates == [said["dropout"]] * len(rates), name
        assert any(isinstance(la, BatchNorm) for la in net.layers) == said["batch_norm"], name
        assert isinstance(net.layers[-1], Dense) and net.layers[-1].units == 10
        # The optimizer: Nesterov momentum unless the name says otherwise, at the stated rate.
        optimizer = net.optimizer
        assert optimizer.learning_rate == spec["network"]["learning_rate"], name
        if said["optimizer"] == "adam":
            assert isinstance(optimizer, Adam), name
        else:
            assert isinstance(optimizer, SGD) and optimizer.momentum == 0.9, name
            assert optimizer.nesterov == (said["optimizer"] != "momentum"), name
        assert net.l2 == (5e-4 if said["l2"] else 0.0), name
        # The training: the stated epochs, augmentation and batch size, then the ensemble.
        if "epochs" in said:  # where the name states them
            assert options["epochs"] == said["epochs"], name
        augment = said["augment"] or ("affine" if name.startswith("cnn") else None)
        assert options["augment"]["name"] == augment, name
        assert options["batch_size"] == said.get("batch_size", spec["train"]["batch_size"])
        assert {k: options[k] for k in spec["train"]} == spec["train"], name
        assert (options["n_train"], options["validation"]) == (
            (8, False) if said["all_images"] else (6, True)
        ), name
        assert spec.get("members", 1) == said["members"], name


def test_the_recipes_the_readme_names_are_the_ones_measured(recipes):
    book = recipes.RECIPES
    assert book["default"] is book["mlp512_nesterov_affine_e16"]  # 784-512-256-10, 16 epochs
    assert book["default"]["network"]["hidden_sizes"] == [512, 256]
    assert book["best"] is book["mlp1024x2_nesterov_affine_dropout02_e65"]
    assert book["best_cnn"] is book["cnn_5x3x3x3_bn_e20"]
    assert book["best_cnn"]["note"] == "the best CNN"
