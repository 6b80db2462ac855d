"""What the page and ``GET /model`` say about a network: its classes, shape and model card.

Every network knows its ``class_names`` (``"0"`` ... ``"9"`` unless told otherwise) and its
``image_shape``, which is None for a network whose inputs are no image: the app refuses
pictures for such a network, as ``barenet predict`` does.
"""

from pathlib import Path

from barenet.nn.stack import describe_layer


def model_card(net, file=None):
    """A JSON-able description of ``net`` (the fields of :class:`~.schemas.ModelCard`).

    ``file`` is the path the model was loaded from; only its name is shown.
    """
    config = net.get_config()
    info = net.training_info.to_dict()
    sizes = [net.input_size, *net.hidden_sizes, net.output_size]
    optimizer = dict(config["optimizer"])
    history = net.history or {}
    return {
        "file": Path(file).name if file is not None else None,
        "summary": _summary(net, sizes),
        "parameters": int(net.n_parameters),
        "test_accuracy": info.get("test_accuracy"),
        "class_names": list(net.class_names),
        "image_shape": list(net.image_shape) if net.image_shape else None,
        "architecture": {
            "layer_sizes": sizes,
            "layers": _describe_layers(net) + ["softmax"],
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


def _summary(net, sizes):
    """``"784 → 64 → 10 fully connected, relu"`` for an MLP; for any other stack, its input
    shape and its layers in words: ``"28×28×1 → conv8x3 relu pool2 flatten dense10"``."""
    if net.is_mlp:
        return f"{' → '.join(map(str, sizes))} fully connected, {net.activation}"
    return f"{'×'.join(map(str, net.input_shape))} → {net.describe()}"


def _describe_layers(net):
    """Each layer in a few words, with its output shape: ``"dense 784 → 64"``, ``"relu"``..."""
    words = []
    for layer in net.layers:
        config, shape = layer.config(), "×".join(map(str, layer.output_shape))
        if config["kind"] == "dense":
            words.append(f"dense {layer.n_in} → {layer.units}")
        elif config["kind"] == "dropout":
            words.append(f"dropout {config['rate']:g}")
        elif config["kind"] == "batch_norm":
            words.append(f"batch norm ({layer.n})")
        elif len(layer.output_shape) > 1 or config["kind"] == "flatten":
            words.append(f"{describe_layer(layer)} → {shape}")
        else:
            words.append(config["kind"])
    return words


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
