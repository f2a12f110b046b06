"""SHAP values per original column, computed with the right explainer for each model.

The algorithm registry's ``explainer`` field picks the backend (no ``if name ==`` chain):

* ``tree`` - ``shap.TreeExplainer``, path-dependent (exact, no background, fast) on the
  transformed matrix. shap 0.51 reads LightGBM, random forests, extra trees and also
  scikit-learn's HistGradientBoosting (binary, multiclass and regression; additivity is tested).
* ``linear`` - ``shap.LinearExplainer`` (interventional) with a background sample, transformed matrix.
* ``kernel`` - ``shap.PermutationExplainer`` on raw rows through the whole model (kNN, SVM, MLP and
  every WeightedEnsemble). Chosen over KernelExplainer: antithetic permutations are exactly
  additive and need about 2M+1 model calls per permutation instead of Kernel SHAP's 2M+2048
  coalitions, and the game is played over the columns the user knows.

Transformed-space values are summed back into original columns with ``feature_origins``.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shap

from automl.data import feature_origins
from automl.explain._coded_model import CodedModel

REGRESSION = "regression"
LOG_LINK_OBJECTIVES = ("tweedie", "gamma", "poisson")  # LightGBM losses whose raw score is log(prediction)
BACKGROUND_ROWS = 100  # rows the model-agnostic explainer integrates over (sampled, seeded)
LINEAR_BACKGROUND_ROWS = 1000  # LinearExplainer only needs their mean: more rows cost nothing
PERMUTATIONS_GLOBAL = 2  # antithetic pairs per row for global explanations (many rows average out)
PERMUTATIONS_LOCAL = 10  # ... and for one row, where precision matters more than breadth
_LOCK = threading.RLock()  # guards numpy's global RNG while shap uses it


@dataclass(frozen=True)
class OutputTarget:
    """Which model output is explained: one class (by index into ``classes_``) or the prediction."""

    task: str
    classes: tuple
    index: int | None
    name: str  # the class as text, or the target column for regression

    def describe(self, space: str) -> str:
        if self.task == REGRESSION:
            return f"log of the predicted value of '{self.name}'" if space == "log" else \
                f"predicted value of '{self.name}'"
        if space == "probability":
            return f"probability of class '{self.name}'"
        if self.task == "binary":
            return f"log-odds of class '{self.name}'"
        return f"raw score (softmax logit) of class '{self.name}'"


class ModelExplainer:
    """One fitted model wrapped with its SHAP explainer; ``explain`` returns per-original-column values."""

    kind = ""
    name = ""
    output = ""
    model: Any
    target: OutputTarget

    def __init__(self, features: list[str]) -> None:
        self.features = list(features)

    def explain(self, X: pd.DataFrame, precise: bool = False) -> tuple[np.ndarray, float]:
        """SHAP values (n_rows, n_features) of raw rows ``X`` and the base value."""
        raise NotImplementedError


class _TransformedSpace(ModelExplainer):
    """Explains the final estimator on ``pipeline[:-1].transform(X)``, then sums back to original columns."""

    def __init__(self, pipeline, features: list[str], target: OutputTarget) -> None:
        super().__init__(features)
        self.model, self.prep, self.target = pipeline, pipeline[:-1], target
        origins = feature_origins(pipeline)
        self.to_original = np.zeros((len(origins), len(self.features)))
        for j, origin in enumerate(origins):
            self.to_original[j, self.features.index(origin)] = 1.0

    def _raw_values(self, Z: np.ndarray) -> tuple[Any, Any]:
        raise NotImplementedError

    def explain(self, X: pd.DataFrame, precise: bool = False) -> tuple[np.ndarray, float]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Z = np.asarray(self.prep.transform(X), dtype=np.float64)
            values, expected = self._raw_values(Z)
        values, base = _pick_output(values, expected, self.target)
        return values @ self.to_original, base


class TreeBackend(_TransformedSpace):
    kind = "tree"

    def __init__(self, pipeline, features: list[str], target: OutputTarget, **_: Any) -> None:
        super().__init__(pipeline, features, target)
        self.explainer = shap.TreeExplainer(pipeline[-1], feature_perturbation="tree_path_dependent")
        space = "probability" if self.explainer.model.tree_output == "probability" else "margin"
        if getattr(pipeline[-1], "objective", None) in LOG_LINK_OBJECTIVES:
            space = "log"  # the trees add up log(prediction): the values are on that scale
        self.output = target.describe(space)
        self.name = "TreeExplainer (path-dependent, exact)"

    def _raw_values(self, Z: np.ndarray) -> tuple[Any, Any]:
        return self.explainer.shap_values(Z, check_additivity=False), self.explainer.expected_value


class LinearBackend(_TransformedSpace):
    kind = "linear"

    def __init__(self, pipeline, features: list[str], target: OutputTarget, background: pd.DataFrame,
                 **_: Any) -> None:
        super().__init__(pipeline, features, target)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Z = np.asarray(self.prep.transform(background.head(LINEAR_BACKGROUND_ROWS)), dtype=np.float64)
        self.explainer = shap.LinearExplainer(pipeline[-1], shap.maskers.Independent(Z, max_samples=len(Z)))
        self.output = target.describe("margin")
        self.name = f"LinearExplainer (interventional, {len(Z):,} background rows)"

    def _raw_values(self, Z: np.ndarray) -> tuple[Any, Any]:
        return self.explainer.shap_values(Z), self.explainer.expected_value


class PermutationBackend(ModelExplainer):
    """Model-agnostic: the whole model over original columns, so ensembles of differently preprocessed
    members work too; the game is played over the columns the user knows."""

    kind = "kernel"

    def __init__(self, model, features: list[str], target: OutputTarget, background: pd.DataFrame,
                 seed: int = 0, **_: Any) -> None:
        super().__init__(features)
        self.model, self.target, self.seed = model, target, seed
        bg = background[self.features].head(BACKGROUND_ROWS).reset_index(drop=True)
        self.coded = CodedModel(model, self.features, target)
        codes = self.coded.encode(bg)
        self.coded.check(codes, np.random.default_rng(seed))
        with _LOCK, isolated_global_rng(seed), warnings.catch_warnings():  # shap draws from numpy's global RNG
            warnings.simplefilter("ignore")
            self.explainer = shap.PermutationExplainer(self.coded, shap.maskers.Independent(codes, max_samples=len(bg)),
                                                       feature_names=self.features)
            # The first call compiles shap's numba code (seconds); do it now, not inside a time budget.
            self.explainer(codes[:1], max_evals=2 * len(self.features) + 1, silent=True)
        self.output = target.describe("probability" if target.index is not None else "value")
        self.name = f"PermutationExplainer (model-agnostic, {len(bg)} background rows)"

    def explain(self, X: pd.DataFrame, precise: bool = False) -> tuple[np.ndarray, float]:
        perms = PERMUTATIONS_LOCAL if precise else PERMUTATIONS_GLOBAL
        # One explanation at a time: the code tables grow and the global RNG is borrowed
        # (a dashboard may share this explainer between sessions' threads).
        with _LOCK, isolated_global_rng(self.seed), warnings.catch_warnings():
            codes = self.coded.encode(X[self.features])
            warnings.simplefilter("ignore")
            result = self.explainer(codes, max_evals=perms * (2 * len(self.features) + 1), silent=True)
        return np.asarray(result.values, dtype=float), float(np.mean(result.base_values))


BACKENDS: dict[str, type[ModelExplainer]] = {"tree": TreeBackend, "linear": LinearBackend,
                                             "kernel": PermutationBackend}


def build_explainer(model, kind: str, features: list[str], target: OutputTarget, background: pd.DataFrame,
                    seed: int = 0) -> ModelExplainer:
    """The backend for ``kind`` (the registry's tree | linear | kernel); anything else goes model-agnostic."""
    backend = BACKENDS.get(kind, PermutationBackend)
    if backend is not PermutationBackend and not hasattr(model, "named_steps"):
        backend = PermutationBackend  # an ensemble (or anything not a Pipeline) has no single transformed space
    return backend(model, features, target, background=background, seed=seed)


def explain_in_chunks(explainer: ModelExplainer, X: pd.DataFrame,
                      time_budget: float | None = None) -> tuple[np.ndarray, float, int]:
    """Explain rows in order, stopping before the time budget runs out; returns (values, base, rows done).

    The rows are a seeded random order already, so the rows done are a random sample too.
    """
    chunk = 5 if explainer.kind == "kernel" else 2000
    parts, bases, done, start = [], [], 0, time.perf_counter()
    while done < len(X):
        values, base = explainer.explain(X.iloc[done: done + chunk])
        parts.append(values)
        bases.append(base)
        done += len(values)
        elapsed = time.perf_counter() - start
        if time_budget is not None and elapsed + elapsed / done * min(chunk, len(X) - done) > time_budget:
            break
    return np.vstack(parts), float(bases[0]), done


def _pick_output(values: Any, expected: Any, target: OutputTarget) -> tuple[np.ndarray, float]:
    """One output's values from shap's (n, f), (n, f, k) or list-of-(n, f) results."""
    if isinstance(values, list):
        values = np.stack(values, axis=-1)
    values = np.asarray(values, dtype=float)
    expected = np.atleast_1d(np.asarray(expected, dtype=float))
    if values.ndim == 3:
        return values[:, :, target.index], float(expected[target.index])
    if target.index == 0 and len(target.classes) == 2:
        # A 2-D binary result is the margin of classes_[1]; class 0's margin is its negative.
        return -values, -float(expected[0])
    return values, float(expected[0])


@contextmanager
def isolated_global_rng(seed: int) -> Iterator[None]:
    """Seed numpy's global RNG for shap's sake and put its previous state back afterwards."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)
