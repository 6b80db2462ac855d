"""What the page and ``GET /model`` say about a network: its classes, shape and model card.

Every network knows its ``class_names`` (``"0"`` ... ``"9"`` unless told otherwise);
:func:`image_shape` falls back to 28x28 for a network whose inputs are no square image, which
the app then refuses to feed with pictures.
"""

from pathlib import Path

MNIST_SHAPE = (28, 28)


def image_shape(net):
    """``(height, width)`` of the images the network reads: (28, 28) for MNIST."""
    return tuple(net.image_shape) if net.image_shape else MNIST_SHAPE


def model_card(net, file=None):
    """A JSON-able description of ``net`` (the fields of :class:`~.schemas.ModelCard`).

    ``file`` is the path the model was loaded from; only its name is shown.
    """
    config = net.get_config()
    info = dict(net.training_info or {})
    sizes = [net.input_size, *net.hidden_sizes, net.output_size]
    optimizer = dict(config["optimizer"])
    history = net.history or {}
    return {
        "file": Path(file).name if file is not None else None,
        "summary": f"{' → '.join(map(str, sizes))} fully connected, {net.activation}",
        "parameters": int(net.n_parameters),
        "test_accuracy": info.get("test_accuracy"),
        "class_names": list(net.class_names),
        "image_shape": list(image_shape(net)),
        "architecture": {
            "layer_sizes": sizes,
            "layers": [_describe_layer(layer.config()) for layer in net.layers] + ["softmax"],
            "activation": net.activation,
            "init": net.init,
            "batch_norm": net.batch_norm,
            "dropout": net.dropout,
            "l2": net.l2,
            "l1": net.l1,
            "dtype": config["dtype"],
        },
        "training": {
            "optimizer": optimizer.pop("name"),
            "learning_rate": optimizer.pop("learning_rate"),
            "optimizer_settings": optimizer,  # momentum, betas...: whatever this optimizer has
            "epochs": _epochs_trained(history, info),
            "batch_size": info.get("batch_size"),
            "schedule": _setting(info.get("schedule")),
            "augment": _setting(info.get("augment")),
            "n_train": info.get("n_train"),
            "validation_accuracy": _last(history.get("val_accuracy")),
            "recorded": info,  # everything the model file says about its training, as saved
        },
    }


def _describe_layer(config):
    """A layer's config (from the model file) in a few words: ``"dense 784 → 64"``."""
    kind = config.get("kind", "layer")
    if kind == "dense":
        return f"dense {config['n_in']} → {config['n_out']}"
    if kind == "activation":
        return config.get("fn", {}).get("name", kind)
    if kind == "dropout":
        return f"dropout {config['rate']:g}"
    if kind == "batch_norm":
        return f"batch norm ({config['n']})"
    return kind


def _epochs_trained(history, info):
    """Epochs actually run (early stopping may end before the planned number)."""
    if history.get("train_loss"):
        return len(history["train_loss"])
    return info.get("epochs")


def _last(values):
    return float(values[-1]) if values else None


def _setting(value):
    """``{"name": "step", "every": 10}`` as ``"step (every=10)"``; ``None`` stays ``None``."""
    if value is None or not isinstance(value, dict):
        return None if value is None else str(value)
    rest = ", ".join(f"{k}={_setting(v)}" for k, v in value.items() if k != "name")
    name = str(value.get("name", ""))
    return f"{name} ({rest})" if rest else name
