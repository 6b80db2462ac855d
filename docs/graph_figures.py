"""The pictures of the gentle start (docs/how-it-works/one-neuron.md): one neuron's computational
graph, a tiny network's graph with forward values and backward gradients on its wires, and the
chain rule as a picture. Every number is computed here with NumPy from the same example as the
page, so the pictures and the page's code cannot disagree.
"""

import numpy as np
from figure_common import BLUE, RED, figure, save
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

# The page's example: a neuron with two inputs, a sigmoid, the loss -log(a) of label 1.
X = np.array([1.0, 2.0])
W = np.array([0.5, -0.25])
B = 0.1

# The tiny network: 2 inputs, 2 ReLU units, 1 sigmoid output, loss -log(sigmoid(s)).
W1 = np.array([[0.5, -0.5], [0.25, 0.75]])  # (inputs, hidden)
B1 = np.array([0.0, 0.1])
V = np.array([1.0, -0.5])  # hidden -> output
C = 0.2


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def neuron_numbers():
    """Forward values and gradients of the one-neuron example, by the chain rule."""
    products = W * X
    z = products.sum() + B
    a = sigmoid(z)
    loss = -np.log(a)
    da = -1 / a
    dz = da * a * (1 - a)  # = a - 1
    return {"products": products, "z": z, "a": a, "loss": loss, "da": da, "dz": dz}


def tiny_network_numbers():
    """Forward values and gradients of the tiny network, layer by layer."""
    z1 = X @ W1 + B1
    h = np.maximum(z1, 0)
    s = h @ V + C
    p = sigmoid(s)
    loss = -np.log(p)
    ds = p - 1
    dV, dC = h * ds, ds
    dh = V * ds
    dz1 = dh * (z1 > 0)
    dW1, dB1 = np.outer(X, dz1), dz1
    return locals()


def _wire(ax, start, end, above, below, color="0.3", where=0.5):
    """An arrow from ``start`` to ``end``, its forward value above and gradient below, written
    at the fraction ``where`` of its length."""
    ax.add_patch(
        FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color=color, lw=1.2)
    )
    mid = (start[0] + (end[0] - start[0]) * where, start[1] + (end[1] - start[1]) * where)
    ax.text(mid[0], mid[1] + 0.09, above, ha="center", va="bottom", color=BLUE, fontsize=10)
    ax.text(mid[0], mid[1] - 0.09, below, ha="center", va="top", color=RED, fontsize=10)


def _node(ax, xy, text, radius=0.28):
    ax.add_patch(Circle(xy, radius, facecolor="white", edgecolor="black", lw=1.2, zorder=3))
    ax.text(*xy, text, ha="center", va="center", fontsize=12, zorder=4)


def _box(ax, xy, text):
    ax.add_patch(
        FancyBboxPatch(
            (xy[0] - 0.32, xy[1] - 0.2),
            0.64,
            0.4,
            boxstyle="round,pad=0.02",
            facecolor="#eeeeee",
            edgecolor="black",
            zorder=3,
        )
    )
    ax.text(*xy, text, ha="center", va="center", fontsize=11, zorder=4)


def _canvas(width, height, xlim, ylim):
    fig = figure(width, height)
    ax = fig.subplots()
    ax.set(xlim=xlim, ylim=ylim, aspect="equal")
    ax.axis("off")
    return fig, ax


def neuron_graph():
    """The neuron z = w1 x1 + w2 x2 + b, a = sigmoid(z), loss -log a as a graph of operations."""
    n = neuron_numbers()
    fig, ax = _canvas(9.5, 3.6, (-0.3, 10.3), (-0.2, 3.6))
    inputs = [(0.3, 3.0), (0.3, 2.0), (0.3, 1.2), (0.3, 0.2)]
    labels = [f"x₁ = {X[0]:g}", f"w₁ = {W[0]:g}", f"x₂ = {X[1]:g}", f"w₂ = {W[1]:g}"]
    for xy, label in zip(inputs, labels):
        ax.text(*xy, label, ha="center", va="center", fontsize=11)
    times = [(2.4, 2.5), (2.4, 0.7)]
    for k, node in enumerate(times):
        _node(ax, node, "×")
        grads = (n["dz"] * W[k], n["dz"] * X[k])  # d/dx_k, d/dw_k
        for j, source in enumerate(inputs[2 * k : 2 * k + 2]):
            start = (source[0] + 0.55, source[1])
            _wire(ax, start, (node[0] - 0.3, node[1]), "", f"{grads[j]:.3f}")
    plus = (4.6, 1.6)
    _node(ax, plus, "+")
    ax.text(4.6, 3.1, f"b = {B:g}", ha="center", fontsize=11)
    _wire(ax, (4.6, 2.9), (4.6, 1.9), "", "")
    ax.text(4.75, 2.4, f"{n['dz']:.3f}", color=RED, fontsize=10, va="center")
    for k, node in enumerate(times):
        _wire(
            ax,
            (node[0] + 0.3, node[1]),
            (plus[0] - 0.3, plus[1]),
            f"{n['products'][k]:g}",
            f"{n['dz']:.3f}",
        )
    sig, log = (6.8, 1.6), (8.7, 1.6)
    _box(ax, sig, "σ")
    _box(ax, log, "−log")
    _wire(ax, (plus[0] + 0.3, 1.6), (sig[0] - 0.34, 1.6), f"z = {n['z']:.3g}", f"{n['dz']:.3f}")
    _wire(ax, (sig[0] + 0.34, 1.6), (log[0] - 0.34, 1.6), f"a = {n['a']:.3f}", f"{n['da']:.3f}")
    _wire(ax, (log[0] + 0.34, 1.6), (10.1, 1.6), f"{n['loss']:.3f}", "1")
    ax.text(10.2, 1.6, "ℓ", fontsize=13, va="center")
    ax.text(
        -0.2,
        -0.15,
        "blue, above a wire: its value (forward)   red, below: dℓ/d(value) (backward)",
        fontsize=9,
        color="0.3",
    )
    return save(fig, "one-neuron-graph.png")


def tiny_network_graph():
    """A 2-2-1 network: node values forward, weight gradients backward, on every wire."""
    t = tiny_network_numbers()
    fig, ax = _canvas(9.5, 4.6, (-0.6, 10.2), (-0.6, 4.4))
    xs = [(0.4, 3.2), (0.4, 0.8)]
    hs = [(4.2, 3.2), (4.2, 0.8)]
    out, loss = (7.6, 2.0), (9.6, 2.0)
    for k, xy in enumerate(xs):
        _node(ax, xy, f"x{k + 1}\n{X[k]:g}", 0.42)
    for j, xy in enumerate(hs):
        _node(ax, xy, f"h{j + 1}\n{t['h'][j]:.3g}", 0.42)
        ax.text(xy[0], xy[1] - 0.62, f"z = {t['z1'][j]:.3g}", ha="center", fontsize=9)
        ax.text(xy[0], xy[1] + 0.5, f"dℓ/dh = {t['dh'][j]:.3f}", ha="center", fontsize=9, color=RED)
    _node(ax, out, f"s\n{t['s']:.3f}", 0.42)
    ax.text(out[0], out[1] + 0.5, f"dℓ/ds = {t['ds']:.3f}", ha="center", fontsize=9, color=RED)
    ax.text(out[0], out[1] - 0.62, f"p = σ(s) = {t['p']:.3f}", ha="center", fontsize=9)
    for k, start in enumerate(xs):
        for j, end in enumerate(hs):
            a = (start[0] + 0.45, start[1] + (end[1] - start[1]) * 0.12)
            b = (end[0] - 0.45, end[1] - (end[1] - start[1]) * 0.12)
            where = 0.5 if k == j else 0.22  # the crossing wires: away from the crossing
            _wire(ax, a, b, f"w={W1[k, j]:g}", f"{t['dW1'][k, j]:.3f}", where=where)
    for j, start in enumerate(hs):
        a = (start[0] + 0.45, start[1] + (out[1] - start[1]) * 0.2)
        b = (out[0] - 0.45, out[1] - (out[1] - start[1]) * 0.2)
        _wire(ax, a, b, f"v={V[j]:g}", f"{t['dV'][j]:.3f}")
    _wire(ax, (out[0] + 0.45, out[1]), (loss[0] - 0.1, loss[1]), f"ℓ={t['loss']:.3f}", "")
    ax.text(
        -0.5,
        -0.5,
        "ReLU hidden units, biases (0, 0.1) and c = 0.2 not drawn; label 1, "
        "ℓ = −log σ(s).   blue: weights   red: dℓ/d(weight) and dℓ/d(node)",
        fontsize=9,
        color="0.3",
    )
    return save(fig, "tiny-network-graph.png")


def chain_rule():
    """Nudges passed along: x -> y = f(x) -> z = g(y), each stage multiplying by its slope."""
    fig = figure(9.5, 3.2)
    axes = fig.subplots(1, 3)
    x0, dx = 1.0, 0.3
    f, df = (lambda x: x**2), (lambda x: 2 * x)
    g, dg = (lambda y: 3 * np.sin(y)), (lambda y: 3 * np.cos(y))
    y0 = f(x0)
    dy = df(x0) * dx  # the nudge that reaches y is the one g receives
    for ax, fun, slope, at, nudge, name, inp, outp in (
        (axes[0], f, df, x0, dx, "y = f(x) = x²: Δx in, Δy out", "x", "y"),
        (axes[1], g, dg, y0, dy, "z = g(y) = 3 sin y: Δy in, Δz out", "y", "z"),
    ):
        grid = np.linspace(at - 0.8, at + 0.8, 100)
        ax.plot(grid, fun(grid), color="0.3")
        ax.plot(grid, fun(at) + slope(at) * (grid - at), "--", color=BLUE, lw=1)
        ax.annotate(
            "",
            (at + nudge, fun(at)),
            (at, fun(at)),
            arrowprops={"arrowstyle": "->", "color": "black"},
        )
        ax.annotate(
            "",
            (at + nudge, fun(at) + slope(at) * nudge),
            (at + nudge, fun(at)),
            arrowprops={"arrowstyle": "->", "color": RED},
        )
        ax.set(title=name, xlabel=inp, ylabel=outp)
        ax.text(
            at + nudge + 0.05,
            fun(at) + slope(at) * nudge / 2,
            f"× {slope(at):.2f}",
            color=RED,
            fontsize=10,
        )
    axes[2].axis("off")
    total = df(x0) * dg(y0)
    axes[2].text(
        0.0,
        0.5,
        f"a nudge Δx = {dx:g}\n"
        f"becomes Δy ≈ f′(x) Δx = {df(x0):.2f} Δx\n"
        f"and Δz ≈ g′(y) Δy = {dg(y0):.2f} Δy\n\n"
        f"so dz/dx = g′(y) · f′(x)\n= {dg(y0):.2f} × {df(x0):.2f} = {total:.2f}\n\n"
        "backpropagation multiplies\nthe same slopes, right to left",
        fontsize=10,
        va="center",
    )
    return save(fig, "chain-rule.png")


def learning_slowdown():
    """One sigmoid neuron, input 1, target 0, from w = b = 2: its output per epoch of gradient
    descent at 0.15, with a squared error and with cross-entropy (Nielsen, chapter 3)."""
    fig = figure(7.0, 3.2)
    ax = fig.subplots()
    for loss, color in (("squared error", RED), ("cross-entropy", BLUE)):
        w = b = 2.0
        outputs = []
        for _ in range(301):
            a = sigmoid(w + b)
            outputs.append(a)
            dz = a * a * (1 - a) if loss == "squared error" else a
            w, b = w - 0.15 * dz, b - 0.15 * dz
        ax.plot(outputs, color=color, label=loss)
    ax.set(xlabel="epoch", ylabel="output a (target 0)", ylim=(0, 1))
    ax.set_title("The learning slowdown: a confidently wrong neuron")
    ax.grid(alpha=0.3)
    ax.legend()
    return save(fig, "learning-slowdown.png")
