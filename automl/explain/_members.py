"""An ensemble explained member by member, in the one space the ensemble averages.

A ``WeightedEnsemble`` averages its members' probabilities (classification) or predictions
(regression), and a weighted average is linear: the weighted sum of each member's SHAP values
in that space is a SHAP decomposition of the ensemble's output. So each member gets its own
cheap, exact backend (TreeSHAP for trees - LightGBM's own ``pred_contrib``, much faster than
shap's reader - the linear explainer for linear models) and only the others (kNN, SVM, MLP)
are sampled, with a small background so they never hold the rest up.

Boosted trees and linear models explain a margin (log-odds, softmax logits, a log link). Their
values are carried into probability (or value) space along the straight line from the base
margin to the row's margin: each margin value is multiplied by the mean slope of the link on
that segment (the integrated gradient of the link), which keeps base + sum = the member's
probability for every row. That is exact TreeSHAP in margin space, rescaled per row; it is
stated in the explainer's name.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from automl.explain._shap_values import (
    BACKENDS,
    ModelExplainer,
    OutputTarget,
    PermutationBackend,
    TreeBackend,
    _pick_output,
    _TransformedSpace,
)

MEMBER_BACKGROUND_ROWS = 10  # a sampled member's background: its cost is linear in these rows
MEMBER_PERMUTATIONS = 1  # one antithetic pair per row: many rows average out, and it is still exactly additive
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(48)  # quadrature of the softmax slope on [0, 1]
_NODES, _WEIGHTS = (_NODES + 1) / 2, _WEIGHTS / 2


class LightGBMBackend(_TransformedSpace):
    """LightGBM's own TreeSHAP (``pred_contrib=True``): the same path-dependent values as shap's
    TreeExplainer, computed in LightGBM's C++ on all cores without converting the trees."""

    kind = "tree"

    def __init__(self, pipeline, features: list[str], target: OutputTarget, **_: Any) -> None:
        super().__init__(pipeline, features, target)
        self.space = "log" if getattr(pipeline[-1], "objective", None) in ("tweedie", "gamma", "poisson") \
            else "margin"
        self.output = target.describe(self.space)
        self.name = "TreeSHAP (LightGBM pred_contrib, path-dependent, exact)"

    def _raw_values(self, Z: np.ndarray) -> tuple[Any, Any]:
        contrib = np.asarray(self.model[-1].predict(Z, pred_contrib=True, num_threads=os.cpu_count() or 1))
        k = len(self.target.classes) if self.target.task == "multiclass" else 1
        per_class = contrib.reshape(len(Z), k, -1)  # LightGBM lays the classes side by side
        values, expected = per_class[:, :, :-1], per_class[0, :, -1]
        return (values[:, 0, :], expected[:1]) if k == 1 else (values.transpose(0, 2, 1), expected)


class EnsembleExplainer(ModelExplainer):
    """Each member's SHAP values in the ensemble's output space, weighted by the ensemble weights."""

    kind = "ensemble"

    def __init__(self, model, features: list[str], target: OutputTarget, background: pd.DataFrame,
                 seed: int = 0, **_: Any) -> None:
        super().__init__(features)
        self.model, self.target = model, target
        self.weights = [float(w) for w in model.weights_]
        bg = background[self.features].head(MEMBER_BACKGROUND_ROWS).reset_index(drop=True)
        self.members = [member_explainer(m, features, target, background, bg, seed) for m in model.estimators_]
        self.seconds = [0.0] * len(self.members)
        self.output = target.describe("value" if target.index is None else "probability")

    @property
    def name(self) -> str:  # read after explaining: a tree member may have switched to its fast attributions
        names: dict[str, float] = {}
        for explainer, w in zip(self.members, self.weights):
            names[explainer.name] = names.get(explainer.name, 0.0) + w
        parts = "; ".join(f"{name} for {w:.0%} of the weight" for name, w in names.items())
        carried = (any(getattr(e, "space", "") in ("margin", "log") for e in self.members)
                   and self.target.index is not None)
        return (f"per member, weighted by the ensemble: {parts}"
                + ("; margins carried to probability along each row's path" if carried else ""))

    def explain(self, X: pd.DataFrame, precise: bool = False) -> tuple[np.ndarray, float]:
        return self.explain_members(X, precise)

    def explain_members(self, X: pd.DataFrame, precise: bool = False,
                        on_member: Callable[[int], None] | None = None) -> tuple[np.ndarray, float]:
        """The weighted sum over members; ``on_member(i)`` is called after member ``i`` (for progress)."""
        total, base = np.zeros((len(X), len(self.features))), 0.0
        for i, (explainer, w) in enumerate(zip(self.members, self.weights)):
            start = time.perf_counter()
            values, b = output_space_values(explainer, X, self.target, precise)
            total += w * values
            base += w * b
            self.seconds[i] += time.perf_counter() - start
            if on_member is not None:
                on_member(i)
        return total, base


def member_explainer(member, features: list[str], target: OutputTarget, background: pd.DataFrame,
                     small_background: pd.DataFrame, seed: int) -> ModelExplainer:
    """The exact backend for a tree or linear member; the permutation explainer (small background) otherwise."""
    kind = member_kind(member, target.task)
    if kind == "tree" and _is_lightgbm(member[-1]):
        return LightGBMBackend(member, features, target)
    backend = BACKENDS.get(kind, PermutationBackend)
    if backend is not PermutationBackend:
        return backend(member, features, target, background=background, seed=seed)
    sampled = PermutationBackend(member, features, target, background=small_background, seed=seed)
    sampled.permutations = MEMBER_PERMUTATIONS
    return sampled


def output_space_values(explainer: ModelExplainer, X: pd.DataFrame, target: OutputTarget,
                        precise: bool = False) -> tuple[np.ndarray, float]:
    """``explainer``'s values of ``X`` as contributions to the probability (classification) or value."""
    space = getattr(explainer, "space", "probability")
    if not isinstance(explainer, _TransformedSpace) or space in ("probability", "value") or (
            target.index is None and space == "margin"):
        return explainer.explain(X, precise)
    raw, expected = explainer.raw_values(X)
    if target.index is None:  # a log link: value = exp(margin)
        values, base = _pick_output(raw, expected, target)
        return _secant(values, base, np.exp)
    if np.asarray(raw).ndim == 3 and len(target.classes) > 2:
        return _softmax_path(np.asarray(raw, dtype=float), np.atleast_1d(expected).astype(float), target.index)
    values, base = _pick_output(raw, expected, target)
    return _secant(values, base, _sigmoid)


def _secant(values: np.ndarray, base: float, link: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, float]:
    """Scale each row's margin values by the link's mean slope between the base and the row's margin."""
    margin = base + values.sum(axis=1)
    step = margin - base
    h = 1e-6
    slope_at_base = (link(np.asarray(base + h)) - link(np.asarray(base - h))) / (2 * h)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(np.abs(step) > 1e-9, (link(margin) - link(np.asarray(base))) / step, slope_at_base)
    return values * slope[:, None], float(link(np.asarray(base)))


def _softmax_path(raw: np.ndarray, expected: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    """Class ``k``'s probability change split over features: sum_c (mean d p_k / d margin_c) * value_c."""
    step = raw.sum(axis=1)  # (n, K)
    slope = np.zeros_like(step)
    for t, w in zip(_NODES, _WEIGHTS):
        p = _softmax(expected + t * step)
        slope += w * p[:, [k]] * (np.eye(step.shape[1])[k] - p)
    return np.einsum("nc,nfc->nf", slope, raw), float(_softmax(expected[None, :])[0, k])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(m: np.ndarray) -> np.ndarray:
    e = np.exp(m - m.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _is_lightgbm(estimator: Any) -> bool:
    try:
        from lightgbm import LGBMModel
    except ImportError:  # pragma: no cover - lightgbm is a dependency
        return False
    return isinstance(estimator, LGBMModel)


def member_kind(member: Any, task: str) -> str:
    """The registry's explainer family of a fitted member Pipeline, found by its estimator's class."""
    if not hasattr(member, "named_steps"):
        return "kernel"
    return _kinds_by_class(task).get(type(member[-1]), "kernel")


@lru_cache(maxsize=4)
def _kinds_by_class(task: str) -> dict[type, str]:
    from automl.algorithms import ALGORITHMS

    kinds: dict[type, str] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for algo in ALGORITHMS.values():
            try:
                kinds.setdefault(type(algo.make({}, task, 0)), algo.explainer)
            except Exception:  # noqa: BLE001 - an algorithm that does not do this task
                continue
    return kinds




def build_explainer(model, kind: str, features: list[str], target: OutputTarget, background: pd.DataFrame,
                    seed: int = 0) -> ModelExplainer:
    """The backend for ``kind`` (the registry's tree | linear | kernel); an ensemble member by member."""
    if hasattr(model, "estimators_") and hasattr(model, "weights_"):
        return EnsembleExplainer(model, features, target, background=background, seed=seed)
    if not hasattr(model, "named_steps"):
        return PermutationBackend(model, features, target, background=background, seed=seed)
    if kind == "tree" and _is_lightgbm(model[-1]):
        return LightGBMBackend(model, features, target)
    return BACKENDS.get(kind, PermutationBackend)(model, features, target, background=background, seed=seed)


__all__ = ["EnsembleExplainer", "LightGBMBackend", "TreeBackend", "build_explainer", "member_explainer",
           "member_kind", "output_space_values"]
