"""A training step on both cores: the batch split across threads, the gradients summed.

NumPy's matrix products use every core, but the rest of a step (im2col's copies, batch norm,
pooling, activations, Python itself) runs on one, and at the sizes of a small CNN a product on
two BLAS threads is far from twice as fast as on one. So for ``workers=2`` the step below gives
each thread half the batch and a replica of the network's layers: the same parameters (views of
the one flat buffer, only read during the step), its own work buffers and its own flat gradient
buffer. Each thread runs forward, the loss and backward on its part with one BLAS thread; the
parts' gradients, each already weighted by its share of the batch, are then added in a fixed
order, so the step is deterministic: the same seed and data give the same weights bit for bit.

How the arithmetic differs from one thread on the whole batch (``workers=1``):

- the gradient is ``g_1 + g_2``, each part's sum rounded on its own: equal to the whole batch's
  to float32 rounding, not bit for bit;
- batch normalisation takes its statistics over each part ("ghost" batch norm), and its running
  averages are the mean of the parts';
- dropout draws its masks from generators seeded, at every step, from the network's generator,
  so the random stream (and with it the later shuffles) differs from a one-thread run.
"""

import contextlib
import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from barenet.nn.losses import LOSSES
from barenet.nn.stack import layer_from_config

try:  # limits NumPy's BLAS to one thread per worker: two threads each on two cores would fight
    from threadpoolctl import ThreadpoolController
except ImportError:  # pragma: no cover - a dependency of barenet; kept optional for old installs
    ThreadpoolController = None

# Below this many multiply-adds per sample, a step is too short for threads to pay (an MLP on
# MNIST: about 0.1 M); a small CNN has tens of millions.
PARALLEL_MIN_MACS = 2_000_000


def resolve_workers(workers, network, cores=None):
    """The number of threads for a step: ``workers`` as given (an int >= 1), or for ``"auto"``
    two when the machine has two cores or more and the network is large enough to gain
    (:data:`PARALLEL_MIN_MACS` multiply-adds per sample), else one."""
    if workers != "auto":
        return workers
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 2 if (cores or 1) >= 2 and multiply_adds(network) >= PARALLEL_MIN_MACS else 1


def multiply_adds(network):
    """Multiply-adds of one sample's forward pass, roughly: each parameter of a layer is used
    once per output position it slides over (a dense weight once, a convolution's kernel at
    every output pixel)."""
    total = 0
    for name, where in network.parameter_slices().items():
        layer = network.layers[int(name.split(".")[1])]
        shape = getattr(layer, "output_shape", ())
        positions = math.prod(shape[:-1]) if len(shape) > 1 else 1
        total += (where.stop - where.start) * positions
    return total


class ParallelStep:
    """``step(X, y)``: the gradient of the batch's mean loss in ``network.grads``, computed by
    ``workers`` threads on contiguous parts of the batch; returns ``(loss, hits)`` like
    :meth:`barenet.NeuralNetwork.backprop` with ``count_correct``.

    Parameters
    ----------
    network : barenet.NeuralNetwork
        Its own layers are the first replica; the others are rebuilt from their configs.
    workers : int
        Threads, and parts of each batch (at least 2).
    """

    def __init__(self, network, workers):
        self.network, self.workers = network, workers
        self.replicas = [network.layers]
        self.grads = [network.grads]
        for _ in range(workers - 1):
            grads = np.zeros_like(network.grads)
            self.replicas.append(_replicate(network, grads))
            self.grads.append(grads)
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="barenet-step")
        self.blas = ThreadpoolController() if ThreadpoolController is not None else None

    def one_blas_thread(self):
        """A context in which NumPy's BLAS runs one thread per call (each worker its own)."""
        if self.blas is None:  # pragma: no cover
            return contextlib.nullcontext()
        return self.blas.limit(limits=1, user_api="blas")

    def __call__(self, X, y):
        net = self.network
        if X.dtype != net.dtype:
            X = X.astype(net.dtype)
        bounds = np.linspace(0, len(X), self.workers + 1).round().astype(int)
        seeds = net.rng.integers(0, 2**63, size=self.workers)  # dropout masks, per part
        with self.one_blas_thread():
            jobs = [
                self.pool.submit(self._part, k, X[a:b], y[a:b], len(X), seeds[k])
                for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))
            ]
            results = [job.result() for job in jobs]  # in order: the sums below are too
        for grads in self.grads[1:]:
            net.grads += grads
        self._average_states()
        for layer in net.layers:
            layer.rng = net.rng
        loss = sum(r[0] for r in results) / len(X)
        loss += net.penalty.add_gradient(net.params, net.grads)
        hits = None if net.is_regression else sum(r[1] for r in results)
        return loss, hits

    def _part(self, k, X, y, batch, seed):
        """Forward, loss and backward of replica ``k`` on its part; returns the part's summed
        loss and its number of correct predictions. Its gradient is scaled to be its share of
        the whole batch's mean: ``dZ`` carries the factor ``len(part) / batch``."""
        net, layers = self.network, self.replicas[k]
        rng = np.random.default_rng(seed)
        Z = X.reshape(len(X), *net.input_shape)
        for layer in layers:
            layer.rng = rng
            Z = layer.forward(Z, True)
        hits = None
        if not net.is_regression:
            hits = int(np.count_nonzero(Z.argmax(axis=1) == y))
        loss = LOSSES[net.loss](Z, y, Z)  # the part's summed loss; dL/dZ of its mean into Z
        Z *= len(X) / batch
        for layer in reversed(layers):
            Z = layer.backward(Z)
        return loss, hits

    def _average_states(self):
        """Running statistics (batch norm's) become the mean of the replicas' updates."""
        for i, layer in enumerate(self.network.layers):
            state = layer.state()
            if not state:
                continue
            others = [replica[i].state() for replica in self.replicas[1:]]
            for name, array in state.items():
                for other in others:
                    array += other[name]
                array /= self.workers
                for other in others:
                    other[name][...] = array

    def close(self):
        self.pool.shutdown(wait=True)


def _replicate(network, grads):
    """The network's layers rebuilt from their configs, bound to its parameters (the same
    arrays) and to the flat gradient buffer ``grads`` (laid out as ``network.grads``), with
    its state (batch norm's running statistics) copied."""
    layers = [layer_from_config(layer.config()) for layer in network.layers]
    for mine, theirs in zip(layers, network.layers):
        mine.build(theirs.input_shape)
        mine.input_grad = theirs.input_grad
    layout = network.parameter_slices()
    for i, layer in enumerate(layers):
        params, grad_views = {}, {}
        for name, (shape, _) in layer.param_shapes().items():
            where = layout[f"layers.{i}.{name}"]
            params[name] = network.params[where].reshape(shape)
            grad_views[name] = grads[where].reshape(shape)
        layer.bind(params, grad_views)
        state = network.layers[i].state()
        if state:
            layer.set_state({name: array.copy() for name, array in state.items()})
    return layers
