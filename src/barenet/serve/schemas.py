"""The JSON answers of the API, as pydantic models: FastAPI validates every answer against them
and publishes them in the OpenAPI description (``/openapi.json``), so the two cannot drift."""

from typing import Any

from pydantic import BaseModel, Field


class Verdict(BaseModel):
    """What the network reads in one input, and how far to trust it."""

    class_index: int = Field(ge=0, description="Index of the most probable class.")
    class_name: str = Field(description="Name of that class (the digit, for MNIST).")
    probability: float = Field(ge=0, le=1, description="Its probability.")
    probabilities: list[float] = Field(
        description="Probability of every class, in class order; they sum to 1."
    )
    class_names: list[str] = Field(description="Name of every class, in class order.")
    unsure: bool = Field(
        description="True when the top probability is under 0.6 or the runner-up is within 0.2 "
        "of it. The network always picks one of its classes, whatever the input."
    )
    not_a_digit: bool | None = Field(
        description="True when the input does not look like a handwritten digit (a letter, a "
        "scribble, a blob, a dot): its ink is unlike that of MNIST's digits, or the network's "
        "scores are far weaker than they are for digits; the class read is then no answer. "
        "Calibrated to say so for about 1% of MNIST's own digits. Null for a network that does "
        "not read 28x28 pictures of the digits 0-9, where the check does not apply."
    )
    not_a_digit_reasons: list[str] = Field(
        description='Why, in words ("more ink than any digit has: a blob or a scribble?"); '
        "empty when it looks like a digit."
    )


class Prediction(Verdict):
    """``POST /predict``: what the network reads in one input."""

    image: list[list[float]] = Field(
        description="The input as the network sees it: rows of values in [0, 1] (28 rows of 28 "
        "for MNIST), after preprocessing for an image, as sent for JSON pixel values."
    )


class Packed(BaseModel):
    """Numbers as bytes: a compact picture or layer output (``POST /explain?compact=true``)."""

    shape: list[int] = Field(
        description="The shape of the values, row-major; feature maps map after map: "
        "[channels, height, width]."
    )
    scale: float = Field(ge=0, description="The largest absolute value (1 for a picture).")
    signed: bool = Field(
        description="false: unsigned bytes, value = byte / 255 * scale; true: signed bytes "
        "(two's complement), value = byte / 127 * scale."
    )
    data: str = Field(description="The bytes, one per value, base64-encoded.")


class Step(BaseModel):
    name: str = Field(description='What this stage is, e.g. "cropped to the digit".')
    image: list[list[float]] = Field(description="Rows of values in [0, 1], light on dark.")


class CompactStep(BaseModel):
    name: str = Field(description='What this stage is, e.g. "cropped to the digit".')
    image: Packed = Field(description="Values in [0, 1], light on dark, as bytes.")


class LayerOutput(BaseModel):
    name: str = Field(description='The layer\'s name, e.g. "dense_0", "relu_1", "conv2d_0".')
    title: str = Field(
        description='The layer in words, numbered by kind: "Convolution 1: 32 filters 3×3", '
        '"ReLU", "Dense 2: 10 units, one score per class".'
    )
    kind: str = Field(description='Its kind: "dense", "relu", "conv2d", "max_pool2d"...')
    shape: list[int] = Field(
        description="Its output's shape for one input: [units], or [H, W, C] for feature maps."
    )


class LayerValues(LayerOutput):
    values: list[float] = Field(description="The output, flat, in row-major order of `shape`.")


class PackedLayer(LayerOutput):
    packed: Packed = Field(
        description="The output as bytes on its own scale; feature maps one after another "
        "([C, H, W])."
    )


class Inside(Verdict):
    logits: list[float] = Field(description="The last layer's output: one score per class.")
    notes: list[str] = Field(
        description='What preparing the picture changed or noticed ("strokes thickened", '
        '"small drawing: ...").'
    )


class Explanation(Inside):
    """``POST /explain``: the answer, and what happened inside the network on the way."""

    input: list[list[float]] = Field(description="What the network sees: H rows of W values.")
    steps: list[Step] = Field(
        description="The preparation of a picture, stage by stage, the input last; for JSON "
        "pixel values only the input. Large stages are shrunk to 56 pixels a side."
    )
    layers: list[LayerValues] = Field(description="Every layer's output, first to last.")
    saliency: list[list[float]] = Field(
        description="Gradient of the top class's score (logit) with respect to each input "
        "value, H x W: positive where more ink would raise it."
    )


class CompactExplanation(Inside):
    """``POST /explain?compact=true``: the same answer, its pictures and layer outputs as bytes
    (what the page asks for: a quarter of the size for a CNN)."""

    input: Packed = Field(description="What the network sees, H x W.")
    steps: list[CompactStep] = Field(description="The preparation of a picture, stage by stage.")
    layers: list[PackedLayer] = Field(description="Every layer's output, first to last.")
    saliency: Packed = Field(description="The gradient of the top class's score, H x W.")


class CardLine(BaseModel):
    field: str
    label: str
    text: str = Field(description="The value in words, as the page shows it.")


class Architecture(BaseModel):
    layer_sizes: list[int] = Field(description="Inputs, each hidden layer's width, classes.")
    layers: list[str] = Field(description="Every layer, first to last, in a few words.")
    activation: str
    init: str
    batch_norm: bool
    dropout: float
    l2: float
    l1: float
    dtype: str


class Training(BaseModel):
    optimizer: str
    learning_rate: float = Field(description="The base learning rate (before any schedule).")
    optimizer_settings: dict[str, Any] = Field(description="Momentum, betas... of the optimizer.")
    epochs: int | None = Field(description="Epochs trained; null if never trained.")
    batch_size: int | None
    schedule: str | None = Field(description='Learning-rate schedule, e.g. "cosine".')
    augment: str | None = Field(description="Data augmentation; null for none.")
    n_train: int | None = Field(description="Number of training images.")
    validation_accuracy: float | None = Field(description="After the last epoch.")
    recorded: dict[str, Any] = Field(description="The training record of the model file.")


class ModelCard(BaseModel):
    """``GET /model``: what the model is and how it was trained."""

    file: str | None = Field(description="Name of the model file; null if built in memory.")
    summary: str
    parameters: int = Field(ge=0, description="Trainable parameters.")
    test_accuracy: float | None = Field(
        description="Accuracy on the test set, recorded by `barenet train`; null if unknown."
    )
    class_names: list[str]
    image_shape: list[int] | None = Field(
        description="[height, width] of the input images; null if the inputs are no image."
    )
    architecture: Architecture
    training: Training
    lines: list[CardLine] = Field(description="The card in words, line by line, for people.")


class Health(BaseModel):
    """``GET /health``: the server is up and its model loaded."""

    status: str = Field(description='"ok".')
    model: str | None = Field(description="Name of the model file.")
    classes: int = Field(description="Number of classes the model tells apart.")


class Problem(BaseModel):
    """Every 4xx answer: what was wrong with the request."""

    detail: str = Field(description="The problem, e.g. 'expected 784 pixel values, got 783'.")
