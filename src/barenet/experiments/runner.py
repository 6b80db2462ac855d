"""Run many independent jobs: one after another, in local worker processes, or on Dask.

A :class:`Job` is a plain function, its keyword arguments and a few tags naming it (the
architecture, the seed...). The function must be picklable (defined at module level, not a
lambda) and return a JSON-able dict. Each job gives an entry ``{**tags, **result}``, or
``{**tags, "error": "..."}`` when the job raised or its worker died; an ``expand`` function may
turn an entry into several rows (a row per epoch, say). :func:`run_jobs` returns the rows in
job order. Each failure is also reported as a :class:`RuntimeWarning` naming the job, so none
is lost in silence. With ``results_path``, the rows finished so far are rewritten atomically as
a JSON list after every job, so an interrupted sweep keeps what it finished.

Worker processes are *spawned*, not forked, with ``OPENBLAS_NUM_THREADS=1`` (and its kin) in the
environment they inherit: the variables must be set before NumPy is imported, which a fresh
interpreter does, and one BLAS thread per worker keeps the workers from fighting over the cores.
"""

import concurrent.futures as cf
import contextlib
import json
import multiprocessing
import os
import secrets
import warnings
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from barenet import validation as check
from barenet.errors import BarenetError
from barenet.files.archive import atomic_write_bytes
from barenet.progress import tqdm

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
WORKER_DIED = "the worker process running this job died"


@dataclass(frozen=True)
class Job:
    """``fn(**kwargs)``, a dict of JSON-able results; ``tags`` name the job in its entry."""

    fn: object
    kwargs: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)

    @property
    def label(self):
        return ", ".join(f"{key} {value}" for key, value in self.tags.items()) or self.fn.__name__


def run_jobs(
    jobs,
    *,
    workers=1,
    scheduler=None,
    results_path=None,
    progress=True,
    desc="jobs",
    expand=None,
):
    """Run ``jobs`` and return their rows in job order (see the module docstring).

    ``scheduler``: a Dask scheduler address (``"tcp://host:8786"``) or a ``distributed.Client``:
    the jobs run on that cluster (needs ``pip install "barenet[dask]"``). Otherwise ``workers``
    > 1 runs them in that many local processes, and 1 runs them here, one after another. A
    tqdm bar on stderr counts finished jobs unless ``progress`` is false.

    Worker processes import the main module anew (they are spawned), so a script that runs
    jobs in processes must start them under ``if __name__ == "__main__":``.
    """
    jobs = list(jobs)
    workers = check.positive_int("workers", workers)
    log = _ResultLog(jobs, results_path, expand or (lambda entry: [entry]))
    with tqdm(total=len(jobs), desc=desc, unit="job", disable=not progress) as bar:

        def record(i, result=None, error=None):
            log.add(i, result, error)
            bar.update(1)
            if log.failures:
                bar.set_postfix(failed=log.failures)

        if scheduler is not None:
            _run_dask(jobs, scheduler, record)
        elif workers > 1 and len(jobs) > 1:
            _run_processes(jobs, workers, record)
        else:
            _run_serial(jobs, record)
    return [row for rows in log.rows for row in rows]


class _ResultLog:
    """The rows of each job in job order, and the finished ones on disk as they arrived."""

    def __init__(self, jobs, path, expand):
        self.jobs, self.path, self.expand = jobs, path, expand
        self.rows = [[] for _ in jobs]
        self.arrived = []
        self.failures = 0
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._write()  # an empty list now: a stale file from an earlier sweep is not kept

    def add(self, i, result, error):
        job = self.jobs[i]
        if error is None and not isinstance(result, dict):
            error = f"the job returned {type(result).__name__}, not a dict"
        if error is None:
            entry = {**job.tags, **result}
        else:
            entry = {**job.tags, "error": error}
            self.failures += 1
            warnings.warn(f"job {job.label} failed: {error}", RuntimeWarning, stacklevel=2)
        self.rows[i] = self.expand(entry)
        self.arrived += self.rows[i]
        if self.path is not None:
            self._write()

    def _write(self):
        text = json.dumps(self.arrived, indent=1, default=_plain)
        atomic_write_bytes(self.path, text.encode("utf-8"))


def _plain(value):
    """JSON for the NumPy values a job may return: scalars as numbers, arrays as lists.

    Anything else raises TypeError, as :func:`json.dumps` requires of its ``default`` hook.
    """
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"a job result holds {type(value).__name__}, which JSON cannot store")


def _dask_error(exc):
    """A job's error; for a worker that died, its first sentence (the rest is advice)."""
    if type(exc).__name__ == "KilledWorker":
        return f"{WORKER_DIED} (KilledWorker: {str(exc).split('. ')[0]})"
    return _describe(exc)


def _call(fn, kwargs):
    return fn(**kwargs)


def _describe(exc):
    return f"{type(exc).__name__}: {exc}"


def _run_serial(jobs, record):
    for i, job in enumerate(jobs):
        try:
            result = job.fn(**job.kwargs)
        except Exception as exc:  # one failing job must not end the sweep
            record(i, error=_describe(exc))
        else:
            record(i, result)


# -- local processes ----------------------------------------------------------------------------


def _run_processes(jobs, workers, record):
    """Jobs in a pool of ``workers`` spawned processes, each with one BLAS thread.

    A worker that dies breaks the whole pool, and every unfinished job then fails alike, so
    which one killed it is unknown: those jobs run again, each in a pool of its own, where a
    death names its job exactly.
    """
    with _single_threaded_blas():
        lost = _run_pool(jobs, workers, record)
        if lost:
            _run_isolated(jobs, lost, workers, record)


@contextlib.contextmanager
def _single_threaded_blas():
    """Set the BLAS thread variables to 1 for processes spawned within; restore them after."""
    saved = {name: os.environ.get(name) for name in BLAS_THREAD_VARIABLES}
    os.environ.update(dict.fromkeys(BLAS_THREAD_VARIABLES, "1"))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _pool(workers):
    return cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def _run_pool(jobs, workers, record):
    """Run all jobs in one pool; return the indices of those lost when the pool broke."""
    lost = []
    pool = _pool(workers)
    try:
        futures = {pool.submit(job.fn, **job.kwargs): i for i, job in enumerate(jobs)}
        for future in cf.as_completed(futures):
            if _settle(record, futures[future], future):
                lost.append(futures[future])
    except BaseException:  # Ctrl-C: do not wait for the running jobs
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return sorted(lost)


def _settle(record, i, future):
    """Record how job ``i`` ended; return True, recording nothing, if its pool broke."""
    try:
        result = future.result()
    except BrokenProcessPool:
        return True
    except Exception as exc:
        record(i, error=_describe(exc))
    else:
        record(i, result)
    return False


def _run_isolated(jobs, indices, workers, record):
    """Run each job of ``indices`` in its own one-process pool, ``workers`` at a time."""
    waiting, running = list(indices), {}
    try:
        while waiting or running:
            while waiting and len(running) < workers:
                i, pool = waiting.pop(0), _pool(1)
                running[pool.submit(jobs[i].fn, **jobs[i].kwargs)] = (i, pool)
            done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for future in done:
                i, pool = running.pop(future)
                pool.shutdown()
                if _settle(record, i, future):
                    record(i, error=WORKER_DIED)
    finally:
        for _, pool in running.values():
            pool.shutdown(wait=False, cancel_futures=True)


# -- Dask ---------------------------------------------------------------------------------------


def _run_dask(jobs, scheduler, record):
    """Submit every job to the Dask cluster at ``scheduler``; record each as it finishes.

    Dask moves the jobs of a worker that dies to other workers; a job whose workers keep dying
    (``distributed.scheduler.allowed-failures`` times) ends as ``KilledWorker``, recorded here
    as that job's error.
    """
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise BarenetError(
            'running on a Dask cluster needs dask.distributed: pip install "barenet[dask]"'
        ) from None
    own = not isinstance(scheduler, Client)
    client = Client(scheduler) if own else scheduler
    try:
        # Through _call: a job argument named like an option of submit (workers, key...) stays
        # the job's. The key names the job's function on the cluster's dashboard.
        futures = {}
        for i, job in enumerate(jobs):
            key = f"{job.fn.__name__}-{i}-{secrets.token_hex(6)}"
            futures[client.submit(_call, job.fn, job.kwargs, key=key, pure=False)] = i
        for future in as_completed(futures):
            try:
                result = future.result()
            except Exception as exc:
                record(futures[future], error=_dask_error(exc))
            else:
                record(futures[future], result)
    finally:
        if own:
            client.close()
