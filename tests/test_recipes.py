"""The accuracy recipes' ensembles (benchmarks/accuracy_recipes.py), on a slice of MNIST."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from barenet import load_and_preprocess_mnist

pytestmark = pytest.mark.mnist


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


def test_a_single_network_recipe_is_its_one_member(recipes, small_mnist):
    spec = recipes.cnn_recipe("conv4x3 relu pool2 flatten", 0.05, epochs=1)
    result = recipes.train_one(spec, 5, small_mnist)
    (only,) = result["members"]
    assert only["seed"] == 5
    assert result["test_accuracy"] == only["test_accuracy"] > 0.5


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


def test_a_recipe_passes_extra_network_settings_on(recipes, small_mnist):
    spec = recipes.cnn_recipe("conv4x3 relu pool2 flatten", 0.05, epochs=1, l2=5e-4)
    net, _ = recipes.train_member(spec, 0, small_mnist)
    assert net.l2 == 5e-4
    assert recipes.RECIPES["cnn_5x5_bn_l2_e20"]["network"]["l2"] == 5e-4


def test_every_recipe_builds_a_network_for_mnist(recipes, small_mnist):
    X = small_mnist[0][:3]
    for name, spec in recipes.RECIPES.items():
        net = recipes.build_member(spec, seed=0)
        assert net.predict_proba(X).shape == (3, 10), name
