"""Would Winograd's convolution make barenet's 3x3 layers faster? A probe, not a feature.

Run from the repository root::

    python benchmarks/winograd_probe.py

Winograd's F(2x2, 3x3) (Lavin and Gray, 2015) computes each 2x2 block of a 3x3 convolution's
output from a 4x4 tile of its input with 16 multiplications per channel pair instead of 36:

``Y_tile = A^T [ (G W G^T) * (B^T X_tile B) ] A``, summed over the input channels,

so the product ``cols W2`` of im2col becomes 16 products of ``(tiles, C) x (C, F)``, 2.25x less
arithmetic. The price is the transforms ``B^T X B`` (input) and ``A^T M A`` (output), which are
additions and subtractions of whole arrays. This script times the forward pass both ways on the
three 3x3 layers of ``benchmarks/cnn_speed.py``'s modern net (batch 64), alternating them in one
process, and checks that they agree. On this project's machine the transforms, 44 elementwise
NumPy passes bound by memory, cost more than the multiplications they save, which is why
``Conv2D`` stays with im2col. Nothing here asserts on times.
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from systems import matmul_peak, use_processor_kernels  # noqa: E402  (beside this file)

from barenet.nn import Conv2D  # noqa: E402

# The kernel transform of F(2x2, 3x3): U = G W G^T for each (input, output) channel pair.
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], np.float32)
LAYERS = [(28, 32, 32), (14, 32, 64), (14, 64, 64)]  # (side, channels in, filters)


def winograd_forward(X, W, work):
    """``Y (B, H, W, F)`` of a 3x3 "same" convolution of ``X (B, H, W, C)`` (``H``, ``W``
    even), no bias; ``work`` is a dict of reused arrays."""
    B, H, W_, C = X.shape
    F, th, tw = W.shape[-1], H // 2, W_ // 2  # th x tw tiles, each 2x2 outputs
    Xp = work.setdefault("Xp", np.zeros((B, H + 2, W_ + 2, C), np.float32))
    Xp[:, 1 : H + 1, 1 : W_ + 1] = X
    U = np.einsum("ai,ijcf,bj->abcf", G, W, G).reshape(16, C, F)
    # B^T d: row i of every tile is a strided view; B^T's rows combine them.
    r = [Xp[:, i : i + 2 * th : 2] for i in range(4)]
    T = work.setdefault("T", np.empty((4, B, th, W_ + 2, C), np.float32))
    np.subtract(r[0], r[2], out=T[0])
    np.add(r[1], r[2], out=T[1])
    np.subtract(r[2], r[1], out=T[2])
    np.subtract(r[1], r[3], out=T[3])
    V = work.setdefault("V", np.empty((4, 4, B, th, tw, C), np.float32))
    for a in range(4):  # (B^T d) B: the same along the columns
        c = [T[a][:, :, j : j + 2 * tw : 2] for j in range(4)]
        np.subtract(c[0], c[2], out=V[a, 0])
        np.add(c[1], c[2], out=V[a, 1])
        np.subtract(c[2], c[1], out=V[a, 2])
        np.subtract(c[1], c[3], out=V[a, 3])
    M = work.setdefault("M", np.empty((16, B * th * tw, F), np.float32))
    np.matmul(V.reshape(16, -1, C), U, out=M)  # the 16 products
    M = M.reshape(4, 4, B, th, tw, F)
    S = work.setdefault("S", np.empty((2, 4, B, th, tw, F), np.float32))
    np.add(M[0], M[1], out=S[0])  # A^T M: A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]
    S[0] += M[2]
    np.subtract(M[1], M[2], out=S[1])
    S[1] -= M[3]
    Y = work.setdefault("Y", np.empty((B, H, W_, F), np.float32))
    for p in range(2):  # (A^T M) A, written into the 2x2 positions of every tile
        s, y0, y1 = S[p], Y[:, p::2, 0::2], Y[:, p::2, 1::2]
        np.add(s[0], s[1], out=y0)
        y0 += s[2]
        np.subtract(s[1], s[2], out=y1)
        y1 -= s[3]
    return Y


def best_ms(f, repeats=10):
    f()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def compare(side, C, F, rng):
    """One table row: both forward passes of a ``side x side x C -> F`` layer, alternated."""
    X = rng.standard_normal((64, side, side, C), dtype=np.float32)
    layer = Conv2D(F, 3, padding="same")
    layer.build((side, side, C))
    layer.W = (rng.standard_normal((3, 3, C, F)) * 0.1).astype(np.float32)
    layer.b = np.zeros(F, np.float32)
    work = {}
    expected = layer.forward(X).copy()
    error = np.abs(winograd_forward(X, layer.W, work) - expected).max() / np.abs(expected).max()
    im2col, winograd = [], []
    for _ in range(3):  # alternate, so that a slow moment falls on both
        im2col.append(best_ms(lambda: layer.forward(X)))
        winograd.append(best_ms(lambda: winograd_forward(X, layer.W, work)))
    i, w = min(im2col), min(winograd)
    return f"| {side}x{side}x{C} -> {F} | {i:.2f} | {w:.2f} | {w / i:.2f}x | {error:.1e} |"


def main():
    use_processor_kernels()
    rng = np.random.default_rng(0)
    print(f"float32 matmul {matmul_peak():.0f} GFLOP/s; forward of a batch of 64, best of 10")
    print("| layer | im2col (ms) | Winograd (ms) | Winograd / im2col | largest difference |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for side, C, F in LAYERS:
        print(compare(side, C, F, rng))


if __name__ == "__main__":
    main()
