"""Preprocessing built from the schema, living inside the model's Pipeline.

Two styles, chosen by the algorithm's registry entry:

* ``tree`` — numbers pass through with their NaNs (LightGBM and scikit-learn's
  trees handle missing values natively), categories become ordinal codes.
* ``linear`` — numbers are imputed (with a missing indicator) and scaled,
  low-cardinality categories one-hot encoded, high-cardinality ones target encoded.

The first step, :class:`FrameCoercer`, makes raw rows safe: it checks and
casts columns to the training schema, so a prediction never crashes on an
int where a string was seen, an unseen category or an extra column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder, StandardScaler, TargetEncoder

from automl.data._rules import canonical_categories, require_columns
from automl.data._schema import BOOLEAN, CATEGORICAL, DATETIME, NUMERIC, Schema

ONE_HOT_MAX = 20
MISSING = "__missing__"


class FrameCoercer(BaseEstimator, TransformerMixin):
    """Select the training columns and cast each to its kind.

    Missing columns raise a :class:`DataError` naming them; extra columns are
    ignored; unparsable numbers and infinities become NaN (imputed downstream).
    """

    def __init__(self, numeric: list[str] | None = None, categorical: list[str] | None = None,
                 datetime: list[str] | None = None) -> None:
        self.numeric = numeric
        self.categorical = categorical
        self.datetime = datetime

    def fit(self, X: pd.DataFrame, y=None) -> FrameCoercer:
        self.feature_names_in_ = np.asarray(self._columns(), dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def _columns(self) -> list[str]:
        return [*(self.numeric or []), *(self.categorical or []), *(self.datetime or [])]

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(X, columns=list(self.feature_names_in_))
        require_columns(X, self._columns())
        out = {}
        for col in self.numeric or []:
            # inf is no number a model can split or scale on: missing, like any unreadable value
            out[col] = pd.to_numeric(X[col], errors="coerce").astype("float64").replace([np.inf, -np.inf], np.nan)
        for col in self.categorical or []:
            out[col] = canonical_categories(X[col])
        for col in self.datetime or []:
            out[col] = pd.to_datetime(X[col], errors="coerce", format="mixed")
        return pd.DataFrame(out, index=X.index)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray(self._columns(), dtype=object)


class DatetimeParts(BaseEstimator, TransformerMixin):
    """Year, month, day, weekday, day of year (and hour, if training had times)."""

    def fit(self, X: pd.DataFrame, y=None) -> DatetimeParts:
        col = pd.to_datetime(pd.DataFrame(X).iloc[:, 0], errors="coerce")
        self.with_hour_ = bool((col.dt.hour.fillna(0) != 0).any())
        self.n_features_in_ = 1
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        col = pd.to_datetime(pd.DataFrame(X).iloc[:, 0], errors="coerce")
        parts = [col.dt.year, col.dt.month, col.dt.day, col.dt.dayofweek, col.dt.dayofyear]
        if self.with_hour_:
            parts.append(col.dt.hour)
        return np.column_stack([p.astype("float64").to_numpy() for p in parts])

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        names = ["year", "month", "day", "weekday", "dayofyear"] + (["hour"] if self.with_hour_ else [])
        base = input_features[0] if input_features is not None else "date"
        return np.asarray([f"{base}_{n}" for n in names], dtype=object)


def make_coercer(schema: Schema) -> FrameCoercer:
    return FrameCoercer(numeric=schema.of_kind(NUMERIC), categorical=schema.of_kind(CATEGORICAL, BOOLEAN),
                        datetime=schema.of_kind(DATETIME))


def build_preprocessor(schema: Schema, style: str = "tree", task: str = "binary", seed: int = 0) -> ColumnTransformer:
    """The ColumnTransformer for ``schema`` in the given ``style`` ('tree' or 'linear').

    ``task`` tells the target encoder what the target is (a float target with
    integer values would otherwise be mistaken for hundreds of classes); ``seed``
    fixes its cross-fitting folds, so a seeded search repeats exactly.
    """
    target_type = "continuous" if task == "regression" else task
    numeric, datetime = schema.of_kind(NUMERIC), schema.of_kind(DATETIME)
    categorical = schema.of_kind(CATEGORICAL, BOOLEAN)
    steps: list[tuple[str, object, list[str]]] = []
    if style == "tree":
        if numeric:
            steps.append(("num", "passthrough", numeric))
        if categorical:
            steps.append(("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                                dtype=np.float64), categorical))
        for i, col in enumerate(datetime):
            steps.append((f"date{i}", DatetimeParts(), [col]))
    elif style == "linear":
        # Numbers are held to their training range before scaling: a line fitted on them extrapolates without
        # bound on a row beyond it (ames: the largest houses of the test rows priced far above any sale), where
        # a tree stays at its edge. ``MinMaxScaler(clip=True)`` does the clip and converts to ONNX as it is.
        for i, col in enumerate(numeric):
            steps.append((f"num{i}", Pipeline([
                ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
                ("clip", MinMaxScaler(clip=True)), ("scale", StandardScaler())]), [col]))
        for i, col in enumerate(categorical):
            if schema[col].n_unique <= ONE_HOT_MAX:
                encoder = Pipeline([("impute", SimpleImputer(strategy="constant", fill_value=MISSING)),
                                    ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False))])
            else:
                encoder = Pipeline([("impute", SimpleImputer(strategy="constant", fill_value=MISSING)),
                                    ("target", TargetEncoder(target_type=target_type, random_state=seed)),
                                    ("scale", StandardScaler())])
            steps.append((f"cat{i}", encoder, [col]))
        for i, col in enumerate(datetime):
            steps.append((f"date{i}", Pipeline([
                ("parts", DatetimeParts()),
                ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                ("scale", StandardScaler())]), [col]))
    else:
        raise ValueError(f"The 'style' parameter must be 'tree' or 'linear'. Got {style!r} instead.")
    return ColumnTransformer(steps, remainder="drop", sparse_threshold=0.0, verbose_feature_names_out=False)


def build_pipeline(schema: Schema, estimator: BaseEstimator, style: str = "tree", task: str = "binary",
                   seed: int = 0) -> Pipeline:
    """Raw rows in, predictions out: coercer, preprocessor, estimator."""
    return Pipeline([("coerce", make_coercer(schema)), ("preprocess", build_preprocessor(schema, style, task, seed)),
                     ("model", estimator)])


def feature_origins(pipeline: Pipeline) -> list[str]:
    """The original column each transformed feature comes from, in output order.

    Lets SHAP values of one-hot or date-part columns be summed back into the
    column the user knows.
    """
    ct: ColumnTransformer = pipeline.named_steps["preprocess"]
    width = sum(s.stop - s.start for s in ct.output_indices_.values())
    origins: list[str | None] = [None] * width
    for name, _, columns in ct.transformers_:
        block = ct.output_indices_.get(name)
        if block is None or block.stop == block.start:
            continue
        columns = list(columns)
        size = block.stop - block.start
        if len(columns) == 1:
            origins[block] = columns * size
        elif size == len(columns):
            origins[block] = columns
        else:
            raise ValueError(f"Transformer {name!r} maps {len(columns)} columns to {size} outputs.")
    return [str(o) for o in origins]
