"""``barenet serve``: a local web page to draw a digit on, and an HTTP API, for a trained model.

The page (``static/``) sends the drawing to ``POST /predict`` as it is drawn and shows what the
network sees, its answer and every class probability; ``GET /model`` is the model card and
``GET /health`` says the model is loaded. The web packages (FastAPI, uvicorn, python-multipart:
``pip install barenet[serve]``) are imported only here, never by the numerical core::

    from barenet.serve import create_app
    app = create_app("barenet-model.npz")   # any ASGI server runs it: uvicorn, TestClient...

Modules: :mod:`.inputs` checks and decodes request bodies (no web framework in it),
:mod:`.card` describes a model, :mod:`.schemas` are the JSON shapes of the answers,
:mod:`.app` wires the routes and :mod:`.command` is the ``barenet serve`` command.
"""

__all__ = ["create_app"]


def __getattr__(name):
    # Imported on first use, so that `barenet --help` works without FastAPI installed.
    if name == "create_app":
        from barenet.serve.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
