"""The systems that benchmarks/train_speed.py measures, and the machine it measures them on.

Each system builds a model for an architecture and optimizer, trains it one epoch on the same
data in the same way (float32, fresh random order each epoch, no validation pass) and predicts
the test set: barenet, PyTorch on the CPU and scikit-learn's MLPClassifier, the peers when they
are installed (``pip install -e '.[bench]'``).
"""

import importlib.util
import os
import platform
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
LEARNING_RATES = {"sgd": 0.01, "adam": 0.001}
N_CLASSES = 10

if importlib.util.find_spec("barenet") is None:
    sys.path.insert(0, str(REPO / "src"))

from barenet import NeuralNetwork  # noqa: E402
from barenet.data import load_and_preprocess_mnist  # noqa: E402


@dataclass
class Data:
    """float32 images ``(n, 784)`` in [0, 1] and int64 labels ``(n,)``."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def load_data(data_dir, n_train):
    """The first ``n_train`` of barenet's 50,000 training images and the 10,000 test images."""
    X_train, _, X_test, y_train, _, y_test = load_and_preprocess_mnist(data_dir)
    return Data(X_train[:n_train], y_train[:n_train], X_test, y_test)


# -- the systems: build a model, train it one epoch, predict the test set -------------------------


class Barenet:
    name = "barenet"

    def __init__(self, data):
        self.data = data

    def build(self, sizes, optimizer, seed):
        return NeuralNetwork(
            sizes[0],
            list(sizes[1:-1]),
            sizes[-1],
            learning_rate=LEARNING_RATES[optimizer],
            optimizer=optimizer,
            seed=seed,
        )

    def train_epoch(self, net, batch_size):
        net.train(
            self.data.X_train, self.data.y_train, epochs=1, batch_size=batch_size, verbose=False
        )

    def predict(self, net):
        return net.predict(self.data.X_test)


class Torch:
    name = "PyTorch"

    def __init__(self, data, threads):
        import torch

        self.torch = torch
        torch.set_num_threads(threads)
        # Tensors made once up front; from_numpy shares the float32 buffers.
        self.X = torch.from_numpy(data.X_train)
        self.y = torch.from_numpy(data.y_train)
        self.X_test = torch.from_numpy(data.X_test)
        self.loss = torch.nn.CrossEntropyLoss()

    def build(self, sizes, optimizer, seed):
        nn = self.torch.nn
        self.torch.manual_seed(seed)
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        model = nn.Sequential(*layers[:-1])  # no ReLU on the logits
        make = self.torch.optim.SGD if optimizer == "sgd" else self.torch.optim.Adam
        return model, make(model.parameters(), lr=LEARNING_RATES[optimizer])

    def train_epoch(self, model_and_optimizer, batch_size):
        model, opt = model_and_optimizer
        order = self.torch.randperm(len(self.X))
        for start in range(0, len(self.X), batch_size):
            idx = order[start : start + batch_size]
            opt.zero_grad()
            self.loss(model(self.X[idx]), self.y[idx]).backward()
            opt.step()

    def predict(self, model_and_optimizer):
        with self.torch.no_grad():
            return model_and_optimizer[0](self.X_test).argmax(1).numpy()


class Sklearn:
    name = "scikit-learn"

    def __init__(self, data):
        self.data = data

    def build(self, sizes, optimizer, seed):
        from sklearn.neural_network import MLPClassifier

        solver = (
            {
                "solver": "sgd",
                "momentum": 0.0,
                "nesterovs_momentum": False,
                "learning_rate": "constant",
            }
            if optimizer == "sgd"
            else {"solver": "adam"}
        )
        return MLPClassifier(
            hidden_layer_sizes=sizes[1:-1],
            activation="relu",
            learning_rate_init=LEARNING_RATES[optimizer],
            alpha=0.0,
            early_stopping=False,
            shuffle=True,
            max_iter=1,
            tol=0.0,
            random_state=seed,
            **solver,
        )

    def train_epoch(self, clf, batch_size):
        clf.batch_size = batch_size
        seen = getattr(clf, "t_", 0)
        first = {} if hasattr(clf, "classes_") else {"classes": np.arange(N_CLASSES)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.partial_fit(self.data.X_train, self.data.y_train, **first)
        # partial_fit with sgd/adam should make exactly one pass; t_ counts samples seen.
        if clf.t_ - seen != len(self.data.X_train):
            raise RuntimeError(
                f"scikit-learn partial_fit saw {clf.t_ - seen} samples, "
                f"not one epoch of {len(self.data.X_train)}"
            )

    def predict(self, clf):
        return clf.predict(self.data.X_test)


def make_systems(data, args, with_sklearn=True):
    """barenet, then each installed peer."""
    systems = [Barenet(data)]
    if importlib.util.find_spec("torch") is not None:
        systems.append(Torch(data, args.torch_threads))
    if with_sklearn and importlib.util.find_spec("sklearn") is not None:
        systems.append(Sklearn(data))
    return systems


# -- the machine ----------------------------------------------------------------------------------


def use_processor_kernels():
    """Restart this script without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, when set, so that
    NumPy's OpenBLAS runs the kernels it picks for the processor (it reads them at load time)."""
    forced = [v for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if v in os.environ]
    if forced:
        env = {k: v for k, v in os.environ.items() if k not in forced}
        print(f"restarting without {' and '.join(forced)} (see --keep-blas-env)", file=sys.stderr)
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def numpy_blas():
    """threadpoolctl's record of NumPy's BLAS, or None when threadpoolctl is missing."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    for info in threadpool_info():
        if info.get("user_api") == "blas" and "numpy" in info.get("filepath", ""):
            return info
    return None


def machine_info():
    """CPU, library versions and thread counts, as recorded in the report and the JSON."""
    info = {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": numpy_blas(),
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")},
        "load_average_start": os.getloadavg()[0],
    }
    if importlib.util.find_spec("torch") is not None:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    if importlib.util.find_spec("sklearn") is not None:
        import sklearn

        info["sklearn"] = sklearn.__version__
    return info


def matmul_peak(n=2048, repeats=5):
    """Best float32 NumPy matmul rate in GFLOP/s for ``(n, n) @ (n, n)``."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), np.float32)
    np.matmul(a, b, out=out)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9
