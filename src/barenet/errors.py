"""The exceptions barenet raises for bad data, bad model files and bad arguments.

Every error about user-supplied input is a :class:`BarenetError`, a subclass of
``ValueError``, so ``except ValueError`` keeps working for callers that do not
know barenet. The subclasses say which kind of input was wrong.
"""


class BarenetError(ValueError):
    """Base class of every error barenet raises about bad input."""


class DataError(BarenetError):
    """Input data is wrong: bad shape, NaN values, labels out of range, corrupt IDX file..."""


class ModelFileError(BarenetError):
    """A model or checkpoint file cannot be loaded: not a model file, a pickle, damaged..."""


class ModelFileNotFoundError(ModelFileError, FileNotFoundError):
    """The model or checkpoint file does not exist (``except FileNotFoundError`` catches it)."""


class DataNotFoundError(DataError, FileNotFoundError):
    """The MNIST files are not where barenet looked and could not be downloaded."""


class DivergenceError(BarenetError, ArithmeticError):
    """Training produced a NaN or infinite loss.

    ``epoch`` and ``batch`` (counted from 1), ``loss`` and ``learning_rate`` say where and how,
    so that a caller can say it in its own words (None when unknown)."""

    def __init__(self, message, epoch=None, batch=None, loss=None, learning_rate=None):
        super().__init__(message)
        self.epoch, self.batch, self.loss, self.learning_rate = epoch, batch, loss, learning_rate
