"""What the page and ``GET /model`` say about a network: its classes, shape and model card.

Every network knows its ``class_names`` (``"0"`` ... ``"9"`` unless told otherwise) and its
``image_shape``, which is None for a network whose inputs are no image: the app refuses
pictures for such a network, as ``barenet predict`` does.
"""

from pathlib import Path

from barenet.nn.stack import describe_layer
from barenet.specs import describe_optimizer, describe_setting


def model_card(net, file=None):
    """A JSON-able description of ``net`` (the fields of :class:`~.schemas.ModelCard`).

    ``file`` is the path the model was loaded from; only its name is shown.
    """
    config = net.get_config()
    info = net.training_info.to_dict()
    sizes = [net.input_size, *net.hidden_sizes, net.output_size]
    optimizer = dict(config["optimizer"])
    history = net.history or {}
    card = {
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
    card["lines"] = card_lines(card, config["optimizer"], info)
    return card


def card_lines(card, optimizer, info):
    """The card in words for people, as ``{"field", "label", "text"}`` lines: the settings as
    :func:`~barenet.specs.describe_optimizer` and :func:`~barenet.specs.describe_setting` say
    them ("SGD with Nesterov momentum 0.9, learning rate 0.05", "cosine (down to 0)")."""
    arch, train = card["architecture"], card["training"]
    regularisation = [
        f"dropout {arch['dropout']:g}" if arch["dropout"] else "",
        "batch norm" if arch["batch_norm"] else "",
        f"L2 {arch['l2']:g}" if arch["l2"] else "",
        f"L1 {arch['l1']:g}" if arch["l1"] else "",
    ]
    rows = [
        ("test_accuracy", "Test accuracy", _percent_or(card["test_accuracy"], "not recorded")),
        ("summary", "Network", card["summary"]),
        ("layers", "Layers", " · ".join(arch["layers"])),
        ("parameters", "Parameters", f"{card['parameters']:,}"),
        ("optimizer", "Optimizer", describe_optimizer(optimizer)),
        ("epochs", "Training", _training_words(train)),
        ("schedule", "Schedule", describe_setting(info.get("schedule")) or "constant"),
        ("augment", "Augmentation", describe_setting(info.get("augment")) or "none"),
        ("regularisation", "Regularisation", ", ".join(filter(None, regularisation)) or "none"),
        (
            "validation_accuracy",
            "Validation accuracy",
            _percent_or(train["validation_accuracy"], "none held out"),
        ),
        ("classes", "Classes", " ".join(card["class_names"])),
        ("file", "File", card["file"] or "(in memory)"),
    ]
    return [{"field": field, "label": label, "text": text} for field, label, text in rows]


def _training_words(train):
    """``"3 epochs, batches of 64, on 60,000 images"`` or ``"not trained"``."""
    if train["epochs"] is None:
        return "not trained"
    words = [f"{train['epochs']} epoch{'' if train['epochs'] == 1 else 's'}"]
    if train["batch_size"]:
        words.append(f"batches of {train['batch_size']}")
    if train["n_train"]:
        words.append(f"on {train['n_train']:,} images")
    return ", ".join(words)


def percent(p):
    """``0.9734`` as ``"97.3%"``; whole percents near 0 and 1 (``"100%"``, ``"0%"``)."""
    return f"{round(p * 100)}%" if p >= 0.995 or p < 0.005 else f"{p * 100:.1f}%"


def _percent_or(value, otherwise):
    return otherwise if value is None else percent(value)


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
