"""What a network is and how it is (or was) trained, in a few lines of text: the summary that
``barenet train`` prints before it starts (like Keras's ``model.summary()``) and the page of
``barenet info``.

Settings are said in words by :mod:`barenet.names` (``SGD with Nesterov momentum 0.9, learning
rate 0.1``, ``cosine (down to 0)``), as the model card and the report say them.
"""

import math

from barenet.names import describe_optimizer, describe_setting


def layer_table(net):
    """One row per layer: its name, output shape and number of parameters, then the total."""
    sizes = {}
    for name, where in net.parameter_slices().items():
        index = int(name.split(".")[1])
        sizes[index] = sizes.get(index, 0) + (where.stop - where.start)
    rows = [("layer", "output shape", "parameters")]
    rows.append(("input", _shape(net.input_shape), ""))
    for i, (name, layer) in enumerate(zip(net.layer_names(), net.layers, strict=True)):
        rows.append((name, _shape(layer.output_shape), f"{sizes.get(i, 0):,}"))
    widths = [max(len(row[k]) for row in rows) for k in range(3)]
    lines = [f"  {a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}".rstrip() for a, b, c in rows]
    lines.append(f"  total: {net.n_parameters:,} parameters ({net.dtype.name})")
    return lines


def _shape(shape):
    return "x".join(str(side) for side in shape)


def network_lines(net):
    """The network's name, inputs, classes and layer table."""
    image = f" ({_shape(net.image_shape)} pictures)" if net.image_shape else ""
    names = list(net.class_names)
    shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
    return [
        f"network: {net.describe()}",
        f"  {net.input_size} inputs{image} -> {net.output_size} classes: {shown}",
        *layer_table(net),
    ]


def data_line(name, n_train, n_val, n_test, note=""):
    """``"data: mnist, 50,000 training, 10,000 validation, 10,000 test samples"``."""
    parts = [f"{n_train:,} training", f"{n_val:,} validation", f"{n_test:,} test samples"]
    return f"data: {name}, {', '.join(parts)}{note}"


def training_lines(net, options):
    """The optimizer and the ``NeuralNetwork.train`` options of a run about to start."""
    batches = math.ceil(options["n_train"] / options["batch_size"])
    lines = [
        f"optimizer: {describe_optimizer(net.get_config()['optimizer'])}",
        f"training: {options['epochs']} epochs of {batches:,} batches of "
        f"{options['batch_size']}, schedule {describe_setting(options['schedule']) or 'constant'}"
        f", augmentation {describe_setting(options['augment']) or 'none'}",
    ]
    extras = []
    if options.get("early_stopping"):
        extras.append(f"early stopping after {options['early_stopping']} epochs without progress")
    if options.get("clip_norm"):
        extras.append(f"gradient norm clipped at {options['clip_norm']:g}")
    if options.get("checkpoint"):
        extras.append(f"checkpoint {options['checkpoint']} every epoch")
    if extras:
        lines.append("  " + "; ".join(extras))
    return lines


def record_lines(net):
    """How a saved network was trained and how well it did, from its model file alone."""
    info = net.training_info.to_dict()
    history = net.history or {}
    epochs = len(history.get("train_loss", ()))
    lines = [f"optimizer: {describe_optimizer(net.get_config()['optimizer'])}"]
    if info.get("epochs") is not None or epochs:
        trained = f"trained: {epochs} epochs"
        if info.get("epochs") not in (None, epochs):
            trained += f" (of {info['epochs']} asked)"
        if info.get("batch_size"):
            trained += f", batch {info['batch_size']}"
        trained += f", schedule {describe_setting(info.get('schedule')) or 'constant'}"
        trained += f", augmentation {describe_setting(info.get('augment')) or 'none'}"
        lines.append(trained)
    if info.get("dataset") or info.get("n_train"):
        source = info.get("dataset") or "unnamed data"
        if info.get("data"):
            source += f" (your own data: {info['data']})"
        sizes = f"{info.get('n_train', 0):,} training, {info.get('n_val', 0):,} validation"
        lines.append(f"data: {source}, {sizes} samples")
    if info.get("best_epoch"):
        lines.append(
            f"best epoch: {info['best_epoch']} ({info.get('monitor')} "
            f"{info.get('best_value', float('nan')):.4f}), its weights kept"
        )
    if history.get("val_accuracy"):
        lines.append(f"last validation accuracy: {history['val_accuracy'][-1]:.2%}")
    if info.get("test_accuracy") is not None:
        lines.append(f"test accuracy: {info['test_accuracy']:.2%}")
    else:
        lines.append("test accuracy: not recorded (barenet evaluate measures it)")
    return lines
