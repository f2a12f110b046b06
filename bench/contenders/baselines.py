"""What a user gets with no tuning at all: a default LightGBM and a default random forest."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder

from bench.contenders import N_JOBS, Output, Task


def _categorical(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])
            or pd.api.types.is_bool_dtype(frame[c])]


def _split_xy(t: Task) -> tuple[pd.DataFrame, pd.Series]:
    return t.train.drop(columns=[t.target]), t.train[t.target]


def _predict(model, X: pd.DataFrame, task: str) -> Output:
    if task == "regression":
        return Output(np.asarray(model.predict(X), dtype=float))
    return Output(model.predict_proba(X), list(model.classes_))


def lgbm_default(t: Task) -> Output:
    """LGBMClassifier/Regressor with its defaults; text columns as pandas categories (train's levels)."""
    import lightgbm as lgb

    X, y = _split_xy(t)
    X_test = t.test_X.copy()
    X = X.copy()
    for col in _categorical(X):
        levels = pd.Index(X[col].dropna().astype(str).unique())
        X[col] = pd.Categorical(X[col].where(X[col].isna(), X[col].astype(str)), categories=levels)
        X_test[col] = pd.Categorical(X_test[col].where(X_test[col].isna(), X_test[col].astype(str)),
                                     categories=levels)
    cls = lgb.LGBMRegressor if t.task == "regression" else lgb.LGBMClassifier
    model = cls(random_state=t.seed, n_jobs=N_JOBS, verbose=-1).fit(X, y)
    out = _predict(model, X_test, t.task)
    out.extra["models"] = [f"{cls.__name__} (defaults)"]
    return out


def rf_default(t: Task) -> Output:
    """RandomForest with its defaults after ordinal encoding and median imputation."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    X, y = _split_xy(t)
    cats = _categorical(X)
    nums = [c for c in X.columns if c not in cats]
    encode = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="__missing__"),
        OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1))
    pre = ColumnTransformer([("cat", encode, cats), ("num", SimpleImputer(strategy="median"), nums)])
    cls = RandomForestRegressor if t.task == "regression" else RandomForestClassifier
    model = make_pipeline(pre, cls(n_jobs=N_JOBS, random_state=t.seed))
    X = X.copy()
    X_test = t.test_X.copy()
    for col in cats:  # one dtype per column, so the encoder sorts its levels
        X[col] = X[col].where(X[col].isna(), X[col].astype(str))
        X_test[col] = X_test[col].where(X_test[col].isna(), X_test[col].astype(str))
    model.fit(X, y)
    out = _predict(model, X_test, t.task)
    out.extra["models"] = [f"{cls.__name__} (defaults)"]
    return out
