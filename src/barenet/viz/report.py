"""One self-contained HTML file: the key numbers, tables, and figures embedded as PNG data.

The file needs nothing beside it (no image files, scripts or style sheets from elsewhere), so
it can be mailed or archived as it is. :func:`write_report` lays out any sections;
:func:`model_report` builds the report of one trained network on test images of any data set,
naming the classes and drawing the images as the network's ``class_names`` and ``image_shape``
say.
"""

import base64
import html
import tempfile
from pathlib import Path

from barenet.files.archive import atomic_write_bytes
from barenet.metrics import classification_report, format_classification_report
from barenet.network import NeuralNetwork, load_model
from barenet.specs import describe_optimizer, describe_setting
from barenet.viz.plots import (
    plot_confident_mistakes,
    plot_confusion_matrix,
    plot_history,
    plot_per_class_metrics,
    plot_predictions,
)
from barenet.viz.weights import (
    first_conv_layer,
    first_layer_weights,
    plot_conv_filters,
    plot_feature_maps,
    plot_first_layer_weights,
)

STYLE = """
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
h1 { border-bottom: 2px solid #444; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
img { max-width: 100%; display: block; margin: 1em 0; border: 1px solid #ddd; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1.5em; }
dt { font-weight: bold; }
"""


def write_report(path, title, sections):
    """Write the HTML report ``title`` with ``sections`` to ``path`` (atomically); return it.

    Each section is a dict with a ``"heading"`` and any of: ``"numbers"`` (a dict of label to
    value, shown as a list of key figures), ``"text"`` (a list of paragraphs), ``"table"``
    (preformatted text such as a study's table) and ``"figures"`` (paths of PNG files, embedded
    in base64). All text is HTML-escaped.
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for section in sections:
        parts.append(_section(section))
    parts.append("</body></html>")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, "\n".join(parts).encode("utf-8"))
    return path


def _section(section):
    parts = [f"<h2>{html.escape(section['heading'])}</h2>"]
    numbers = section.get("numbers") or {}
    if numbers:
        items = (
            f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(str(v))}</dd>"
            for k, v in numbers.items()
        )
        parts.append("<dl>" + "".join(items) + "</dl>")
    parts += [f"<p>{html.escape(text)}</p>" for text in section.get("text", ())]
    if section.get("table"):
        parts.append(f"<pre>{html.escape(section['table'])}</pre>")
    for figure in section.get("figures", ()):
        data = base64.b64encode(Path(figure).read_bytes()).decode("ascii")
        alt = html.escape(Path(figure).stem.replace("_", " "))
        parts.append(f'<img alt="{alt}" src="data:image/png;base64,{data}">')
    return "\n".join(parts)


def model_report(model, path, X_test, y_test, title=None):
    """The report of ``model`` (a network or the path of a saved one) on ``(X_test, y_test)``,
    made of :func:`model_sections`; writes ``path`` and returns it."""
    net = model if isinstance(model, NeuralNetwork) else load_model(model)
    with tempfile.TemporaryDirectory() as folder:
        sections = model_sections(net, X_test, y_test, folder)
        return write_report(path, title or f"barenet report: {net!r}", sections)


def model_sections(net, X_test, y_test, folder, name="The network"):
    """Report sections about ``net`` (called ``name`` in the headings) scored on
    ``(X_test, y_test)``: key numbers (accuracy, loss, architecture, training), the per-class
    table, and figures saved as PNG in ``folder``: training history (if any), confusion matrix,
    precision and recall per class, and, when the network knows its ``image_shape``, sample
    predictions, the most confident mistakes and what the first layer looks for: the first
    layer's weights of a fully connected network, or, for a convolutional one, the first
    convolution's filters and the feature maps of the first test image. Classes are named by
    ``net.class_names``."""
    folder = Path(folder)
    probabilities = net.predict_proba(X_test)
    y_pred = probabilities.argmax(axis=1)
    report = classification_report(y_test, y_pred, net.output_size)
    loss = net.evaluate(X_test, y_test)["loss"]
    names = net.class_names
    figures = []
    if net.history.get("train_loss"):
        figures.append(plot_history(net.history, folder / "training_history.png"))
    figures += [
        plot_confusion_matrix(y_test, y_pred, folder / "confusion_matrix.png", class_names=names),
        plot_per_class_metrics(y_test, y_pred, folder / "per_class.png", class_names=names),
    ]
    if net.image_shape is not None:  # inputs that are not images have nothing to draw
        figures += _image_figures(net, X_test, y_test, probabilities, folder)
    table = format_classification_report(report, names)
    return [
        {"heading": f"{name}: key numbers", "numbers": _key_numbers(net, report, loss)},
        {"heading": f"{name}: per class", "table": table},
        {"heading": f"{name}: figures", "figures": figures},
    ]


def _image_figures(net, X_test, y_test, probabilities, folder):
    """Sample predictions, the most confident mistakes and what the first layer looks for."""
    shown = {"class_names": net.class_names, "image_shape": net.image_shape}
    y_pred = probabilities.argmax(axis=1)
    return [
        plot_predictions(
            X_test, y_test, y_pred, folder / "predictions.png", 25, probabilities, **shown
        ),
        plot_confident_mistakes(X_test, y_test, probabilities, folder / "mistakes.png", **shown),
        *_first_layer_figures(net, X_test, y_test, y_pred, folder),
    ]


def _first_layer_figures(net, X_test, y_test, y_pred, folder):
    """A convolutional network's filters and the feature maps of the first test image; else
    the first layer's weights as images when it reads the pixels (nothing for other stacks)."""
    if first_conv_layer(net) is not None:
        names = net.class_names
        title = (
            f"Feature maps of test image 0 (true {names[int(y_test[0])]}, "
            f"predicted {names[int(y_pred[0])]})"
        )
        return [
            plot_conv_filters(net, folder / "conv_filters.png"),
            plot_feature_maps(net, X_test[0], folder / "feature_maps.png", title=title),
        ]
    if first_layer_weights(net) is not None:
        return [plot_first_layer_weights(net, folder / "first_layer_weights.png")]
    return []


def _key_numbers(net, report, loss):
    """Label -> value: how good the network is, what it is and how it was trained."""
    numbers = {
        "test accuracy": f"{report['accuracy']:.2%} of {report['n_samples']} "
        + ("images" if net.image_shape else "samples"),
        "test loss": f"{loss:.4f}",
        "architecture": _architecture(net),
        "activation": net.activation,
        "parameters": f"{net.n_parameters:,}",
        # The rate the run started from: a schedule leaves the optimizer at its last rate.
        "optimizer": describe_optimizer(
            {**net.optimizer.config(), "learning_rate": net.learning_rate}
        ),
    }
    val = net.history.get("val_accuracy")
    if val:
        best = max(range(len(val)), key=val.__getitem__)
        numbers["best validation accuracy"] = f"{val[best]:.2%} (epoch {best + 1} of {len(val)})"
    info = net.training_info.to_dict()
    for key in ("epochs", "batch_size", "n_train"):
        if info.get(key) is not None:
            numbers[key.replace("_", " ")] = info[key]
    for key in ("schedule", "augment"):  # in words: "cosine (down to 0)", not a dict
        if info.get(key) is not None:
            numbers[key] = describe_setting(info[key])
    return numbers


def _architecture(net):
    """``784-128-64-10`` for a fully connected network, the layer words for any other."""
    if net.is_mlp:
        return "-".join(map(str, [net.input_size, *net.hidden_sizes, net.output_size]))
    return f"{'x'.join(map(str, net.input_shape))}: {net.describe()}"
