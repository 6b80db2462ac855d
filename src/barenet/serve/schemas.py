"""The JSON answers of the API, as pydantic models: FastAPI validates every answer against them
and publishes them in the OpenAPI description (``/openapi.json``), so the two cannot drift."""

from typing import Any

from pydantic import BaseModel, Field


class Prediction(BaseModel):
    """``POST /predict``: what the network reads in one input."""

    class_index: int = Field(ge=0, description="Index of the most probable class.")
    class_name: str = Field(description="Name of that class (the digit, for MNIST).")
    probability: float = Field(ge=0, le=1, description="Its probability.")
    probabilities: list[float] = Field(
        description="Probability of every class, in class order; they sum to 1."
    )
    class_names: list[str] = Field(description="Name of every class, in class order.")
    image: list[list[float]] = Field(
        description="The input as the network sees it: rows of values in [0, 1] (28 rows of 28 "
        "for MNIST), after preprocessing for an image, as sent for JSON pixel values."
    )


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


class Health(BaseModel):
    """``GET /health``: the server is up and its model loaded."""

    status: str = Field(description='"ok".')
    model: str | None = Field(description="Name of the model file.")
    classes: int = Field(description="Number of classes the model tells apart.")


class Problem(BaseModel):
    """Every 4xx answer: what was wrong with the request."""

    detail: str = Field(description="The problem, e.g. 'expected 784 pixel values, got 783'.")
