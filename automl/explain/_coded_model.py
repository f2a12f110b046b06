"""The model as a fast function of per-column value codes, for model-agnostic SHAP.

A model-agnostic explainer evaluates the model on thousands of rows that mix one row's
values with background rows' values, column by column. Running the whole Pipeline on each
mix is slow (the coercer and encoders dominate for kNN, SVM, MLP). Our preprocessing is
column-separable (every original column is transformed on its own), so a mixed row
transforms to the same mix of each column's transformed block. So each column value is
given a code, each distinct value is transformed once, and a mix is assembled by table
look-up and passed to the final estimators only. ``check`` compares this with the real
model on mixed rows and falls back to the whole model when they differ.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from automl.data import feature_origins


class CodedModel:
    """``self(codes) -> output`` for an (n, n_features) float matrix of value codes."""

    def __init__(self, model: Any, features: list[str], target: Any) -> None:
        self.model, self.features, self.target = model, list(features), target
        members = getattr(model, "estimators_", None)
        self.members = list(members) if members is not None else [model]
        self.weights = list(getattr(model, "weights_", [1.0]))
        self.vocab: list[list] = [[] for _ in self.features]
        self.index: list[dict] = [{} for _ in self.features]
        self.tables: list[list[np.ndarray]] = []
        self.blocks: list[list[np.ndarray]] = []
        self.widths: list[int] = []
        self.fast = all(hasattr(m, "named_steps") and "preprocess" in m.named_steps for m in self.members)
        try:
            for member in self.members if self.fast else []:
                origins = np.asarray(feature_origins(member), dtype=object)
                self.blocks.append([np.flatnonzero(origins == f) for f in self.features])
                self.widths.append(len(origins))
                self.tables.append([np.empty((0, len(b))) for b in self.blocks[-1]])
        except ValueError:  # a transformer mixing columns: no per-column blocks
            self.fast = False

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """Codes of ``frame``'s values; values never seen before are added (a form may type new ones)."""
        out = np.empty((len(frame), len(self.features)))
        for j, col in enumerate(self.features):
            vocab, index = self.vocab[j], self.index[j]
            for i, value in enumerate(frame[col].tolist()):
                key = None if _is_missing(value) else value
                code = index.get(key)
                if code is None:
                    code = index[key] = len(vocab)
                    vocab.append(key)
                out[i, j] = code
        if self.fast:
            self._extend_tables()
        return out

    def _extend_tables(self) -> None:
        new = [len(v) - len(t) for v, t in zip(self.vocab, self.tables[0])]
        if max(new) <= 0:
            return
        n = max(new)
        frame = pd.DataFrame({col: [self.vocab[j][min(len(self.tables[0][j]) + k, len(self.vocab[j]) - 1)]
                                    for k in range(n)] for j, col in enumerate(self.features)})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for m, member in enumerate(self.members):
                Z = np.asarray(member[:-1].transform(frame), dtype=np.float64)
                for j, block in enumerate(self.blocks[m]):
                    self.tables[m][j] = np.vstack([self.tables[m][j], Z[: new[j]][:, block]])

    def decode(self, codes: np.ndarray) -> pd.DataFrame:
        """The raw rows the codes stand for."""
        idx = codes.astype(int)
        return pd.DataFrame({col: np.asarray(self.vocab[j], dtype=object)[idx[:, j]]
                             for j, col in enumerate(self.features)})

    def __call__(self, codes: np.ndarray) -> np.ndarray:
        if not self.fast:
            return self.slow(codes)
        idx = codes.astype(int)
        total = np.zeros(len(codes))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for m, member in enumerate(self.members):
                Z = np.empty((len(codes), self.widths[m]))
                for j, block in enumerate(self.blocks[m]):
                    Z[:, block] = self.tables[m][j][idx[:, j]]
                total += self.weights[m] * _output(member[-1], Z, self.target)
        return total

    def slow(self, codes: np.ndarray) -> np.ndarray:
        """The whole model on decoded raw rows: the reference the fast path must match."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _output(self.model, self.decode(codes), self.target)

    def check(self, codes: np.ndarray, rng: np.random.Generator, n: int = 20) -> bool:
        """Compare fast and whole-model outputs on rows mixing two coded rows; go slow if they differ."""
        if not self.fast or len(codes) == 0:
            return self.fast
        a, b = rng.integers(len(codes), size=n), rng.integers(len(codes), size=n)
        mixed = np.where(rng.random((n, codes.shape[1])) < 0.5, codes[a], codes[b])
        self.fast = bool(np.allclose(self(mixed), self.slow(mixed), rtol=1e-6, atol=1e-9))
        return self.fast


def _output(model: Any, X: Any, target: Any) -> np.ndarray:
    if target.index is None:
        return np.asarray(model.predict(X), dtype=float)
    return np.asarray(model.predict_proba(X), dtype=float)[:, target.index]


def _is_missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
