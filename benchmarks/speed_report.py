"""The report of benchmarks/train_speed.py: its header (machine, libraries, data) and its tables
(speed with the FLOP floor, inference, accuracy), as Markdown lines."""

import statistics

from systems import Barenet


def epoch_flops(sizes, n_samples):
    """Multiply-add FLOPs of one epoch: forward, weight gradients, input gradients (not layer 1)."""
    total = 0
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        passes = 2 if i == 0 else 3  # no dX is needed for the input layer
        total += passes * 2 * n_samples * n_in * n_out
    return total


def header_lines(info, peak, data, args):
    blas = info["numpy_blas"]
    blas_text = (
        f"{blas['internal_api']} {blas['version']} ({blas.get('architecture')}), "
        f"{blas['num_threads']} threads"
        if blas
        else "unknown (no threadpoolctl)"
    )
    env = ", ".join(f"{k}={v}" for k, v in sorted(info["openblas_env"].items())) or "none"
    versions = [f"Python {info['python']}", f"numpy {info['numpy']}"]
    if "torch" in info:
        versions.append(f"torch {info['torch']} ({info['torch_threads']} threads)")
    if "sklearn" in info:
        versions.append(f"scikit-learn {info['sklearn']}")
    return [
        "# barenet training speed",
        "",
        f"- CPU: {info['cpu']} ({info['logical_cpus']} logical CPUs); {', '.join(versions)}",
        f"- NumPy BLAS: {blas_text}; environment: {env}",
        f"- float32 matmul peak (NumPy, 2048^3, best of {args.peak_repeats} before and after): "
        f"{peak:.1f} GFLOP/s",
        f"- data: {len(data.X_train):,} training images, {len(data.X_test):,} test images, "
        f"float32, no validation pass; seed {args.seed}",
        f"- 1-minute load average at start / end: {info['load_average_start']:.2f} / "
        f"{info['load_average_end']:.2f} (other processes share the {info['logical_cpus']} CPUs)",
    ]


def speed_table(title, jobs, rounds, sizes, n_train, peak):
    base = {job.optimizer: job.median for job in jobs if isinstance(job.system, Barenet)}
    lines = [
        "",
        f"## {title}",
        "",
        f"Median over {rounds} round(s) after one warm-up epoch; test accuracy after "
        f"{rounds + 1} epochs.",
        "",
        "| system | optimizer | s/epoch (median) | test accuracy | barenet speed-up |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for job in jobs:
        speedup = job.median / base[job.optimizer]
        lines.append(
            f"| {job.system.name} | {job.optimizer} | {job.median:.3f} | "
            f"{100 * job.accuracy:.2f}% | {speedup:.2f}x |"
        )
    flops = epoch_flops(sizes, n_train)
    floor = flops / (peak * 1e9)
    fractions = ", ".join(f"{opt} {100 * floor / t:.0f}%" for opt, t in base.items())
    lines += [
        "",
        f"Floor: {flops / 1e9:.1f} GFLOP per epoch at {peak:.0f} GFLOP/s = "
        f"{floor:.3f} s. barenet's fraction of the floor (floor / barenet time): "
        f"{fractions}.",
    ]
    return lines


def inference_table(results, n_test, repeats):
    base = results["barenet"]
    lines = [
        "",
        f"## Inference: predict {n_test:,} test images (784-128-64-10)",
        "",
        f"Median of {repeats} repeats.",
        "",
        "| system | ms | barenet speed-up |",
        "| --- | ---: | ---: |",
    ]
    for name, seconds in results.items():
        lines.append(f"| {name} | {1000 * seconds:.1f} | {seconds / base:.2f}x |")
    return lines


def accuracy_table(results, epochs, seeds):
    lines = [
        "",
        f"## Test accuracy after {epochs} epochs of fresh models (seeds {seeds})",
        "",
        "| system | optimizer | test accuracy (mean) | min - max | vs barenet (points) |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    base = {
        opt: statistics.mean(accs) for (name, opt), accs in results.items() if name == "barenet"
    }
    for (name, opt), accs in results.items():
        mean = statistics.mean(accs)
        lines.append(
            f"| {name} | {opt} | {100 * mean:.2f}% | {100 * min(accs):.2f} - "
            f"{100 * max(accs):.2f}% | {100 * (mean - base[opt]):+.2f} |"
        )
    return lines


def job_record(job):
    return {
        "system": job.system.name,
        "optimizer": job.optimizer,
        "warmup_s": job.warmup,
        "epoch_s": job.times,
        "median_s": job.median,
        "test_accuracy": job.accuracy,
    }
