"""The job runner: serial, local processes and a real Dask cluster; failures and dead workers
are reported, results reach the file as they arrive, and parallel runs equal serial ones."""

import json
import os
import signal

import pytest

from barenet.errors import BarenetError
from barenet.experiments import experiment_with_architectures
from barenet.experiments.runner import WORKER_DIED, Job, run_jobs

# -- jobs (module level, so that worker processes can import them) ------------------------------


def double(x):
    return {"double": 2 * x}


def fail(x):
    raise ValueError(f"bad input {x}")


def kill_own_process():
    os.kill(os.getpid(), signal.SIGKILL)


def blas_threads():
    return {name: os.environ.get(name) for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}


def count_saved(path):
    """How many finished entries the results file holds while this job runs."""
    return {"saved_before": len(json.loads(open(path).read()))}


def interrupt():
    raise KeyboardInterrupt


def mixed_jobs():
    return [
        Job(double, {"x": 1}, {"name": "one"}),
        Job(fail, {"x": 2}, {"name": "two"}),
        Job(double, {"x": 3}, {"name": "three"}),
    ]


def check_mixed(entries):
    assert entries[0] == {"name": "one", "double": 2}
    assert entries[1] == {"name": "two", "error": "ValueError: bad input 2"}
    assert entries[2] == {"name": "three", "double": 6}


# -- serial and processes -----------------------------------------------------------------------


def test_serial_entries_in_job_order_and_a_failure_is_warned_and_recorded(tmp_path):
    path = tmp_path / "results.json"
    with pytest.warns(RuntimeWarning, match="job name two failed: ValueError: bad input 2"):
        entries = run_jobs(mixed_jobs(), results_path=path, progress=False)
    check_mixed(entries)
    assert sorted(map(str, json.loads(path.read_text()))) == sorted(map(str, entries))


def test_results_reach_the_file_as_each_job_finishes(tmp_path):
    path = tmp_path / "results.json"
    path.write_text('[{"stale": 1}, {"stale": 2}]')  # an earlier sweep's file is replaced
    jobs = [Job(double, {"x": 1}), Job(count_saved, {"path": str(path)}), Job(double, {"x": 2})]
    entries = run_jobs(jobs, results_path=path, progress=False)
    assert entries[1] == {"saved_before": 1}
    assert len(json.loads(path.read_text())) == 3


def test_an_interrupted_sweep_keeps_what_finished(tmp_path):
    path = tmp_path / "results.json"
    jobs = [Job(double, {"x": 1}), Job(double, {"x": 2}), Job(interrupt), Job(double, {"x": 4})]
    with pytest.raises(KeyboardInterrupt):
        run_jobs(jobs, results_path=path, progress=False)
    assert json.loads(path.read_text()) == [{"double": 2}, {"double": 4}]


def test_expand_turns_each_entry_into_rows_in_the_file_too(tmp_path):
    def expand(entry):
        return [entry] if "error" in entry else [{**entry, "part": k} for k in (1, 2)]

    path = tmp_path / "results.json"
    with pytest.warns(RuntimeWarning):
        rows = run_jobs(mixed_jobs(), results_path=path, progress=False, expand=expand)
    assert [(r["name"], r.get("part")) for r in rows] == [
        ("one", 1),
        ("one", 2),
        ("two", None),
        ("three", 1),
        ("three", 2),
    ]
    assert json.loads(path.read_text()) == rows


def test_processes_give_the_serial_entries(recwarn):
    check_mixed(run_jobs(mixed_jobs(), workers=2, progress=False))
    assert len(recwarn.list) == 1


def test_workers_get_one_blas_thread_and_the_environment_is_restored(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "7")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    entries = run_jobs([Job(blas_threads), Job(blas_threads)], workers=2, progress=False)
    assert entries == [{"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}] * 2
    assert os.environ["OPENBLAS_NUM_THREADS"] == "7"
    assert "OMP_NUM_THREADS" not in os.environ


def test_a_worker_process_that_dies_is_reported_and_the_others_finish():
    jobs = [
        Job(double, {"x": 1}, {"name": "a"}),
        Job(kill_own_process, {}, {"name": "killed"}),
        Job(double, {"x": 5}, {"name": "b"}),
    ]
    with pytest.warns(RuntimeWarning, match="job name killed failed: " + WORKER_DIED):
        entries = run_jobs(jobs, workers=2, progress=False)
    assert entries == [
        {"name": "a", "double": 2},
        {"name": "killed", "error": WORKER_DIED},
        {"name": "b", "double": 10},
    ]


def test_bad_worker_count_is_refused():
    with pytest.raises(BarenetError, match="workers must be >= 1, got 0"):
        run_jobs([Job(double, {"x": 1})], workers=0)


# -- Dask ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster():
    """A real two-process Dask cluster on 127.0.0.1.

    ``allowed-failures`` 0 ends a job on its first dead worker instead of retrying it on three
    more; ``worker-saturation`` 1 sends a worker one job at a time, so a worker's death takes
    down only the job it was running.
    """
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    settings = {
        "distributed.scheduler.allowed-failures": 0,
        "distributed.scheduler.worker-saturation": 1.0,
    }
    with dask.config.set(settings):
        local = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    with local:
        yield local


def test_dask_gives_the_serial_entries(cluster, recwarn):
    check_mixed(run_jobs(mixed_jobs(), scheduler=cluster.scheduler_address, progress=False))
    assert len(recwarn.list) == 1


def test_a_dask_worker_that_dies_mid_experiment_is_reported_not_lost(cluster, tmp_path):
    path = tmp_path / "results.json"
    jobs = [
        Job(double, {"x": 1}, {"name": "a"}),
        Job(kill_own_process, {}, {"name": "killed"}),
        Job(double, {"x": 5}, {"name": "b"}),
        Job(double, {"x": 7}, {"name": "c"}),
    ]
    with pytest.warns(RuntimeWarning, match="job name killed failed: " + WORKER_DIED):
        entries = run_jobs(jobs, scheduler=cluster.scheduler_address, results_path=path)
    assert entries[1]["error"].startswith(WORKER_DIED + " (KilledWorker")
    assert [entries[i] for i in (0, 2, 3)] == [
        {"name": "a", "double": 2},
        {"name": "b", "double": 10},
        {"name": "c", "double": 14},
    ]
    assert len(json.loads(path.read_text())) == 4


@pytest.mark.mnist
def test_processes_and_dask_train_exactly_as_a_serial_run(cluster):
    def run(**how):
        rows = experiment_with_architectures(
            [[16], [32]],
            epochs=1,
            seeds=[0, 1],
            train_size=1000,
            val_size=200,
            test_size=200,
            progress=False,
            **how,
        )
        for row in rows:  # timings differ from run to run
            del row["train_time"], row["history"]["epoch_time"]
        return rows

    serial = run()
    assert run(workers=2) == serial
    assert run(scheduler=cluster.scheduler_address) == serial


@pytest.mark.mnist
def test_mlps_and_cnns_side_by_side_train_alike_serially_in_processes_and_on_dask(cluster):
    line = "conv4x3 relu pool2 flatten dense16 relu"

    def run(**how):
        rows = experiment_with_architectures(
            [[16], line],
            epochs=1,
            seeds=[0],
            train_size=300,
            val_size=100,
            test_size=100,
            optimizer="adam",
            learning_rate=0.003,
            progress=False,
            **how,
        )
        for row in rows:  # timings differ from run to run
            del row["train_time"], row["history"]["epoch_time"]
        return rows

    serial = run()
    assert [row["architecture"] for row in serial] == ["784-16-10", line]
    assert serial[1]["layers"] == line and serial[1]["hidden_sizes"] is None
    assert serial[1]["n_parameters"] == 3 * 3 * 4 + 4 + 13 * 13 * 4 * 16 + 16 + 16 * 10 + 10
    assert all("error" not in row for row in serial)
    assert run(workers=2) == serial
    assert run(scheduler=cluster.scheduler_address) == serial
