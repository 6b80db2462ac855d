"""barenet.serve through FastAPI's test client: every route, real MNIST digits, every bad input.

The real-data tests serve a small network trained on MNIST in a module fixture (a few seconds);
the others use an untrained network built in memory, which is all that checking the input
needs. After each bad request a good one must still succeed: the server keeps serving.
"""

import asyncio
import io
import json
import re
import signal
import subprocess
import sys
import threading
import urllib.request
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

import barenet.cli.serve
from barenet import (
    NeuralNetwork,
    load_and_preprocess_mnist,
    load_image,
    preprocess_digit,
    preprocess_image,
)
from barenet.cli.main import main
from barenet.serve import create_app
from barenet.serve.app import STATIC, Predictor
from barenet.serve.inputs import MAX_BODY_BYTES, InputError, check_content_length, parse_pixels

with warnings.catch_warnings():  # Starlette would like httpx2 for its test client; httpx works
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

N_DIGITS = 40  # MNIST test digits sent as PNG in the real-data tests


# -- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist():
    """``(X_test, y_test)``: float32 images (n, 784) in [0, 1] and labels."""
    *_, X_test, _, _, y_test = load_and_preprocess_mnist()
    return X_test, y_test


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, mnist):
    """A small network trained on 20,000 MNIST images (~96%), saved as the CLI saves one."""
    X_train, _, _, y_train, _, _ = load_and_preprocess_mnist()
    net = NeuralNetwork(784, [64], 10, optimizer="adam", learning_rate=0.003, seed=0)
    net.train(X_train[:20000], y_train[:20000], epochs=2, batch_size=64, verbose=False)
    net.training_info.test_accuracy = net.calculate_accuracy(*mnist)
    path = tmp_path_factory.mktemp("serve") / "digits.npz"
    net.save_model(path)
    return path, net


@pytest.fixture(scope="module")
def client(model_file):
    """A test client of the app serving the trained model, loaded from its file."""
    with TestClient(create_app(model_file[0]), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def bare_client():
    """A test client of an untrained network built in memory (no MNIST needed)."""
    net = NeuralNetwork(784, [16], 10, seed=0)
    with TestClient(create_app(net), raise_server_exceptions=False) as test_client:
        yield test_client


def png_bytes(pixels, fmt="PNG"):
    """A 2-D uint8 array as the bytes of an image file."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, fmt)
    return buffer.getvalue()


def mnist_png(X, i):
    """MNIST test image ``i`` (a float row in [0, 1]) as the bytes of a PNG file."""
    return png_bytes(np.round(X[i].reshape(28, 28) * 255).astype(np.uint8))


def drawn_one():
    """A dark stroke on white paper, like a photographed '1': an image with a digit in it."""
    image = Image.new("L", (120, 160), 255)
    ImageDraw.Draw(image).line([(60, 20), (60, 140)], fill=0, width=12)
    return png_bytes(np.asarray(image))


def post_png(client, data):
    return client.post("/predict", content=data, headers={"Content-Type": "image/png"})


def assert_good_prediction(answer, n_classes=10):
    """The shape of a prediction: probabilities that sum to 1, the best class named, 28x28."""
    probabilities = np.array(answer["probabilities"])
    assert probabilities.shape == (n_classes,) and np.all(probabilities >= 0)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert answer["class_index"] == int(np.argmax(probabilities))
    assert answer["probability"] == pytest.approx(probabilities.max())
    assert answer["class_name"] == answer["class_names"][answer["class_index"]]
    image = np.array(answer["image"])
    assert image.shape == (28, 28) and image.min() >= 0 and image.max() <= 1


# -- the routes ----------------------------------------------------------------------------------


def test_health_answers_ok_when_the_model_is_loaded(bare_client):
    answer = bare_client.get("/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "model": None, "classes": 10}


@pytest.mark.mnist
def test_health_names_the_model_file(client):
    assert client.get("/health").json()["model"] == "digits.npz"


@pytest.mark.mnist
def test_model_card_says_what_the_model_is_and_how_it_was_trained(client, model_file):
    card = client.get("/model").json()
    net = model_file[1]
    assert card["file"] == "digits.npz"
    assert card["parameters"] == net.n_parameters == 784 * 64 + 64 + 64 * 10 + 10
    assert card["test_accuracy"] == pytest.approx(net.training_info.test_accuracy)
    assert 0.9 < card["test_accuracy"] < 1
    assert card["class_names"] == [str(d) for d in range(10)]
    assert card["image_shape"] == [28, 28]
    assert card["summary"] == "784 → 64 → 10 fully connected, relu"
    architecture = card["architecture"]
    assert architecture["layer_sizes"] == [784, 64, 10]
    assert architecture["layers"] == ["dense 784 → 64", "relu", "dense 64 → 10", "softmax"]
    assert architecture["batch_norm"] is False and architecture["dropout"] == 0
    training = card["training"]
    assert training["optimizer"] == "adam" and training["learning_rate"] == 0.003
    assert training["optimizer_settings"]["beta1"] == 0.9
    assert (training["epochs"], training["batch_size"], training["n_train"]) == (2, 64, 20000)
    assert training["schedule"] == "constant" and training["augment"] is None
    assert training["recorded"]["test_accuracy"] == card["test_accuracy"]


def test_model_card_of_an_untrained_network_in_memory(bare_client):
    card = bare_client.get("/model").json()
    assert card["file"] is None and card["test_accuracy"] is None
    assert card["training"]["epochs"] is None and card["training"]["validation_accuracy"] is None
    assert card["architecture"]["layer_sizes"] == [784, 16, 10]


def test_model_card_describes_regularisation_and_schedules():
    net = NeuralNetwork(784, [32], 10, dropout=0.25, batch_norm=True, optimizer="nesterov")
    net.training_info.schedule = {"name": "warmup", "warmup": 1, "then": {"name": "cosine"}}
    card = TestClient(create_app(net)).get("/model").json()
    assert card["architecture"]["layers"] == [
        "dense 784 → 32",
        "batch norm (32)",
        "relu",
        "dropout 0.25",
        "dense 32 → 10",
        "softmax",
    ]
    assert card["training"]["schedule"] == "warmup (warmup=1, then=cosine)"
    assert card["training"]["optimizer_settings"]["momentum"] == 0.9


def test_the_page_and_its_files_are_served_and_load_nothing_from_elsewhere(bare_client):
    page = bare_client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for element in ['id="canvas"', 'id="prediction"', 'id="probabilities"', 'id="clear"']:
        assert element in page.text
    assert 'id="upload"' in page.text and 'accept="image/*"' in page.text
    assert 'id="model-card"' in page.text
    for name, kind in [("app.js", "javascript"), ("style.css", "text/css")]:
        answer = bare_client.get(f"/static/{name}")
        assert answer.status_code == 200 and kind in answer.headers["content-type"]
    # Offline: nothing the page loads names another host.
    for path in STATIC.iterdir():
        text = path.read_text()
        assert not re.search(r"https?://|//cdn|@import|url\(\s*['\"]?//", text), path.name
    assert "touch-action: none" in (STATIC / "style.css").read_text()


def test_docs_pages_are_off_and_the_openapi_description_is_served(bare_client):
    assert bare_client.get("/docs").status_code == 404  # Swagger UI would come from a CDN
    schema = bare_client.get("/openapi.json").json()
    assert {"/", "/predict", "/explain", "/model", "/health"} <= set(schema["paths"])
    body = schema["paths"]["/predict"]["post"]["requestBody"]
    assert set(body["content"]) == {
        "image/png",
        "image/jpeg",
        "multipart/form-data",
        "application/json",
    }
    pixels = body["content"]["application/json"]["schema"]["oneOf"][1]
    assert pixels["minItems"] == pixels["maxItems"] == 784
    responses = schema["paths"]["/predict"]["post"]["responses"]
    assert {"200", "400", "413", "415", "422"} <= set(responses)
    explain = schema["paths"]["/explain"]["post"]
    assert explain["requestBody"] == schema["paths"]["/predict"]["post"]["requestBody"]
    assert {"200", "400", "413", "415", "422"} <= set(explain["responses"])
    answer = explain["responses"]["200"]["content"]["application/json"]["schema"]["anyOf"]
    assert [form["$ref"].split("/")[-1] for form in answer] == [
        "Explanation",
        "CompactExplanation",
    ]
    assert [(p["name"], p["in"]) for p in explain["parameters"]] == [("compact", "query")]
    # Both routes say whether the input looks like a digit at all, and why not.
    for name in ["Prediction", "Explanation", "CompactExplanation"]:
        fields = schema["components"]["schemas"][name]["properties"]
        assert {"unsure", "not_a_digit", "not_a_digit_reasons"} <= set(fields)


def test_a_missing_route_is_a_404(bare_client):
    assert bare_client.get("/nothing").status_code == 404
    assert bare_client.get("/predict").status_code == 405


# -- predictions on real MNIST digits --------------------------------------------------------


@pytest.mark.mnist
def test_png_digits_are_read_as_barenet_predict_reads_them(client, model_file, mnist):
    X, y = mnist
    net = model_file[1]
    correct = 0
    for i in range(N_DIGITS):
        data = mnist_png(X, i)
        answer = post_png(client, data)
        assert answer.status_code == 200, answer.text
        answer = answer.json()
        assert_good_prediction(answer)
        # One preprocessing for both: the CLI's preprocess_image on the same bytes.
        expected = net.predict_proba(preprocess_image(io.BytesIO(data))[np.newaxis])[0]
        np.testing.assert_allclose(answer["probabilities"], expected, atol=1e-6)
        correct += answer["class_index"] == y[i]
    assert correct >= 0.9 * N_DIGITS


@pytest.mark.mnist
def test_uploaded_files_and_raw_images_give_the_same_answer(client, mnist):
    X, y = mnist
    for i in range(5):
        data = mnist_png(X, i)
        upload = client.post("/predict", files={"file": (f"digit{i}.png", data, "image/png")})
        assert upload.status_code == 200, upload.text
        assert upload.json() == post_png(client, data).json()


@pytest.mark.mnist
def test_jpeg_photo_of_a_digit(client, mnist):
    X, y = mnist
    pixels = np.round(X[0].reshape(28, 28) * 255).astype(np.uint8)
    # A bigger, dark-on-light JPEG, as a photo of a digit on paper would be.
    photo = np.asarray(Image.fromarray(255 - pixels).resize((112, 112), Image.Resampling.BICUBIC))
    answer = client.post(
        "/predict", content=png_bytes(photo, "JPEG"), headers={"Content-Type": "image/jpeg"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["class_index"] == y[0]


@pytest.mark.mnist
def test_json_pixels_are_the_network_input_as_they_are(client, model_file, mnist):
    X, y = mnist
    net = model_file[1]
    for i, body in enumerate([{"pixels": X[0].tolist()}, X[1].tolist()]):
        answer = client.post("/predict", json=body)
        assert answer.status_code == 200, answer.text
        answer = answer.json()
        assert_good_prediction(answer)
        np.testing.assert_allclose(answer["probabilities"], net.predict_proba(X[i : i + 1])[0])
        np.testing.assert_allclose(np.ravel(answer["image"]), X[i], atol=1e-4)  # not reprocessed
        assert answer["class_index"] == y[i]


@pytest.mark.mnist
def test_json_predictions_agree_with_the_network_on_many_digits(client, model_file, mnist):
    X, y = mnist
    predicted = [
        client.post("/predict", json=X[i].tolist()).json()["class_index"] for i in range(200)
    ]
    np.testing.assert_array_equal(predicted, model_file[1].predict(X[:200]))
    assert np.mean(np.array(predicted) == y[:200]) > 0.9


# -- bad input: a 4xx with a message naming the problem, and the server keeps serving ------------

NOT_FINITE = b"[" + b",".join([b"0"] * 10 + [b"NaN"] + [b"0"] * 773) + b"]"
INFINITE = b'{"pixels": [' + b",".join([b"-Infinity"] + [b"0"] * 783) + b"]}"
BAD_INPUTS = {
    "not an image": (
        dict(content=b"hello, I am text", headers={"Content-Type": "image/png"}),
        422,
        ["not an image"],
    ),
    "truncated image": (
        dict(
            content=png_bytes(np.eye(64, dtype=np.uint8) * 255)[:60],
            headers={"Content-Type": "image/png"},
        ),
        422,
        ["corrupt", "truncated"],
    ),
    "uploaded text file": (
        dict(files={"file": ("notes.png", b"not a picture", "image/png")}),
        422,
        ["notes.png", "not an image"],
    ),
    "783 values": (dict(json=[0.0] * 783), 422, ["expected 784 pixel values, got 783"]),
    "785 values": (dict(json={"pixels": [0.0] * 785}), 422, ["expected 784", "got 785"]),
    "NaN": (
        dict(content=NOT_FINITE, headers={"Content-Type": "application/json"}),
        422,
        ["pixel 10", "NaN", "finite"],
    ),
    "Infinity": (
        dict(content=INFINITE, headers={"Content-Type": "application/json"}),
        422,
        ["pixel 0", "-Infinity"],
    ),
    "value above 1": (dict(json=[0] * 5 + [255] + [0] * 778), 422, ["pixel 5 is 255", "[0, 1]"]),
    "negative value": (dict(json=[-0.5] + [0] * 783), 422, ["pixel 0 is -0.5"]),
    "string value": (dict(json=["0.5"] + [0] * 783), 422, ["pixel 0 is a string"]),
    "boolean value": (dict(json=[True] + [0] * 783), 422, ["pixel 0 is a boolean"]),
    "nested list": (dict(json=[[0] * 28] * 28), 422, ["expected 784 pixel values, got 28"]),
    "no pixels key": (dict(json={"image": [0] * 784}), 422, ['no "pixels" key']),
    "extra key": (dict(json={"pixels": [0] * 784, "x": 1}), 422, ["unexpected keys ['x']"]),
    "JSON number": (dict(json=3), 422, ["JSON array", "got a number"]),
    "invalid JSON": (
        dict(content=b'{"pixels": [0, 1', headers={"Content-Type": "application/json"}),
        400,
        ["invalid JSON"],
    ),
    "deeply nested JSON": (
        dict(content=b"[" * 100_000, headers={"Content-Type": "application/json"}),
        400,
        ["invalid JSON"],
    ),
    "empty body": (dict(content=b"", headers={"Content-Type": "image/png"}), 400, ["empty"]),
    "text/plain": (
        dict(content=b"7", headers={"Content-Type": "text/plain"}),
        415,
        ["unsupported media type", "text/plain"],
    ),
    "no content type": (dict(content=b"7"), 415, ["no Content-Type header"]),
    "octet-stream": (
        dict(content=drawn_one(), headers={"Content-Type": "application/octet-stream"}),
        415,
        ["application/octet-stream"],
    ),
    "over 2 MB": (
        dict(content=b"\0" * (MAX_BODY_BYTES + 1), headers={"Content-Type": "image/png"}),
        413,
        ["too large", "2 MB"],
    ),
    "over 2 MB upload": (
        dict(files={"file": ("big.png", b"\0" * MAX_BODY_BYTES, "image/png")}),
        413,
        ["too large"],
    ),
    "4097 pixels wide": (
        dict(
            content=png_bytes(np.zeros((2, 4097), np.uint8)), headers={"Content-Type": "image/png"}
        ),
        422,
        ["4097x2 pixels is too large", "4096x4096"],
    ),
    "blank image": (
        dict(
            content=png_bytes(np.full((50, 50), 200, np.uint8)),
            headers={"Content-Type": "image/png"},
        ),
        422,
        ["no digit", "blank"],
    ),
    "form without file": (
        dict(files={"image": ("one.png", drawn_one(), "image/png")}),
        422,
        ["no field 'file'"],
    ),
    "form field as text": (
        dict(data={"file": "a digit"}, files={"other": ("x", b"x")}),
        422,
        ["'file' must be a file upload"],
    ),
    "empty upload": (
        dict(files={"file": ("empty.png", b"", "image/png")}),
        422,
        ["empty.png", "empty"],
    ),
    "broken multipart": (
        dict(content=b"garbage", headers={"Content-Type": "multipart/form-data; boundary=xyz"}),
        400,
        ["malformed multipart form"],
    ),
    "multipart without boundary": (
        dict(content=b"garbage", headers={"Content-Type": "multipart/form-data"}),
        400,
        ["boundary"],
    ),
    "bad Content-Length": (
        dict(content=b"7", headers={"Content-Type": "image/png", "Content-Length": "seven"}),
        400,
        ["Content-Length", "seven"],
    ),
}


@pytest.mark.parametrize("route", ["/predict", "/explain"])
@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_is_a_4xx_naming_the_problem_and_the_server_keeps_serving(
    bare_client, name, route
):
    request, status, words = BAD_INPUTS[name]
    answer = bare_client.post(route, **request)
    assert answer.status_code == status, answer.text
    detail = answer.json()["detail"]
    for word in words:
        assert word in detail
    good = post_png(bare_client, drawn_one())
    assert good.status_code == 200, good.text
    assert_good_prediction(good.json())


@pytest.mark.parametrize(
    "side, words",
    [(10000, ["10000x10000 pixels is too large"]), (20000, ["decompression bomb"])],
)
def test_a_decompression_bomb_is_refused_before_decoding(bare_client, side, words):
    # A PNG of zeros 10000 pixels square is a few hundred kB; decoded it would be 100 MB. Above
    # ~180 Mpixel Pillow itself refuses to open it; below, our own size check does.
    bomb = io.BytesIO()
    Image.new("1", (side, side)).save(bomb, "PNG")
    assert len(bomb.getvalue()) < MAX_BODY_BYTES
    answer = post_png(bare_client, bomb.getvalue())
    assert answer.status_code == 422
    for word in words:
        assert word in answer.json()["detail"]
    assert post_png(bare_client, drawn_one()).status_code == 200


def test_a_body_streamed_without_content_length_is_cut_at_the_limit(bare_client):
    sent = []

    def chunks():  # 64 kB at a time, 4 MB in all, with no Content-Length (chunked)
        for _ in range(64):
            sent.append(1)
            yield b"\0" * 65536

    answer = bare_client.post("/predict", content=chunks(), headers={"Content-Type": "image/png"})
    assert answer.status_code == 413 and "too large" in answer.json()["detail"]


def test_an_announced_oversized_body_is_refused_without_reading_it(bare_client):
    """Content-Length over the limit: 413 before a single byte of the body is received."""
    app = bare_client.app
    received, sent = [], []

    async def receive():
        received.append(1)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    headers = [(b"content-type", b"image/png"), (b"content-length", str(10**9).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/predict",
        "raw_path": b"/predict",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413
    assert received == []
    assert b"1000000000 bytes" in b"".join(m.get("body", b"") for m in sent)


def test_the_body_limit_can_be_set():
    app = create_app(NeuralNetwork(784, [8], 10, seed=0), max_body_bytes=1000)
    client = TestClient(app)
    answer = client.post("/predict", content=b"\0" * 1001, headers={"Content-Type": "image/png"})
    assert answer.status_code == 413 and "1000 bytes" in answer.json()["detail"]
    assert post_png(client, drawn_one()).status_code == 200  # 300-odd bytes


def test_check_content_length_and_parse_pixels_directly():
    check_content_length(None)
    check_content_length(str(MAX_BODY_BYTES))
    with pytest.raises(InputError) as error:
        check_content_length(str(MAX_BODY_BYTES + 1))
    assert error.value.status == 413
    pixels = parse_pixels(json.dumps([0, 1, 0.5]).encode(), 3)
    assert pixels.dtype == np.float32 and pixels.tolist() == [0, 1, 0.5]
    with pytest.raises(InputError, match=r"pixel 1 is 123456789012…, outside"):
        parse_pixels(b"[0, " + b"1234567890123456789012345" + b", 0]", 3)


# -- other networks ------------------------------------------------------------------------------


def test_class_names_and_image_shape_of_the_network_are_used():
    net = NeuralNetwork(196, [8], 3, seed=0)
    net.class_names = ["cat", "dog", "bird"]  # set after construction: works with either API
    net.image_shape = (14, 14)
    client = TestClient(create_app(net))
    for answer in [client.post("/predict", json=[0.5] * 196), post_png(client, drawn_one())]:
        assert answer.status_code == 200, answer.text
        answer = answer.json()
        assert answer["class_names"] == ["cat", "dog", "bird"]
        assert answer["class_name"] == answer["class_names"][answer["class_index"]]
        assert np.array(answer["image"]).shape == (14, 14)
    card = client.get("/model").json()
    assert card["class_names"] == ["cat", "dog", "bird"] and card["image_shape"] == [14, 14]
    assert client.get("/health").json()["classes"] == 3


def test_images_are_prepared_for_the_network_s_image_shape():
    """A 16x8 network gets the digit fitted the way preprocess_digit fits it for that shape."""
    net = NeuralNetwork(128, [8], 10, seed=0)
    net.image_shape = (16, 8)
    answer = post_png(TestClient(create_app(net)), drawn_one())
    assert answer.status_code == 200, answer.text
    expected = preprocess_digit(load_image(io.BytesIO(drawn_one())), shape=(16, 8))
    np.testing.assert_allclose(np.ravel(answer.json()["image"]), expected, atol=1e-4)


def test_a_convolutional_network_answers_as_the_network_itself_does():
    """A CNN on (28, 28, 1) images: the same preprocessing, the same probabilities."""
    from barenet.nn import Dense, parse_layers

    names = [f"digit {k}" for k in range(10)]
    layers = [*parse_layers("conv4x3 relu pool2 conv6x3s2 relu flatten dense16 relu"), Dense(10)]
    net = NeuralNetwork.from_layers(layers, input_shape=(28, 28, 1), class_names=names, seed=0)
    client = TestClient(create_app(net))
    data = drawn_one()
    answer = post_png(client, data)
    assert answer.status_code == 200, answer.text
    answer = answer.json()
    assert_good_prediction(answer)
    x = preprocess_image(io.BytesIO(data))
    np.testing.assert_allclose(answer["probabilities"], net.predict_proba(x[np.newaxis])[0])
    np.testing.assert_allclose(np.ravel(answer["image"]), x, atol=1e-4)
    assert answer["class_names"] == names
    pixels = np.random.default_rng(0).random(784).astype(np.float32)
    answer = client.post("/predict", json={"pixels": pixels.tolist()})
    assert answer.status_code == 200, answer.text
    np.testing.assert_allclose(
        answer.json()["probabilities"], net.predict_proba(pixels[np.newaxis])[0], rtol=1e-5
    )
    card = client.get("/model").json()
    assert card["image_shape"] == [28, 28] and card["parameters"] == net.n_parameters
    assert card["summary"] == (
        "28×28×1 → conv4x3 relu pool2 conv6x3s2 relu flatten dense16 relu dense10"
    )
    assert card["architecture"]["layers"] == [
        "conv4x3 → 26×26×4",
        "relu → 26×26×4",
        "pool2 → 13×13×4",
        "conv6x3s2 → 6×6×6",
        "relu → 6×6×6",
        "flatten → 216",
        "dense 216 → 16",
        "relu",
        "dense 16 → 10",
        "softmax",
    ]


def test_a_network_that_reads_no_images_refuses_them_and_takes_pixels():
    client = TestClient(create_app(NeuralNetwork(5, [4], 2, seed=0)))
    answer = post_png(client, drawn_one())
    assert answer.status_code == 422 and "reads 5 values, not images" in answer.text
    answer = client.post("/predict", json=[0.1, 0.2, 0.3, 0.4, 0.5])
    assert answer.status_code == 200 and answer.json()["image"] == [[0.1, 0.2, 0.3, 0.4, 0.5]]


def test_concurrent_predictions_do_not_mix_up_their_inputs():
    """The layers reuse work buffers, so the predictor must run one forward pass at a time.

    Threads switching every microsecond, on a network big enough for its matrix products to
    release the GIL, mix up inputs within a few hundred predictions when nothing stops them.
    """
    old_interval = sys.getswitchinterval()
    net = NeuralNetwork(784, [512, 512], 10, seed=0)
    predictor = Predictor(net)
    X = np.random.default_rng(0).random((16, 784), dtype=np.float32)
    expected = net.predict_proba(X)
    errors = []

    def worker(rows):
        for _ in range(50):
            for i in rows:
                if not np.allclose(predictor.predict(X[i])["probabilities"], expected[i]):
                    errors.append(i)

    threads = [threading.Thread(target=worker, args=([i, i + 8],)) for i in range(8)]
    sys.setswitchinterval(1e-6)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(old_interval)
    assert errors == []


# -- the command ---------------------------------------------------------------------------------


def test_serve_defaults_to_the_model_barenet_train_writes():
    from barenet.cli.main import build_parser
    from barenet.cli.parsing import TRAIN_DEFAULTS

    args = build_parser().parse_args(["serve"])
    assert (args.model, args.host, args.port) == (TRAIN_DEFAULTS["output"], "127.0.0.1", 8000)
    assert args.run is barenet.cli.serve.serve_command


def test_serve_a_missing_model_is_a_one_line_error(tmp_path, capsys):
    missing = tmp_path / "none.npz"
    assert main(["serve", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err and str(missing) in err


def test_serve_a_bad_port_is_a_usage_error(capsys):
    assert main(["serve", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err


def test_serve_without_the_web_packages_says_what_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn fails
    assert main(["serve", str(tmp_path / "model.npz")]) == 2
    err = capsys.readouterr().err
    assert "pip install 'barenet[serve]'" in err and "uvicorn" in err


def test_serve_refuses_an_address_it_cannot_listen_on(tmp_path, capsys):
    path = tmp_path / "m.npz"
    NeuralNetwork(784, [8], 10, seed=0).save_model(path)
    assert main(["serve", str(path), "--host", "203.0.113.1", "--port", "0"]) == 2
    assert "cannot listen on 203.0.113.1:0" in capsys.readouterr().err


def test_static_folder_is_inside_the_package():
    assert STATIC == Path(barenet.serve.__file__).parent / "static"
    assert {p.name for p in STATIC.iterdir()} >= {"index.html", "app.js", "style.css"}


def test_serve_prints_its_address_serves_and_stops_on_ctrl_c(tmp_path):
    """``barenet serve --port 0`` as a user runs it: the printed address answers at once."""
    path = tmp_path / "m.npz"
    NeuralNetwork(784, [8], 10, seed=0).save_model(path)
    process = subprocess.Popen(
        [sys.executable, "-m", "barenet", "serve", str(path), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl+C as in a terminal, even when the tests run where SIGINT is ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        line = process.stdout.readline()
        found = re.fullmatch(
            rf"serving {re.escape(str(path))} at (http://127\.0\.0\.1:\d+) \(Ctrl\+C to stop\)\n",
            line,
        )
        assert found, line
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(found.group(1) + "/health", timeout=30) as answer:
            assert json.load(answer)["status"] == "ok"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        assert process.returncode == 130 and err == "barenet: interrupted\n"
    finally:
        process.kill()
        process.wait()


def test_the_api_answers_a_table_model_in_the_users_units_as_predict_proba_does():
    """A network trained on standardised columns: the page's answer applies the same
    standardisation that predict_proba applies (it once ran the raw row through forward)."""
    from barenet import NeuralNetwork, Standardization
    from barenet.serve.app import Predictor

    rng = np.random.default_rng(0)
    X = rng.normal(1000, 200, (60, 4)).astype(np.float32)  # columns in the thousands
    y = (X[:, 0] > 1000).astype(int)
    net = NeuralNetwork(4, [8], 2, 0.1, seed=0, image_shape=False)
    net.input_scaling = Standardization(X.mean(axis=0), X.std(axis=0))
    net.train(X, y, epochs=5, verbose=False)
    answer = Predictor(net).predict(X[0])
    np.testing.assert_allclose(answer["probabilities"], net.predict_proba(X[:1])[0], rtol=1e-5)
