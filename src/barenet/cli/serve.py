"""``barenet serve [MODEL] [--host 127.0.0.1] [--port 8000]``: the drawing page and the API.

:func:`add_commands` registers ``serve`` on the parser of :mod:`barenet.cli.main`. FastAPI and
uvicorn are imported only when the command runs, so the rest of the command line works without
them.
"""

import argparse
import socket

from barenet.cli.parsing import add_command, model_argument
from barenet.errors import BarenetError
from barenet.network import load_model

DEFAULT_HOST = "127.0.0.1"  # this machine only: say --host 0.0.0.0 to let others in
DEFAULT_PORT = 8000


def serve_command(args):
    """Serve a saved model on a web page where you draw a digit and watch the network read
    it as you draw, and as an HTTP API: POST /predict (an image, or JSON pixel values),
    GET /model (the model card), GET /health; its OpenAPI description is /openapi.json.
    Stop it with Ctrl+C. It needs a classifier: a regression model (--loss mse) is refused."""
    uvicorn, create_app = _web_packages()
    # The model is loaded before anything listens: a bad file is a one-line error, not a
    # server that fails on its first request.
    net = load_model(args.model)
    if net.is_regression:
        raise BarenetError(
            f"{args.model} is a regression network (loss mse): the page reads digits drawn by "
            "hand and names their class, so it needs a classifier; predict numbers in Python "
            f"with barenet.load_model({str(args.model)!r}).predict(X)"
        )
    app = create_app(net, file=args.model)
    listener = _listen(args.host, args.port)
    port = listener.getsockname()[1]  # the real one when --port 0 asked for any free port
    print(f"serving {args.model} at {_url(args.host, port)} (Ctrl+C to stop)", flush=True)
    # uvicorn's own messages only when something goes wrong; ours says where to look.
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[listener])
    return 0


def _web_packages():
    """``(uvicorn, create_app)``, or a clear error naming the extra to install."""
    try:
        import python_multipart  # noqa: F401  (reads uploaded files; Starlette imports it late)
        import uvicorn

        from barenet.serve.app import create_app
    except ImportError as exc:
        raise BarenetError(
            f"barenet serve needs FastAPI, uvicorn and python-multipart ({exc.name} is missing): "
            "pip install 'barenet[serve]'"
        ) from None
    return uvicorn, create_app


def _listen(host, port):
    """A TCP socket bound to ``host:port`` (port 0: a free port the system picks)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        listener = socket.socket(family, kind, proto)
        # Restarting the server right after stopping it must not fail on "address in use".
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        # Listening now, before uvicorn starts: a client that reads the printed address and
        # connects at once waits in the queue instead of being refused.
        listener.listen(2048)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise BarenetError(f"cannot listen on {host}:{port}: {reason}") from None
    return listener


def _url(host, port):
    """``http://host:port``, with an IPv6 address in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _port(text):
    """An argparse type: a TCP port number, 0 to 65535 (0: any free port)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be in 0..65535, got {value}")
    return value


def add_commands(commands):
    """Add ``serve`` to the subcommands of the ``barenet`` parser."""
    sub = add_command(
        commands,
        serve_command,
        "draw digits for a saved model in the browser; serve it over HTTP",
        "barenet serve barenet-model.npz --port 8000   # then open http://127.0.0.1:8000",
    )
    model_argument(sub, ", what 'barenet train' writes")
    sub.add_argument("--host", default=DEFAULT_HOST, help="address to listen on")
    sub.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help="port to listen on; 0 picks a free one"
    )
