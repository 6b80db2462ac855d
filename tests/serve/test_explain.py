"""``POST /explain``: the answer and what happens inside the network, for an MLP and a CNN;
and the faults mended on the server side (16-bit PNGs, messages in our own words, clients that
leave mid-upload, the form parser's chatter, the model card in words, the page without
JavaScript)."""

import asyncio
import base64
import io
import re
import socket
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from PIL import Image, ImageDraw

from barenet import NeuralNetwork, preprocess_image
from barenet.nn import parse_layers
from barenet.serve import create_app
from barenet.serve.app import PAGE_POLICY
from barenet.serve.explain import UNSURE_BELOW, layer_titles, look_inside, saliency
from barenet.serve.page import STATIC
from barenet.serve.schemas import CompactExplanation, Explanation

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


def drawing(width=20, size=280):
    """A '7' drawn in white on the black canvas, as the page sends it (PNG bytes)."""
    image = Image.new("L", (size, size), 0)
    pen = ImageDraw.Draw(image)
    pen.line([(60, 50), (220, 50), (130, 240)], fill=255, width=width, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def mlp():
    return NeuralNetwork(784, [32, 16], 10, seed=0, dtype="float64")


def cnn():
    layers = parse_layers("conv8x3 relu pool2 flatten dense10")
    return NeuralNetwork.from_layers(layers, input_shape=(28, 28, 1), seed=0, dtype="float64")


MLP_LAYERS = [("dense", [32]), ("relu", [32]), ("dense", [16]), ("relu", [16]), ("dense", [10])]
CNN_LAYERS = [
    ("conv2d", [26, 26, 8]),
    ("relu", [26, 26, 8]),
    ("max_pool2d", [13, 13, 8]),
    ("flatten", [1352]),
    ("dense", [10]),
]
NETWORKS = {"mlp": (mlp, MLP_LAYERS), "cnn": (cnn, CNN_LAYERS)}


# The layers of `barenet train --model cnn`, with its output layer.
PRESET_CNN = "conv32x3 relu pool2 conv64x3 relu pool2 flatten dense128 relu dropout0.3 dense10"


def preset_cnn():
    """The network of ``barenet train --model cnn`` (untrained: sizes and times are the same)."""
    layers = parse_layers(PRESET_CNN)
    return NeuralNetwork.from_layers(layers, input_shape=(28, 28, 1), seed=0)


def post(client, route, data):
    return client.post(route, content=data, headers={"Content-Type": "image/png"})


def unpacked(packed):
    """The values of a compact array, as float64 of its shape."""
    raw = np.frombuffer(base64.b64decode(packed["data"]), np.int8 if packed["signed"] else np.uint8)
    top = 127 if packed["signed"] else 255
    return (raw.astype(np.float64) / top * packed["scale"]).reshape(packed["shape"])


@pytest.fixture(scope="module", params=list(NETWORKS))
def served(request):
    """``(name, network, test client)`` for an MLP and a CNN."""
    build, _ = NETWORKS[request.param]
    net = build()
    with TestClient(create_app(net), raise_server_exceptions=False) as client:
        yield request.param, net, client


def test_explain_shows_every_layer_and_agrees_with_predict(served):
    name, net, client = served
    answer = post(client, "/explain", drawing())
    assert answer.status_code == 200, answer.text
    answer = answer.json()
    Explanation.model_validate(answer)  # what the OpenAPI description promises
    x = preprocess_image(drawing())
    # Consistent with /predict and with the network itself.
    predicted = post(client, "/predict", drawing()).json()
    np.testing.assert_allclose(answer["probabilities"], predicted["probabilities"], atol=1e-9)
    assert answer["class_index"] == predicted["class_index"] == int(net.predict(x[None])[0])
    assert answer["class_name"] == predicted["class_name"]
    np.testing.assert_allclose(answer["input"], predicted["image"])
    np.testing.assert_allclose(np.ravel(answer["input"]), x, atol=1e-4)
    # Every layer in order, its per-sample shape, its values flat: those of net.activations.
    expected = NETWORKS[name][1]
    assert [(layer["kind"], layer["shape"]) for layer in answer["layers"]] == expected
    activations = net.activations(x[None])
    assert [layer["name"] for layer in answer["layers"]] == list(activations)
    assert [layer["title"] for layer in answer["layers"]] == layer_titles(net)
    for layer, values in zip(answer["layers"], activations.values(), strict=True):
        assert len(layer["values"]) == np.prod(layer["shape"])
        np.testing.assert_allclose(layer["values"], values.reshape(-1), atol=1e-4)
    np.testing.assert_allclose(answer["logits"], answer["layers"][-1]["values"])
    assert np.array(answer["saliency"]).shape == (28, 28)
    # The stages of the picture: the drawing (shrunk to 56), the crop, the box, the centring.
    steps = answer["steps"]
    assert [step["name"] for step in steps] == [
        "the picture",
        "cropped to the digit",
        "fitted into 20×20",
        "centred by its centre of mass in 28×28",
        "what the network sees",
    ]
    assert np.array(steps[0]["image"]).shape == (56, 56)
    assert np.array(steps[2]["image"]).shape[0] == 20 or np.array(steps[2]["image"]).shape[1] == 20
    assert steps[-1]["image"] == steps[-2]["image"] == answer["input"]


def test_saliency_is_the_gradient_of_the_top_class_s_score(served):
    """Checked against finite differences of the logit (float64), on random pixel values: a
    drawing's saturated ink ties in max pooling, where the score has no derivative."""
    _, net, client = served
    pixels = np.random.default_rng(1).random(784).astype(np.float32)
    answer = client.post("/explain", json=pixels.tolist()).json()
    x = pixels.astype(np.float64)  # the server reads the JSON numbers as float32
    k = answer["class_index"]
    gradient = np.ravel(answer["saliency"])
    h = 1e-6
    for pixel in [14 * 28 + 14, 10 * 28 + 12, 20 * 28 + 15, 7 * 28 + 20, 3 * 28 + 3]:
        up, down = x.copy(), x.copy()
        up[pixel] += h
        down[pixel] -= h
        numeric = (net.forward(up[None])[0, k] - net.forward(down[None])[0, k]) / (2 * h)
        assert gradient[pixel] == pytest.approx(numeric, abs=1e-4)
    assert np.abs(gradient).max() > 1e-3  # not all zero
    # Not the gradient of the loss, which input_gradient gives: that one points the other way
    # and is scaled by 1 - p.
    loss_gradient = net.input_gradient(x[None], np.array([k]))[0]
    assert not np.allclose(gradient, loss_gradient, atol=1e-3)


def test_the_compact_answer_holds_the_same_values_as_bytes(served):
    """``?compact=true``: every picture and layer output as one byte a value, on its own scale;
    decoded, within half a step of that scale of the numbers of the full answer."""
    name, net, client = served
    full = post(client, "/explain", drawing()).json()
    compact = post(client, "/explain?compact=true", drawing())
    assert compact.status_code == 200, compact.text
    compact = compact.json()
    CompactExplanation.model_validate(compact)
    for key in ["class_index", "probabilities", "unsure", "not_a_digit", "logits", "notes"]:
        assert compact[key] == full[key]
    np.testing.assert_allclose(unpacked(compact["input"]), full["input"], atol=0.5 / 255 + 1e-4)
    for step, full_step in zip(compact["steps"], full["steps"], strict=True):
        assert step["name"] == full_step["name"]
        np.testing.assert_allclose(unpacked(step["image"]), full_step["image"], atol=0.003)
    for layer, full_layer in zip(compact["layers"], full["layers"], strict=True):
        assert {k: layer[k] for k in ("name", "title", "kind", "shape")} == {
            k: full_layer[k] for k in ("name", "title", "kind", "shape")
        }
        values = unpacked(layer["packed"])
        expected = np.reshape(full_layer["values"], layer["shape"])
        if len(layer["shape"]) == 3:  # feature maps map after map: (C, H, W)
            expected = np.moveaxis(expected, -1, 0)
        assert values.shape == expected.shape
        scale = layer["packed"]["scale"]
        assert scale == pytest.approx(np.abs(expected).max(), abs=1e-4)
        step = scale / (127 if layer["packed"]["signed"] else 255)
        np.testing.assert_allclose(values, expected, atol=step / 2 + 1e-4)
    saliency_step = compact["saliency"]["scale"] / 127
    np.testing.assert_allclose(
        unpacked(compact["saliency"]), full["saliency"], atol=saliency_step / 2 + 1e-4
    )


def test_with_the_preset_cnn_the_page_s_answer_is_a_quarter_of_the_old_one():
    """The CNN of ``--model cnn``: 288 feature maps. Its answer in numbers (the only form before)
    is over 400 kB; the compact form the page asks for is under 120 kB."""
    client = TestClient(create_app(preset_cnn()))
    full = post(client, "/explain", drawing())
    compact = post(client, "/explain?compact=true", drawing())
    assert len(full.content) > 300_000
    assert len(compact.content) < 120_000


def test_one_forward_and_one_backward_pass_give_activations_and_saliency(served):
    _, net, _ = served
    x = np.random.default_rng(2).random((1, 784))
    outputs, gradient = look_inside(net, x)
    activations = net.activations(x)
    assert list(outputs) == list(activations)
    for got, expected in zip(outputs.values(), activations.values(), strict=True):
        np.testing.assert_array_equal(got, expected)
    k = int(np.argmax(net.forward(x)[0]))
    np.testing.assert_allclose(gradient, net.score_gradient(x, k), rtol=1e-12, atol=1e-12)


def test_layers_are_named_in_words():
    assert layer_titles(preset_cnn()) == [
        "Convolution 1: 32 filters 3×3",
        "ReLU",
        "Max pooling 1: 2×2",
        "Convolution 2: 64 filters 3×3",
        "ReLU",
        "Max pooling 2: 2×2",
        "Flatten",
        "Dense 1: 128 units",
        "ReLU",
        "Dropout 1: 30% while training",
        "Dense 2: 10 units, one score per class",
    ]
    assert layer_titles(mlp())[-1] == "Dense 3: 10 units, one score per class"


@pytest.mark.parametrize("value", ["yes", "2", ""])
def test_compact_is_true_or_false(value):
    client = TestClient(create_app(mlp()))
    answer = post(client, f"/explain?compact={value}", drawing())
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("compact must be true or false")


def test_saliency_leaves_the_layers_as_they_were():
    net = cnn()
    flags = [layer.input_grad for layer in net.layers]
    assert not all(flags)  # the first layers skip dL/dX when training
    saliency(net, np.zeros((1, 784)), 3)
    assert [layer.input_grad for layer in net.layers] == flags


def test_explain_of_json_pixels_shows_them_as_they_are(served):
    _, net, client = served
    pixels = np.random.default_rng(0).random(784)
    answer = client.post("/explain", json={"pixels": pixels.tolist()})
    assert answer.status_code == 200, answer.text
    answer = answer.json()
    assert [step["name"] for step in answer["steps"]] == ["what the network sees"]
    np.testing.assert_allclose(np.ravel(answer["input"]), pixels, atol=1e-4)
    np.testing.assert_allclose(answer["probabilities"], net.predict_proba(pixels[None])[0])
    assert answer["notes"] == []


def test_a_scribble_gets_an_answer_marked_unsure():
    """The network always picks a class; with ten near-equal probabilities it says it is unsure."""
    net = NeuralNetwork(784, [8], 10, seed=0)
    net.params[...] = 0.0  # every class scores 0: probabilities 0.1 each
    answer = TestClient(create_app(net)).post("/explain", json=[0.5] * 784).json()
    assert answer["unsure"] is True and answer["probability"] < UNSURE_BELOW
    assert answer["probability"] == pytest.approx(0.1)


def test_explain_of_a_network_that_reads_no_images():
    client = TestClient(create_app(NeuralNetwork(5, [4], 3, seed=0)))
    answer = client.post("/explain", json=[0.1, 0.2, 0.3, 0.4, 0.5]).json()
    assert answer["input"] == [[0.1, 0.2, 0.3, 0.4, 0.5]]
    assert np.array(answer["saliency"]).shape == (1, 5)
    assert post(client, "/explain", drawing()).status_code == 422


def test_small_and_thin_drawings_are_noted():
    client = TestClient(create_app(mlp()))
    small = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(small).line([(130, 120), (150, 120), (138, 160)], fill=255, width=20)
    buffer = io.BytesIO()
    small.save(buffer, "PNG")
    notes = post(client, "/explain", buffer.getvalue()).json()["notes"]
    assert any(note.startswith("small drawing") and "draw it bigger" in note for note in notes)
    assert "strokes thickened" in post(client, "/explain", drawing(width=3)).json()["notes"]


def test_explain_is_fast_enough_to_follow_a_pen():
    """Median time of an answer through the test client (the page asks at most every 150 ms),
    with the CNN of ``--model cnn`` and the compact answer the page asks for."""
    client = TestClient(create_app(preset_cnn()))
    data = drawing()
    times = []
    for _ in range(15):
        start = time.perf_counter()
        assert post(client, "/explain?compact=true", data).status_code == 200
        times.append(time.perf_counter() - start)
    assert np.median(times) < 0.15


# -- mended faults: pictures and messages --------------------------------------------------------


def sixteen_bit(pixels):
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint16)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("route", ["/predict", "/explain"])
def test_a_16_bit_png_with_grey_ink_is_read(route):
    """Grey ink (25,000 of 65,535) on white paper: Pillow's 8-bit conversion made it blank."""
    pixels = np.full((200, 200), 65535)
    pixels[30:170, 95:105] = 25000
    client = TestClient(create_app(mlp()))
    answer = post(client, route, sixteen_bit(pixels))
    assert answer.status_code == 200, answer.text
    eight_bit = io.BytesIO()
    Image.fromarray(np.round(pixels / 257).astype(np.uint8)).save(eight_bit, "PNG")
    expected = post(client, route, eight_bit.getvalue()).json()
    np.testing.assert_allclose(answer.json()["probabilities"], expected["probabilities"], atol=1e-3)


BAD = {
    "text": (b"hello, I am text", "image/png", ["not an image file"]),
    "truncated": (drawing()[:80], "image/png", ["damaged or cut short"]),
    "huge integer": (
        b"[" + b"9" * 5000 + b"," + b",".join([b"0"] * 783) + b"]",
        "application/json",
        ["pixel 0 is a whole number of 5000 digits, outside [0, 1]"],
    ),
    "nested": (b"[" * 100_000, "application/json", ["nested too deeply"]),
}


@pytest.mark.parametrize("route", ["/predict", "/explain"])
@pytest.mark.parametrize("case", list(BAD))
def test_messages_are_in_our_own_words(route, case):
    body, kind, words = BAD[case]
    answer = TestClient(create_app(mlp())).post(route, content=body, headers={"Content-Type": kind})
    assert 400 <= answer.status_code < 500
    detail = answer.json()["detail"]
    for word in words:
        assert word in detail
    for foreign in ["Pillow", "cannot identify", "set_int_max_str_digits", "recursion", "DOS"]:
        assert foreign not in detail


def test_a_decompression_bomb_is_refused_by_our_own_rule():
    bomb = io.BytesIO()
    Image.new("1", (20000, 20000)).save(bomb, "PNG")  # 400 Mpixel: over Pillow's own limit
    answer = post(TestClient(create_app(mlp())), "/explain", bomb.getvalue())
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert "the largest image accepted is 4096x4096" in detail
    assert "DOS" not in detail and "could be" not in detail


# -- mended faults: clients that leave, the form parser -----------------------------------------


def test_a_client_leaving_mid_upload_is_not_an_error():
    """The ASGI app itself, as uvicorn runs it: the client disconnects after a first chunk."""
    app = create_app(mlp())
    messages = iter(
        [{"type": "http.request", "body": b"\x89PNG" + bytes(1000), "more_body": True}]
        + [{"type": "http.disconnect"}] * 3
    )
    sent = []

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/explain",
        "raw_path": b"/explain",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"image/png"), (b"content-length", b"100000")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))  # raises ClientDisconnect when unhandled
    assert sent[0]["status"] == 400


def test_the_server_log_stays_clean(tmp_path):
    """``barenet serve`` in a subprocess: clients that hang up mid-upload and broken forms leave
    nothing on stdout (but the address) or stderr: no traceback, no python-multipart chatter."""
    path = tmp_path / "m.npz"
    mlp().save_model(path)
    process = subprocess.Popen(
        [sys.executable, "-m", "barenet", "serve", str(path), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(re.search(r":(\d+) \(Ctrl", process.stdout.readline()).group(1))

        def send(head, body, hang_up=False):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
                connection.sendall(head + body)
                if hang_up:
                    time.sleep(0.2)
                    return b""
                return connection.recv(65536)

        for route in [b"/predict", b"/explain"]:
            head = b"POST " + route + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
            send(head + b"Content-Type: image/png\r\n\r\n", b"\x89PNG" + bytes(500), True)
            form = b"Content-Type: multipart/form-data; boundary=xyz\r\n\r\n"
            send(head + form, b'--xyz\r\nContent-Disposition: form-data; name="file"\r\n', True)
        for body in [b"garbage", b"--xyz\r\nbad header line\r\n\r\n1\r\n--xyz--\r\n"]:
            head = (
                b"POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: "
                b"multipart/form-data; boundary=xyz\r\nContent-Length: %d\r\n\r\n" % len(body)
            )
            assert b" 400 " in send(head, body).split(b"\r\n")[0]
        time.sleep(0.3)
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert out == "" and err == ""


# -- mended faults: the model card in words, the page without JavaScript ------------------------


def test_the_model_card_speaks_in_words_and_is_in_the_page():
    net = NeuralNetwork(784, [16], 10, optimizer="nesterov", learning_rate=0.05, seed=0)
    net.training_info.schedule = {"name": "cosine", "min_rate": 0.0}
    net.training_info.augment = {"name": "affine", "rotation": 10.0, "scale": 0.1, "shift": 2}
    client = TestClient(create_app(net))
    lines = {line["field"]: line["text"] for line in client.get("/model").json()["lines"]}
    assert lines["optimizer"] == "SGD with Nesterov momentum 0.9, learning rate 0.05"
    assert lines["schedule"] == "cosine (down to 0)"
    assert lines["augment"] == "affine (rotation ±10°, scale ±0.1, shift ±2 px)"
    assert lines["parameters"] == f"{net.n_parameters:,}"
    page = client.get("/")
    assert page.headers["content-security-policy"] == PAGE_POLICY
    html = page.text
    for field, text in lines.items():  # written by the server: true with JavaScript off
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert f'data-field="{field}">{escaped}</dd>' in html
    assert "loading" not in html.lower() and "nesterov true" not in html
    assert html.count('class="bar"') == 10 and "<!--" + "bars-->" not in html
    assert "<noscript>" in html


def test_the_page_is_accessible_and_fits_fingers():
    html = (STATIC / "index.html").read_text()
    for canvas in re.findall(r"<canvas[^>]*>", html, flags=re.S):
        assert 'role="img"' in canvas and "aria-label=" in canvas
    # The live region announces settled answers only: it is not the answer that changes while
    # drawing (#prediction), but a separate, hidden one that app.js sets when the pen is up.
    assert 'id="announce"' in html and re.search(r'id="announce"[^>]*aria-live="polite"', html)
    assert not re.search(r'id="prediction"[^>]*aria-live', html)
    css = (STATIC / "style.css").read_text()
    assert "min-height: 44px" in css
    assert re.search(r"button:focus-visible[^{]*\{[^}]*outline: 3px solid", css)
    hover_rules = [m.start() for m in re.finditer(r":hover", css)]
    media = css.index("@media (hover: hover)")
    end = css.index("\n}\n", media)
    assert hover_rules and all(media < at < end for at in hover_rules)  # no sticky hover
    assert "(orientation: landscape)" in css


def test_the_network_runs_on_one_blas_thread_and_leaves_the_setting_as_it_was():
    """One small input at a time: BLAS's threads would only wait for each other (on a busy
    machine, 40-240 ms instead of ~2 ms an answer with the CNN of --model cnn)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        return [
            i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"
        ]

    before = blas_threads()
    net = mlp()
    seen = []
    first = net.layers[0]  # every pass, /predict's and /explain's, goes through it
    forward = first.forward

    def watched(X, training=False):
        seen.append(blas_threads())
        return forward(X, training)

    first.forward = watched
    client = TestClient(create_app(net))
    for route in ["/predict", "/explain?compact=true"]:
        seen.clear()
        assert post(client, route, drawing()).status_code == 200
        assert seen and all(threads == [1] * len(before) for threads in seen)
    assert blas_threads() == before
