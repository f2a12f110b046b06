"""HistGradientBoosting's trees written as a few arrays instead of one object per tree.

skops writes every ``TreePredictor`` as its own object with three arrays, and checks each array's file name
against a fresh list of every name already in the archive: the cost grows with the square of the trees. A
car-evaluation ensemble of three multiclass HistGradientBoosting models (5,256 trees) took 10 s to write and
2 s to read, and the benchmark's fit and predict took 63.8 s of a 60 s budget. :class:`PackedTrees` stands
in for the model's ``_predictors`` list (it is one, as far as scikit-learn, skl2onnx and SHAP use it) and is
written as six arrays; reading it back slices them into the same ``TreePredictor`` objects. :func:`pack_trees`
puts it in place before a model is written. The slicing is checked here; the node indices inside each tree are
checked after loading, as for any tree (``_model_check``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

BITSET_WIDTH = 8  # uint32 words per categorical bitset row (scikit-learn's X_BITSET_INNER_DTYPE rows)


class PackedTrees:
    """A HistGradientBoosting model's trees (a list, per iteration, of one tree per class) that skops writes
    as one array of nodes and one of each bitset kind, with each tree's row counts."""

    def __init__(self, trees: list[list[Any]]) -> None:
        self.trees = trees

    # -- the list scikit-learn, skl2onnx and SHAP read (and warm start appends to) --
    def __len__(self) -> int:
        return len(self.trees)

    def __iter__(self) -> Iterator[list[Any]]:
        return iter(self.trees)

    def __getitem__(self, index):
        return self.trees[index]

    def append(self, per_iteration: list[Any]) -> None:
        self.trees.append(per_iteration)

    # -- what skops (and pickle) write and read --
    def __getstate__(self) -> dict[str, Any]:
        from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE

        flat = [tree for per_iteration in self.trees for tree in per_iteration]
        per = len(self.trees[0]) if self.trees else 1
        return {"per_iteration": per,
                "nodes": _concat([t.nodes for t in flat], np.empty(0, dtype=PREDICTOR_RECORD_DTYPE)),
                "node_counts": _counts([t.nodes for t in flat]),
                "binned": _concat([t.binned_left_cat_bitsets for t in flat], _bitsets(0)),
                "binned_counts": _counts([t.binned_left_cat_bitsets for t in flat]),
                "raw": _concat([t.raw_left_cat_bitsets for t in flat], _bitsets(0)),
                "raw_counts": _counts([t.raw_left_cat_bitsets for t in flat])}

    def __setstate__(self, state: dict[str, Any]) -> None:
        from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
        from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor

        per = state.get("per_iteration")
        nodes, binned, raw = state.get("nodes"), state.get("binned"), state.get("raw")
        if not isinstance(per, int) or per < 1:
            raise ValueError("packed trees: the trees per iteration must be a positive count")
        if not isinstance(nodes, np.ndarray) or nodes.dtype != PREDICTOR_RECORD_DTYPE or nodes.ndim != 1:
            raise ValueError("packed trees: the nodes are not scikit-learn's node records")
        for name, bits in (("binned", binned), ("raw", raw)):
            if not isinstance(bits, np.ndarray) or bits.dtype != np.uint32 or bits.ndim != 2 \
                    or bits.shape[1] != BITSET_WIDTH:
                raise ValueError(f"packed trees: the {name} category sets are not uint32 rows of {BITSET_WIDTH}")
        node_rows = _slices(state.get("node_counts"), len(nodes), "node")
        binned_rows = _slices(state.get("binned_counts"), len(binned), "binned category set")
        raw_rows = _slices(state.get("raw_counts"), len(raw), "category set")
        if not (len(node_rows) == len(binned_rows) == len(raw_rows)) or len(node_rows) % per:
            raise ValueError("packed trees: the row counts disagree on the number of trees")
        flat = [TreePredictor(np.ascontiguousarray(nodes[a:b]), np.ascontiguousarray(binned[c:d]),
                              np.ascontiguousarray(raw[e:f]))
                for (a, b), (c, d), (e, f) in zip(node_rows, binned_rows, raw_rows)]
        self.trees = [flat[i:i + per] for i in range(0, len(flat), per)]


def _bitsets(rows: int) -> np.ndarray:
    return np.zeros((rows, BITSET_WIDTH), dtype=np.uint32)


def _concat(arrays: list[np.ndarray], empty: np.ndarray) -> np.ndarray:
    return np.concatenate(arrays) if arrays else empty


def _counts(arrays: list[np.ndarray]) -> np.ndarray:
    return np.asarray([len(a) for a in arrays], dtype=np.int64)


def _slices(counts: Any, total: int, what: str) -> list[tuple[int, int]]:
    """(start, end) of each tree's rows from their counts, which must be nonnegative and add up to ``total``."""
    if not isinstance(counts, np.ndarray) or counts.ndim != 1 or counts.dtype.kind not in "iu":
        raise ValueError(f"packed trees: the {what} counts are not a list of whole numbers")
    if (counts < 0).any() or int(counts.sum()) != total:
        raise ValueError(f"packed trees: the {what} counts don't add up to the {total} rows stored")
    ends = np.cumsum(counts)
    return list(zip((ends - counts).tolist(), ends.tolist()))


def pack_trees(model: Any) -> Any:
    """Put :class:`PackedTrees` in place of every HistGradientBoosting ``_predictors`` list inside ``model``
    (an estimator, a Pipeline, an ensemble of them, at any depth), in place; returns ``model``."""
    from sklearn.ensemble._hist_gradient_boosting.gradient_boosting import BaseHistGradientBoosting

    seen: set[int] = set()
    stack = [model]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (str, bytes, int, float, bool, type(None), np.ndarray, np.generic)):
            continue
        seen.add(id(obj))
        if isinstance(obj, BaseHistGradientBoosting) and type(getattr(obj, "_predictors", None)) is list:
            obj._predictors = PackedTrees(obj._predictors)
        if isinstance(obj, (list, tuple)):
            stack.extend(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif hasattr(obj, "__dict__") and not isinstance(obj, (type, PackedTrees)):
            stack.extend(vars(obj).values())
    return model
