"""Draw the figures of the documentation into docs/img/, with barenet's public API.

Run from anywhere, with MNIST available (``BARENET_DATA``)::

    OPENBLAS_NUM_THREADS=1 python docs/make_figures.py            # every figure
    OPENBLAS_NUM_THREADS=1 python docs/make_figures.py schedules   # only the named ones
    OPENBLAS_NUM_THREADS=1 python docs/make_figures.py learning_rates optimizers
    OPENBLAS_NUM_THREADS=1 python docs/make_figures.py --svg          # PNGs and SVGs for slides
    OPENBLAS_NUM_THREADS=1 python docs/make_figures.py --svg-only neuron chain_rule

The trainings are small (a few thousand images, a few epochs) so that the whole script takes
about a minute on one core. Every figure is seeded, so a rerun draws the same pictures. The
PNGs are written at 90 dpi and, for the study figures that barenet draws at its own size,
scaled down and reduced to 256 colours so that each file stays small (the two-network
dynamics figure, the largest, is about 125 KB).

``--svg`` also writes each figure as SVG into docs/img/svg/, for slides: no text under 11
points (figure_common.save_svg); ``--svg-only`` writes only the SVGs and leaves the PNGs of the
pages as they are.
"""

import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import figure_common
import matplotlib
import numpy as np
from figure_common import BLUE, GREEN, IMG, ORANGE, PURPLE, RED, figure, mnist, save, shrink
from graph_figures import chain_rule, learning_slowdown, neuron_graph, tiny_network_graph
from toolkit_figures import augmentation, batch_norm, clipping, dropout, early_stopping, schedules

import barenet
from barenet import NeuralNetwork
from barenet.experiments import (
    analyze_training_dynamics,
    experiment_with_architectures,
    experiment_with_learning_rates,
    learning_rate_range_test,
    test_robustness,
)
from barenet.nn import parse_layers
from barenet.nn.init import he_normal, xavier_uniform
from barenet.optim.optimizers import get_optimizer
from barenet.viz import figures as study_plots
from barenet.viz.figures import (
    plot_architectures,
    plot_dynamics,
    plot_learning_rates,
    plot_range_test,
    plot_robustness,
)

# -- how it works ------------------------------------------------------------------------------


def initialisation():
    """Spread of the activations through 12 ReLU layers of 256 units, for three inits."""
    rng = np.random.default_rng(0)
    X = mnist()["X_train"][:1000].astype(np.float64)
    inits = {
        "Xavier uniform: Var(W) = 2 / (n_in + n_out)": xavier_uniform,
        "He normal: Var(W) = 2 / n_in": he_normal,
        "too small: std(W) = 0.01": lambda rng, n_in, n_out, dtype: rng.normal(
            0, 0.01, (n_in, n_out)
        ),
    }
    fig = figure(7.5, 3.6)
    ax = fig.subplots()
    depth, width = 12, 256
    for (label, init), color in zip(inits.items(), (BLUE, GREEN, RED)):
        A, stds = X, []
        for _ in range(depth):
            W = init(rng, A.shape[1], width, np.float64)
            A = np.maximum(A @ W, 0)
            stds.append(A.std())
        ax.plot(range(1, depth + 1), stds, "o-", color=color, label=label)
    ax.set_yscale("log")
    ax.set(xlabel="hidden layer", ylabel="std of the activations", xticks=range(1, depth + 1))
    ax.set_title("A batch of MNIST images through 12 ReLU layers of 256 units (no training)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    return save(fig, "init-activations.png")


def optimizer_paths():
    """Paths of the optimizers on a long, narrow valley: f(x, y) = (x^2 + 25 y^2) / 2."""
    curvature = np.array([1.0, 25.0])
    start = np.array([-9.0, 1.6])
    panels = (
        {
            "SGD, lr 0.035": ("sgd", 0.035),
            "momentum 0.9, lr 0.035": ("momentum", 0.035),
            "Nesterov 0.9, lr 0.035": ("nesterov", 0.035),
        },
        {"RMSprop, lr 0.3": ("rmsprop", 0.3), "Adam, lr 0.5": ("adam", 0.5)},
    )
    colors = iter((BLUE, ORANGE, GREEN, RED, PURPLE))
    x, y = np.meshgrid(np.linspace(-10, 2, 200), np.linspace(-2.2, 2.2, 120))
    fig = figure(10, 3.9)
    for ax, runs in zip(fig.subplots(1, 2, sharey=True), panels):
        ax.contour(x, y, (x**2 + 25 * y**2) / 2, levels=np.geomspace(0.2, 80, 10), colors="0.85")
        for label, (name, rate) in runs.items():
            params = start.copy()
            optimizer = get_optimizer(name, rate)
            optimizer.setup(params)
            path = [params.copy()]
            for _ in range(40):
                optimizer.step(params, curvature * params)  # the gradient of f
                path.append(params.copy())
            path = np.array(path)
            ax.plot(
                path[:, 0], path[:, 1], ".-", color=next(colors), label=label, markersize=4, lw=1
            )
        ax.plot(0, 0, "k*", markersize=12)
        ax.set(xlim=(-10, 2), ylim=(-2.2, 2.2), xlabel="x")
        # Under the panel, not on it: the paths cross every corner of the valley.
        ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
    fig.axes[0].set_ylabel("y")
    fig.suptitle(
        "40 steps of each optimizer on f(x, y) = (x² + 25 y²) / 2 from (-9, 1.6); "
        "the minimum is the star"
    )
    return save(fig, "optimizer-paths.png")


# -- recurrent networks: the gradient through time ---------------------------------------------


def state_gradient_norms(net, X, y):
    """``||dL/dh_t||`` for t = 1..T: the mean over the images of ``X (B, T, F)`` of the norm of
    each image's own loss's gradient with respect to the state of the network's recurrent layer
    (its first layer, under a dense output layer) after step t.

    The output layer's backward turns ``P - T`` (per image: no 1/B) into ``dL/dh_T``; the
    recurrent layer's ``backward_steps`` runs backpropagation through time from there and
    returns each step's ``dL/da_t``; the state before step t+1 receives ``da_{t+1} U^T``."""
    recurrent, head = net.layers
    P = net.predict_proba(X)
    P[np.arange(len(y)), y] -= 1  # P - T, one image's loss at a time
    net.forward(X.astype(net.dtype))  # the states of these images, which backward reads
    dh_last = head.backward(P.astype(net.dtype))
    steps = X.shape[1]
    dA, _ = recurrent.backward_steps([None] * (steps - 1) + [dh_last])
    dh = [dA[t].reshape(len(X), -1) @ recurrent.U.T for t in range(1, steps)] + [dh_last]
    return np.array([np.linalg.norm(d, axis=1).mean() for d in dh])


def recurrent_gradients():
    """||dL/dh_t|| over the 28 rows of MNIST digits, for an RNN and an LSTM of 64 units: at
    initialisation (with the RNN's U also scaled by 0.5 and 2, to see the gradient vanish and
    explode), and before and after three epochs on 5,000 images."""
    data = mnist()
    X, y = data["X_train"][:256].reshape(-1, 28, 28), data["y_train"][:256]
    rows = np.arange(1, 29)

    def network(line):
        layers = parse_layers(line)
        return NeuralNetwork.from_layers(
            layers, (28, 28), optimizer="adam", learning_rate=0.003, seed=0
        )

    fig = figure(10, 4.2)
    left, right = fig.subplots(1, 2)
    for scale, color in ((0.5, GREEN), (1.0, BLUE), (2.0, RED)):
        rnn = network("rnn64 dense10")
        rnn.layers[0].U[...] *= scale
        label = "RNN, U as initialised (orthogonal)" if scale == 1 else f"RNN, U x {scale:g}"
        left.plot(rows, state_gradient_norms(rnn, X, y), "o-", ms=3, color=color, label=label)
    lstm = network("lstm64 dense10")
    left.plot(rows, state_gradient_norms(lstm, X, y), "s-", ms=3, color=ORANGE, label="LSTM")
    left.set_title("At initialisation")

    for line, color, name in (("rnn64 dense10", BLUE, "RNN"), ("lstm64 dense10", ORANGE, "LSTM")):
        net = network(line)
        before = state_gradient_norms(net, X, y)
        right.plot(rows, before, ":", color=color, label=f"{name}, at initialisation")
        train = data["X_train"][:5000], data["y_train"][:5000]
        net.train(*train, epochs=3, batch_size=64, verbose=False)
        accuracy = net.calculate_accuracy(data["X_val"][:2000], data["y_val"][:2000])
        label = f"{name}, trained ({accuracy:.0%} on validation)"
        marker = "o-" if name == "RNN" else "s-"
        right.plot(rows, state_gradient_norms(net, X, y), marker, ms=3, color=color, label=label)
    right.set_title("Before and after 3 epochs on 5,000 images")
    for ax in (left, right):
        ax.set_yscale("log")
        ax.set(xlabel="row t (the state after reading it)", ylabel="mean of ||dL/dh_t||")
        ax.set_xticks([1, 5, 10, 15, 20, 25, 28])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(
        "How much gradient reaches the state after each row: 256 digits read row by row, 64 units"
    )
    return save(fig, "recurrent-gradients.png")


# -- experiments -------------------------------------------------------------------------------

ADAM = {"optimizer": "adam", "learning_rate": 0.001}
SMALL = {"train_size": 10000, "val_size": 2000, "test_size": 2000, "progress": False}


def study_figures():
    """The five studies on a small subset, drawn by barenet.viz.figures and scaled down."""
    for draw in (architectures, learning_rates, range_test, dynamics, robustness):
        draw()


def architectures():
    sizes = [[32], [128, 64], [256]]
    rows = experiment_with_architectures(sizes, epochs=6, seeds=2, **ADAM, **SMALL)
    _keep(plot_architectures, rows, "experiment-architectures.png")


def learning_rates():
    """The grid reaches past each optimizer's best rate, so that the best sits on a peak of the
    last panel, not at the end of the grid (SGD at 1 jumps about, at 2 its units die). Drawn on
    two rows, the summary under the optimizers' panels, so that the text stays readable in the
    page's column (in one row of three panels it was scaled down to a third)."""
    grid = {"sgd": [0.01, 0.1, 0.5, 1.0, 2.0], "adam": [0.0003, 0.003, 0.03]}
    rows = experiment_with_learning_rates(grid, epochs=5, **SMALL)
    with on_two_rows(10, 8.4, text=1.2):
        _keep(plot_learning_rates, rows, "experiment-learning-rates.png")


def range_test():
    tests = [
        learning_rate_range_test(optimizer=name, train_size=5000, steps=200)
        for name in ("sgd", "adam")
    ]
    _keep(plot_range_test, tests, "experiment-range-test.png")


def dynamics():
    rows = analyze_training_dynamics(epochs=4, probe_size=500, **SMALL)
    _keep(plot_dynamics, rows, "experiment-dynamics.png")


def robustness():
    rows = test_robustness(epochs=6, noise_training=0.3, **ADAM, **SMALL)
    _keep(plot_robustness, rows, "experiment-robustness.png")


@contextmanager
def on_two_rows(width, height, text=1.0):
    """Draw barenet's study figures as ``width`` x ``height`` inches, their last panel across a
    second row under the others, with every text ``text`` times its size (the sizes matplotlib
    takes from its settings, and the legends, which barenet sizes itself)."""
    save_png = study_plots.save_png

    def save_restacked(fig, path):
        axes = fig.axes
        grid = fig.add_gridspec(2, len(axes) - 1)
        for column, ax in enumerate(axes[:-1]):
            ax.set_subplotspec(grid[0, column])
        axes[-1].set_subplotspec(grid[1, :])
        fig.set_size_inches(width, height)
        for legend in fig.legends + [ax.get_legend() for ax in axes]:
            for label in legend.get_texts() if legend else ():
                label.set_fontsize(label.get_fontsize() * text)
        return save_png(fig, path)

    study_plots.save_png = save_restacked
    try:
        with matplotlib.rc_context({"font.size": matplotlib.rcParams["font.size"] * text}):
            yield
    finally:
        study_plots.save_png = save_png


def _keep(plot, rows, name):
    """``plot(rows, path)`` into a temporary file, then into docs/img/ as ``name``, scaled (and
    as SVG, when asked, from the same figure)."""
    save_png = study_plots.save_png

    def save_also_svg(fig, path):
        saved = save_png(fig, path)
        if "svg" in figure_common.FORMATS:
            figure_common.save_svg(fig, name)
        return saved

    study_plots.save_png = save_also_svg
    try:
        with tempfile.TemporaryDirectory() as tmp:
            drawn = Path(plot(rows, Path(tmp) / name))
            if "png" in figure_common.FORMATS:
                target = IMG / name
                target.write_bytes(drawn.read_bytes())
                shrink(target)
    finally:
        study_plots.save_png = save_png


FIGURES = {
    "neuron": neuron_graph,
    "tiny_network": tiny_network_graph,
    "chain_rule": chain_rule,
    "slowdown": learning_slowdown,
    "initialisation": initialisation,
    "optimizers": optimizer_paths,
    "dropout": dropout,
    "batch_norm": batch_norm,
    "schedules": schedules,
    "augmentation": augmentation,
    "early_stopping": early_stopping,
    "clipping": clipping,
    "architectures": architectures,
    "learning_rates": learning_rates,
    "range_test": range_test,
    "dynamics": dynamics,
    "robustness": robustness,
    "recurrent_gradients": recurrent_gradients,
    "studies": study_figures,  # the five above
}


def main(names):
    IMG.mkdir(exist_ok=True)
    if "--svg" in names or "--svg-only" in names:
        figure_common.FORMATS.add("svg")
    if "--svg-only" in names:
        figure_common.FORMATS.discard("png")
    names = [name for name in names if name not in ("--svg", "--svg-only")]
    unknown = sorted(set(names) - set(FIGURES))
    if unknown:
        sys.exit(f"unknown figures {unknown}; choose from {sorted(FIGURES)}")
    for name in names or [name for name in FIGURES if name != "studies"]:
        FIGURES[name]()
        print(f"drew {name}")
    for path in sorted(IMG.glob("*.png")) + sorted(figure_common.SVG.glob("*.svg")):
        print(f"{path.stat().st_size / 1024:6.1f} KB  {path.relative_to(IMG)}")


if __name__ == "__main__":
    print(f"barenet {barenet.__version__}")
    main(sys.argv[1:])
