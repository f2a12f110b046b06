"""Which rows a kNN model's prediction hangs on a tie that scikit-learn's search order breaks.

When the k-th and (k+1)-th nearest training rows are equally far, scikit-learn takes one of them in the order its
heap or tree visits the rows, which the ONNX graph can't follow (automl/deploy/_onnx_knn.py takes the lower index):
tests comparing the two leave such rows out and check that they stay few.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor


def last_place_tied(model, X: pd.DataFrame) -> np.ndarray:
    """Rows (bool mask) whose k-th and (k+1)-th neighbours are equally far (to 1e-6) with no training row at 0;
    none for a model that isn't a kNN pipeline."""
    est = model.steps[-1][1] if hasattr(model, "steps") else None
    if not isinstance(est, (KNeighborsClassifier, KNeighborsRegressor)) or est.n_neighbors >= est.n_samples_fit_:
        return np.zeros(len(X), dtype=bool)
    k = est.n_neighbors
    dist, _ = est.kneighbors(model[:-1].transform(X), n_neighbors=k + 1)
    return np.isclose(dist[:, k - 1], dist[:, k], rtol=1e-6, atol=1e-9) & (dist[:, 0] > 0)
