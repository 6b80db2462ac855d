"""barenet: neural networks from scratch in pure NumPy, for learning on MNIST-style images.

The public API, re-exported from the modules that define it::

    from barenet import NeuralNetwork, load_and_preprocess_mnist
    X_train, X_val, X_test, y_train, y_val, y_test = load_and_preprocess_mnist()
    nn = NeuralNetwork(input_size=784, hidden_sizes=[128, 64], output_size=10, learning_rate=0.01)
    nn.train(X_train, y_train, X_val, y_val, epochs=10, batch_size=64)
"""

from barenet.data import (
    DATASETS,
    Dataset,
    data_home,
    dataset_info,
    download_dataset,
    download_mnist,
    load_and_preprocess_mnist,
    load_dataset,
    load_image,
    load_mnist,
    load_own_data,
    preprocess_digit,
    preprocess_image,
    read_idx,
    write_idx,
)
from barenet.errors import (
    BarenetError,
    DataError,
    DataNotFoundError,
    DivergenceError,
    ModelFileError,
    ModelFileNotFoundError,
)
from barenet.network import NeuralNetwork, load_model
from barenet.optim.optimizers import SGD, Adam, AdamW, RMSprop
from barenet.scaling import Standardization
from barenet.validation import InputRangeWarning
from barenet.version import __version__

__all__ = [
    "__version__",
    "DATASETS",
    "Dataset",
    "dataset_info",
    "download_dataset",
    "load_dataset",
    "SGD",
    "Adam",
    "AdamW",
    "BarenetError",
    "DataError",
    "DataNotFoundError",
    "DivergenceError",
    "InputRangeWarning",
    "ModelFileError",
    "ModelFileNotFoundError",
    "NeuralNetwork",
    "RMSprop",
    "Standardization",
    "data_home",
    "download_mnist",
    "load_and_preprocess_mnist",
    "load_image",
    "load_mnist",
    "load_model",
    "load_own_data",
    "preprocess_digit",
    "preprocess_image",
    "read_idx",
    "write_idx",
]
