"""The FastAPI app: the drawing page, ``POST /predict``, ``POST /explain``, ``GET /model`` and
``GET /health``.

One model per app. Images sent to ``/predict`` and ``/explain`` go through the very code
``barenet predict`` uses (:func:`barenet.data.images.load_image` then :func:`prepare`); the
checks on the request body live in :mod:`.inputs`, what ``/explain`` adds in :mod:`.explain`,
the page's server-rendered parts (the model card, the bars) in :mod:`.page`. The interactive
``/docs`` and ``/redoc`` pages are turned off: FastAPI loads them from a CDN, and everything this
server shows must work offline. The OpenAPI description itself is at ``/openapi.json``.
"""

import contextlib
import logging
import os
import threading

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from barenet.errors import BarenetError, DataError
from barenet.network import load_model
from barenet.serve.card import model_card
from barenet.serve.explain import Explainer
from barenet.serve.inputs import (
    MAX_BODY_BYTES,
    MAX_IMAGE_SIDE,
    InputError,
    body_kind,
    check_content_length,
    image_stages,
    parse_pixels,
    read_body,
)
from barenet.serve.page import STATIC, render_page
from barenet.serve.schemas import (
    CompactExplanation,
    Explanation,
    Health,
    ModelCard,
    Prediction,
    Problem,
)
from barenet.version import __version__

# The page may load nothing but this server's own files: a browser enforces it, and any slip
# (a font or script from a CDN) shows up as an error in its console instead of working online.
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class Predictor:
    """A network and what the API needs to answer with it.

    The layers reuse their work buffers from one forward pass to the next, so two requests must
    not run the network at once: a lock takes them in turn (a pass takes well under 1 ms).
    While it runs, BLAS uses one thread (:func:`one_blas_thread`).
    """

    def __init__(self, net):
        self.net = net
        self.class_names = list(net.class_names)
        self.image_shape = net.image_shape  # None: the inputs are no image
        self.explainer = Explainer(net)
        self._lock = threading.Lock()
        self._one_thread = one_blas_thread()

    def predict(self, x, prepared=None):
        """``x`` ``(input_size,)`` -> the fields of :class:`~.schemas.Prediction`."""
        X = self.net.check_features(x[np.newaxis].astype(self.net.dtype, copy=False))
        X = self.net.scale_inputs(X)  # a table model's standardisation, as predict applies it
        with self._lock, self._one_thread():
            logits = self.net.forward(X)[0].copy()  # a work buffer of the last layer
        return {**self.explainer.verdict(logits, x, prepared), "image": self._rows(x)}

    def predict_image(self, data, name):
        """The bytes of a picture -> a prediction, after MNIST-style preprocessing."""
        prepared = self._prepare(data, name)
        return self.predict(prepared.input, prepared)

    def explain(self, x, prepared=None, compact=False):
        """``x`` ``(input_size,)`` -> the fields of :class:`~.schemas.Explanation`, or of
        :class:`~.schemas.CompactExplanation` when ``compact``."""
        with self._lock, self._one_thread():
            return self.explainer.explain(x, prepared, compact)

    def explain_image(self, data, name, compact=False):
        """The bytes of a picture -> its explanation, with the stages of its preparation."""
        prepared = self._prepare(data, name)
        return self.explain(prepared.input, prepared, compact)

    def _prepare(self, data, name):
        if self.image_shape is None:
            raise InputError(
                422,
                f"this model reads {self.net.input_size} values, not images: send JSON pixel "
                "values",
            )
        return image_stages(data, name, self.image_shape)

    def _rows(self, x):
        """The input as rows of an image when it is one (else one row), rounded for the page."""
        rows = x.reshape(self.image_shape) if self.image_shape else x.reshape(1, -1)
        return np.round(rows.astype(np.float64), 4).tolist()


def one_blas_thread():
    """A function returning a context in which BLAS (NumPy's matrix products) runs on one
    thread, through threadpoolctl when it is installed (else it changes nothing).

    One input at a time is a handful of small matrix products: BLAS's own threads mostly wait
    for each other, and on a busy 2-core machine that waiting made an answer of the CNN of
    ``--model cnn`` take 40 to 240 ms instead of about 2 (docs/web-app.md). The limit holds
    only while the network runs, a few tens of microseconds to set.
    """
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return contextlib.nullcontext
    controller = ThreadpoolController()
    return lambda: controller.limit(limits=1, user_api="blas")


def create_app(model, *, file=None, max_body_bytes=MAX_BODY_BYTES):
    """The web app serving ``model``: a path to a model file or a loaded ``NeuralNetwork``.

    ``file`` names the model file on the model card when ``model`` is already loaded.
    Request bodies over ``max_body_bytes`` are refused with 413. A regression network
    (``loss="mse"``) is refused with a :class:`~barenet.errors.BarenetError`.
    """
    if isinstance(model, (str, os.PathLike)):
        model, file = load_model(model), model
    if model.is_regression:  # the page and the API name classes; a regressor has none
        raise BarenetError(
            f"{file or 'this network'} is a regression network (loss mse): the page reads "
            "digits drawn by hand and names their class, so it needs a classifier"
        )
    predictor = Predictor(model)
    card = ModelCard(**model_card(model, file))
    app = FastAPI(
        title="barenet",
        version=__version__,
        summary="Handwritten digit recognition by a network written from scratch in NumPy.",
        docs_url=None,  # Swagger UI and ReDoc come from a CDN: not offline
        redoc_url=None,
    )
    app.state.predictor = predictor
    _add_error_handlers(app)
    _quiet_form_parser()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    page_html = render_page(card)  # the card and the bars are in the page: no JavaScript needed

    @app.get("/", response_class=HTMLResponse, summary="The drawing page")
    def page():
        return HTMLResponse(page_html, headers={"Content-Security-Policy": PAGE_POLICY})

    @app.get("/health", summary="Is the model loaded?")
    def health() -> Health:
        return Health(status="ok", model=card.file, classes=len(predictor.class_names))

    @app.get("/model", summary="The model card")
    def model_info() -> ModelCard:
        return card

    body_spec = {"requestBody": _request_body(model.input_size, max_body_bytes)}
    explain_spec = {**body_spec, "parameters": [COMPACT_PARAMETER]}

    @app.post(
        "/predict",
        summary="Read the digit in an image, or classify pixel values",
        responses=_error_responses(max_body_bytes),
        openapi_extra=body_spec,
    )
    async def predict(request: Request) -> Prediction:
        kind, value, name = await _read_input(request, model.input_size, max_body_bytes)
        if kind == "pixels":
            return Prediction(**await run_in_threadpool(predictor.predict, value))
        # Decoding and preprocessing take milliseconds: off the event loop, in a worker thread.
        return Prediction(**await run_in_threadpool(predictor.predict_image, value, name))

    @app.post(
        "/explain",
        summary="Read an input and show what happens inside the network",
        response_model=Explanation | CompactExplanation,
        responses=_error_responses(max_body_bytes),
        openapi_extra=explain_spec,
    )
    async def explain_route(request: Request):
        compact = _compact(request.query_params.get("compact"))
        kind, value, name = await _read_input(request, model.input_size, max_body_bytes)
        if kind == "pixels":
            answer = await run_in_threadpool(predictor.explain, value, None, compact)
        else:
            answer = await run_in_threadpool(predictor.explain_image, value, name, compact)
        # Built by our own code to the schema (the tests check it): returned as it is, since
        # validating thousands of activations again would double the time of an answer.
        return JSONResponse(answer)

    return app


COMPACT_PARAMETER = {
    "name": "compact",
    "in": "query",
    "required": False,
    "schema": {"type": "boolean", "default": False},
    "description": "true: every picture and layer output as bytes (base64, one byte a value, on "
    "its own scale) rather than numbers: what the page asks for, a quarter of the size with a "
    "CNN.",
}


def _compact(value):
    """The ``compact`` query parameter: ``true`` or ``false`` (absent: false); 422 otherwise."""
    if value is None:
        return False
    words = {"true": True, "1": True, "false": False, "0": False}
    if value.lower() not in words:
        raise InputError(422, f"compact must be true or false, got {value[:40]!r}")
    return words[value.lower()]


async def _read_input(request, n_values, max_bytes):
    """``("pixels", x, None)`` or ``("image", bytes, name)`` from the body of ``request``.

    The body is read here, by hand, rather than declared as a parameter: FastAPI would read all
    of it into memory before any check, whatever its size.
    """
    kind = body_kind(request.headers.get("content-type"))
    check_content_length(request.headers.get("content-length"), max_bytes)
    body = await read_body(request.stream(), max_bytes)
    if kind == "json":
        return "pixels", parse_pixels(body, n_values), None
    if kind == "form":
        return ("image", *await _uploaded_file(request, body))
    return "image", body, "request body"


def _quiet_form_parser():
    """python-multipart logs each oddity of a client's form (data after the last boundary...)
    as a warning, which Python prints when logging is not set up; the client is told already,
    with a 400, so the server's log stays clean."""
    for name in ("python_multipart", "multipart"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _error_responses(max_bytes):
    """The 4xx answers of ``/predict`` and ``/explain`` for their OpenAPI description."""
    statuses = {
        400: "Malformed request: empty body, invalid JSON, broken multipart form.",
        413: f"Request body over the size limit ({max_bytes} bytes).",
        415: "Unsupported Content-Type.",
        422: "Unusable content: not an image, a corrupt image, an image over "
        f"{MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE} pixels, no digit in it; the wrong number of pixel "
        "values, NaN or values outside [0, 1]; for /explain, a `compact` other than true or "
        "false.",
    }
    return {status: {"model": Problem, "description": text} for status, text in statuses.items()}


def _add_error_handlers(app):
    """Bad input -> a JSON ``{"detail": message}`` with a 4xx status, like FastAPI's own."""

    @app.exception_handler(InputError)
    async def input_error(request, exc):
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(DataError)  # from load_image / preprocess_digit / the network
    async def data_error(request, exc):
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(ClientDisconnect)  # the client left mid-upload: nobody to answer
    async def client_left(request, exc):
        return Response(status_code=400)


async def _uploaded_file(request, body):
    """``(bytes, file name)`` of the form field ``file`` in a multipart ``body``."""

    async def replay():  # the body was read already, within its size limit: hand it over again
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=1, max_fields=16)
    except HTTPException as exc:  # how Starlette reports a form it cannot parse
        raise InputError(400, f"malformed multipart form: {exc.detail}") from None
    try:
        upload = form.get("file")
        if upload is None:
            raise InputError(422, "the form has no field 'file' (the image to read)")
        if isinstance(upload, str):
            raise InputError(422, "the form field 'file' must be a file upload, not text")
        name = (upload.filename or "upload")[:100]
        data = await upload.read()
    finally:
        await form.close()
    if not data:
        raise InputError(422, f"{name}: the uploaded file is empty")
    return data, name


def _request_body(n_values, max_bytes):
    """The OpenAPI ``requestBody`` of ``/predict``: the three ways to send an input."""
    binary = {"type": "string", "format": "binary"}
    pixels = {
        "type": "array",
        "items": {"type": "number", "minimum": 0, "maximum": 1},
        "minItems": n_values,
        "maxItems": n_values,
        "description": f"{n_values} values in [0, 1], row by row: light ink on a dark (0) "
        "background, as the network reads them (not preprocessed again).",
    }
    return {
        "required": True,
        "description": "A picture of one digit (raw, or as the field `file` of a form), or "
        f"pixel values. At most {max_bytes} bytes; images up to {MAX_IMAGE_SIDE}x"
        f"{MAX_IMAGE_SIDE} pixels, prepared like `barenet predict` prepares a file.",
        "content": {
            "image/png": {"schema": binary},
            "image/jpeg": {"schema": binary},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": binary},
                    "required": ["file"],
                },
                "encoding": {"file": {"contentType": "image/png, image/jpeg, image/*"}},
            },
            "application/json": {
                "schema": {
                    "oneOf": [
                        {
                            "type": "object",
                            "properties": {"pixels": pixels},
                            "required": ["pixels"],
                            "additionalProperties": False,
                        },
                        pixels,
                    ]
                }
            },
        },
    }
