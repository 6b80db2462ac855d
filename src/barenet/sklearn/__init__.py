"""scikit-learn estimators backed by barenet networks: pipelines, grid search, cross-validation.

:class:`MLPClassifier` (softmax, cross-entropy) and :class:`MLPRegressor` (identity output,
squared error) follow scikit-learn's estimator contract (hyperparameters stored as given,
learned attributes ending in ``_``, ``fit`` / ``partial_fit`` / ``predict`` / ``score``) and pass
its ``check_estimator`` suite. Their defaults are chosen to work out of the box on small and
medium tabular data (see :mod:`barenet.sklearn.base`). Needs the optional scikit-learn package
(``pip install barenet[sklearn]``).
"""

try:
    import sklearn  # noqa: F401  (the one optional dependency, named in the error)
except ImportError as exc:
    raise ImportError("barenet.sklearn needs scikit-learn: pip install barenet[sklearn]") from exc

from barenet.sklearn.classifier import MLPClassifier
from barenet.sklearn.regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
