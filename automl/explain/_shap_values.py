"""SHAP values per original column, computed with the right explainer for each model.

The algorithm registry's ``explainer`` field picks the backend (no ``if name ==`` chain):

* ``tree`` - ``shap.TreeExplainer``, path-dependent (exact, no background) on the transformed
  matrix: random forests, extra trees, HistGradientBoosting (LightGBM uses its own ``pred_contrib``,
  see ``_members``).
* ``linear`` - ``shap.LinearExplainer`` (interventional) with a background sample, transformed matrix.
* ``kernel`` - antithetic permutation sampling on raw rows (kNN, SVM, MLP), our own :func:`sampled_shap`:
  exactly additive, about 2M+1 evaluations per permutation (Kernel SHAP needs 2M+2048 coalitions), one
  model call per step for all rows, and the game is played over the columns the user knows.
  Deep forests whose exact TreeSHAP is too slow use Saabas path attributions (named on the page).

An ensemble is explained member by member (``_members``).
Transformed-space values are summed back into original columns with ``feature_origins``.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
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
MIN_ROWS = 1000  # a time budget never explains fewer rows than this (or than the table has)
ENSEMBLE_CHUNK = 500  # rows per step of an ensemble: every member explains a chunk, then progress moves
_LOCK = threading.RLock()  # one explanation at a time per explainer: its code tables grow as rows arrive


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
    space = "probability"  # what the values add up to: probability | margin | log (the ensemble reads it)
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

    def raw_values(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Every output's values in original columns: (n, f) or (n, f, k), and the expected value(s)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Z = np.asarray(self.prep.transform(X[self.features]), dtype=np.float64)
            values, expected = self._raw_values(Z)
        if isinstance(values, list):
            values = np.stack(values, axis=-1)
        values = np.asarray(values, dtype=float)
        summed = np.einsum("nz...,zf->nf...", values, self.to_original)  # encoded parts -> original column
        return summed, np.atleast_1d(np.asarray(expected, dtype=float))

    def explain(self, X: pd.DataFrame, precise: bool = False) -> tuple[np.ndarray, float]:
        values, expected = self.raw_values(X)
        return _pick_output(values, expected, self.target)


EXACT_TREE_NAME = "TreeSHAP (shap TreeExplainer, path-dependent, exact)"
EXACT_TREE_S_PER_1000_ROWS = 2.0  # a tree member slower than this is explained with Saabas attributions
EXACT_ROWS = 16
NS_PER_LEAF_DEPTH2 = 0.55  # exact TreeSHAP's cost per row and leaf x depth^2, measured (RF and extra trees alike)


class TreeBackend(_TransformedSpace):
    kind = "tree"

    def __init__(self, pipeline, features: list[str], target: OutputTarget, **_: Any) -> None:
        super().__init__(pipeline, features, target)
        self.explainer = shap.TreeExplainer(pipeline[-1], feature_perturbation="tree_path_dependent")
        space = "probability" if self.explainer.model.tree_output == "probability" else "margin"
        if getattr(pipeline[-1], "objective", None) in LOG_LINK_OBJECTIVES:
            space = "log"  # the trees add up log(prediction): the values are on that scale
        self.space = space
        self.output = target.describe(space)
        # Exact TreeSHAP costs grow with leaves x depth^2 per tree: a 200-tree extra-trees member of 390-node
        # trees took 16 ms a row (Explain waited 30 s on titanic's 712 rows). Saabas' attributions follow each
        # row's own path (one feature order), add up exactly to the prediction and take 0.1 ms a row.
        seconds = self.exact_seconds_per_1000_rows()
        self.approximate = seconds > EXACT_TREE_S_PER_1000_ROWS
        self.name = EXACT_TREE_NAME if not self.approximate else (
            "Saabas tree path attributions (shap approximate: additive, one feature order; exact TreeSHAP "
            f"would take about {seconds:.0f} s per 1,000 rows here)")

    def exact_seconds_per_1000_rows(self) -> float:
        """Exact TreeSHAP's cost from the trees' size (leaves x depth^2), not a clock: the same model is
        explained the same way on every machine."""
        trees = self.explainer.model
        leaves = float(((np.asarray(trees.num_nodes) + 1) / 2).sum())
        return leaves * float(trees.max_depth) ** 2 * NS_PER_LEAF_DEPTH2 * 1e-9 * 1000

    def _raw_values(self, Z: np.ndarray) -> tuple[Any, Any]:
        fast = self.approximate and len(Z) > EXACT_ROWS  # a row or a few (a waterfall) are always exact
        return (self.explainer.shap_values(Z, approximate=fast, check_additivity=False),
                self.explainer.expected_value)


class LinearBackend(_TransformedSpace):
    kind = "linear"

    def __init__(self, pipeline, features: list[str], target: OutputTarget, background: pd.DataFrame,
                 **_: Any) -> None:
        super().__init__(pipeline, features, target)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Z = np.asarray(self.prep.transform(background.head(LINEAR_BACKGROUND_ROWS)), dtype=np.float64)
        self.explainer = shap.LinearExplainer(pipeline[-1], shap.maskers.Independent(Z, max_samples=len(Z)))
        self.space = "margin"
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
        self.permutations = PERMUTATIONS_GLOBAL
        bg = background[self.features].head(BACKGROUND_ROWS).reset_index(drop=True)
        self.coded = CodedModel(model, self.features, target)
        codes = self.coded.encode(bg)
        self.coded.check(codes, np.random.default_rng(seed))
        self.background = codes
        self.output = target.describe("probability" if target.index is not None else "value")
        self.name = f"Permutation SHAP (sampled: model-agnostic, antithetic, {len(bg)} background rows)"

    def explain(self, X: pd.DataFrame, precise: bool = False) -> tuple[np.ndarray, float]:
        # One explanation at a time: the code tables grow (a dashboard may share this explainer between
        # sessions' threads).
        with _LOCK:
            codes = self.coded.encode(X[self.features])
            return sampled_shap(self.coded, codes, self.background,
                                PERMUTATIONS_LOCAL if precise else self.permutations, self.seed)


def sampled_shap(f: Callable[[np.ndarray], np.ndarray], X: np.ndarray, background: np.ndarray, pairs: int,
                 seed: int) -> tuple[np.ndarray, float]:
    """Interventional SHAP by antithetic permutation sampling, every row at once.

    Each row gets its own random feature order and its reverse; walking an order switches one feature from
    the background rows to the row's value, and the change in the mean output is that feature's share. Each
    walk adds up exactly to f(row) - mean f(background). One model call per step for all rows (shap's
    explainer made one per row, and compiled numba code first: 20 s before the first value).
    """
    rng = np.random.default_rng(seed)
    n, p = X.shape
    m = len(background)
    phi = np.zeros((n, p))
    tiled_bg = np.tile(background, (n, 1))  # row i's copy of the background: rows i*m .. i*m+m-1
    tiled_x = np.repeat(X, m, axis=0)
    base_out = f(background)
    base = float(np.mean(base_out))
    rows = np.arange(n)
    for _ in range(pairs):
        order = np.argsort(rng.random((n, p)), axis=1)
        for walk in (order, order[:, ::-1]):
            mask = np.zeros((n, p), dtype=bool)
            previous = np.full(n, base)
            for step in range(p):
                mask[rows, walk[:, step]] = True
                mixed = np.where(np.repeat(mask, m, axis=0), tiled_x, tiled_bg)
                current = f(mixed).reshape(n, m).mean(axis=1)
                phi[rows, walk[:, step]] += current - previous
                previous = current
    return phi / (2 * pairs), base


BACKENDS: dict[str, type[ModelExplainer]] = {"tree": TreeBackend, "linear": LinearBackend,
                                             "kernel": PermutationBackend}


def explain_in_chunks(explainer: ModelExplainer, X: pd.DataFrame, time_budget: float | None = None,
                      progress: Callable[[float, str], None] | None = None,
                      min_rows: int = MIN_ROWS) -> tuple[np.ndarray, float, int]:
    """Explain rows in order, stopping before the time budget runs out (never below ``min_rows``).

    Returns (values, base, rows done). The rows are a seeded random order already, so the rows done are a
    random sample too. ``progress(fraction, text)`` is called after each chunk (and each ensemble member).
    """
    chunk = 5 if explainer.kind == "kernel" else ENSEMBLE_CHUNK if explainer.kind == "ensemble" else 2000
    parts, bases, done, start = [], [], 0, time.perf_counter()
    members = getattr(explainer, "members", None)
    while done < len(X):
        rows = X.iloc[done: done + chunk]
        if members is not None:
            def on_member(i: int, done: int = done, n: int = len(rows)) -> None:
                _report(progress, (done + n * (i + 1) / len(members)) / len(X),
                        f"member {i + 1} of {len(members)} on rows {done + 1:,}-{done + n:,} of {len(X):,}")
            values, base = explainer.explain_members(rows, on_member=on_member)
        else:
            values, base = explainer.explain(rows)
        parts.append(values)
        bases.append(base)
        done += len(values)
        _report(progress, done / len(X), f"{done:,} of {len(X):,} rows explained")
        elapsed = time.perf_counter() - start
        over = time_budget is not None and elapsed + elapsed / done * min(chunk, len(X) - done) > time_budget
        if over and done >= min(min_rows, len(X)):
            break
    _report(progress, 1.0, f"{done:,} rows explained")
    return np.vstack(parts), float(bases[0]), done


def _report(progress: Callable[[float, str], None] | None, fraction: float, text: str) -> None:
    if progress is not None:
        progress(min(max(fraction, 0.0), 1.0), text)


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
