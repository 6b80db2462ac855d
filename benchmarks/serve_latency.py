"""Latency of ``POST /predict``: ``barenet serve`` in a subprocess, one client on 127.0.0.1.

Run from the repository root::

    python benchmarks/serve_latency.py                         # trains a quick model first
    python benchmarks/serve_latency.py --model barenet-model.npz --requests 1000
    python benchmarks/serve_latency.py --quick                 # smoke test: 50 requests a kind

The server is started as a user starts it (``python -m barenet serve MODEL --port 0``). One
client sends requests one after the other over one kept-alive connection, so each time is the
server's whole answer to one request: reading the body, decoding, preprocessing, the forward
pass, the JSON. Three kinds of request, in turn:

- ``png``: a 28x28 MNIST test digit as a PNG file (``Content-Type: image/png``), as a scan;
- ``canvas``: the same digit drawn 280x280, the size of the page's canvas, as the page sends it;
- ``json``: the 784 pixel values of the digit as ``{"pixels": [...]}`` (no preprocessing).

Each kind first gets 20 unmeasured warm-up requests. The run stops at ``--requests`` per kind
or after ``--time-limit`` seconds in all, whichever comes first; the table gives the number of
requests, the median and the 99th percentile in milliseconds, and that every answer was 200
with the right number of probabilities. MNIST is found by barenet's own lookup
(``BARENET_DATA``). This is a measurement, not a test: nothing here asserts on times.
"""

import argparse
import http.client
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from systems import cpu_model  # beside this file

from barenet import NeuralNetwork, load_and_preprocess_mnist

WARM_UP = 20


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="model file to serve (default: train a quick one)")
    parser.add_argument("--requests", type=int, default=500, help="measured requests per kind")
    parser.add_argument("--time-limit", type=float, default=120, help="seconds for the whole run")
    parser.add_argument("--quick", action="store_true", help="50 requests per kind")
    args = parser.parse_args()
    n_requests = 50 if args.quick else args.requests

    _, _, X_test, _, _, y_test = load_and_preprocess_mnist()
    with tempfile.TemporaryDirectory() as folder:
        model = args.model or quick_model(Path(folder) / "quick.npz")
        bodies = request_bodies(X_test[:n_requests])
        process, host, port = start_server(model)
        try:
            results = measure(host, port, bodies, n_requests, args.time_limit)
        finally:
            process.terminate()
            process.wait(timeout=10)
    print(f"POST /predict latency, one sequential client on 127.0.0.1; model {Path(model).name}")
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs, Python {sys.version.split()[0]}")
    print(f"{'kind':8} {'requests':>8} {'median ms':>10} {'p99 ms':>8} {'max ms':>8}  answers")
    for kind, (times, ok) in results.items():
        ms = np.array(times) * 1000
        median, p99 = np.percentile(ms, [50, 99])
        status = "all 200" if ok == len(times) else f"{len(times) - ok} failed"
        print(f"{kind:8} {len(ms):8d} {median:10.2f} {p99:8.2f} {ms.max():8.2f}  {status}")


def quick_model(path):
    """Train a 784-128-10 network for 3 epochs (~97%, seconds) and save it to ``path``."""
    X_train, _, X_test, y_train, _, y_test = load_and_preprocess_mnist()
    net = NeuralNetwork(784, [128], 10, optimizer="adam", learning_rate=0.003, seed=0)
    net.train(X_train, y_train, epochs=3, verbose=False)
    net.training_info.test_accuracy = net.calculate_accuracy(X_test, y_test)
    net.save_model(path)
    return str(path)


def request_bodies(X):
    """``{kind: [(content type, body bytes)]}`` for the digits ``X`` (n, 784) in [0, 1]."""
    bodies = {"png": [], "canvas": [], "json": []}
    for x in X:
        digit = np.round(x.reshape(28, 28) * 255).astype(np.uint8)
        canvas = Image.fromarray(digit).resize((280, 280), Image.Resampling.BILINEAR)
        bodies["png"].append(("image/png", _png(Image.fromarray(digit))))
        bodies["canvas"].append(("image/png", _png(canvas.convert("RGBA"))))
        bodies["json"].append(("application/json", json.dumps({"pixels": x.tolist()}).encode()))
    return bodies


def _png(image):
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def start_server(model):
    """``(process, host, port)`` of ``barenet serve MODEL --port 0``, once it has said where."""
    command = [sys.executable, "-m", "barenet", "serve", model, "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    found = re.search(r"http://([\d.]+):(\d+)", line)
    if not found:
        process.kill()
        sys.exit(f"barenet serve did not start: {line!r}")
    return process, found.group(1), int(found.group(2))


def measure(host, port, bodies, n_requests, time_limit):
    """``{kind: (seconds of each request, number answered 200 with 10 probabilities)}``."""
    connection = http.client.HTTPConnection(host, port, timeout=30)
    deadline = time.perf_counter() + time_limit
    results = {}
    for kind, requests in bodies.items():
        for content_type, body in requests[:WARM_UP]:
            _post(connection, content_type, body)
        times, ok = [], 0
        for i in range(n_requests):
            if time.perf_counter() > deadline:
                break
            content_type, body = requests[i % len(requests)]
            start = time.perf_counter()
            status, answer = _post(connection, content_type, body)
            times.append(time.perf_counter() - start)
            ok += status == 200 and len(json.loads(answer)["probabilities"]) == 10
        results[kind] = (times, ok)
    connection.close()
    return results


def _post(connection, content_type, body):
    """POST one body to /predict; ``(status, answer bytes)``."""
    connection.request("POST", "/predict", body=body, headers={"Content-Type": content_type})
    response = connection.getresponse()
    return response.status, response.read()


if __name__ == "__main__":
    main()
