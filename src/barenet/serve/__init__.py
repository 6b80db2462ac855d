"""``barenet serve``: a local web page to draw a digit on, and an HTTP API, for a trained model.

The page (``static/``) sends the drawing to ``POST /explain`` as it is drawn and shows what the
network sees, its answer (or that the drawing does not look like a digit), every class
probability and the inside of the network; ``GET /model`` is the model card and
``GET /health`` says the model is loaded. The web packages (FastAPI, uvicorn, python-multipart:
``pip install barenet[serve]``) are imported only here, never by the numerical core::

    from barenet.serve import create_app
    app = create_app("barenet-model.npz")   # any ASGI server runs it: uvicorn, TestClient...

Modules: :mod:`.inputs` checks and decodes request bodies (no web framework in it),
:mod:`.card` describes a model, :mod:`.explain` gathers what happens inside the network,
:mod:`.digits` says whether an input looks like a digit at all, :mod:`.schemas` are the JSON
shapes of the answers, and :mod:`.app` wires the routes (the ``barenet serve`` command is in
:mod:`barenet.cli.serve`).
"""

__all__ = ["create_app"]


def __getattr__(name):
    # Imported on first use, so that `barenet --help` works without FastAPI installed.
    if name == "create_app":
        from barenet.serve.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
