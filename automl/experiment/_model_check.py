"""Index checks on a loaded model, before compiled code follows them.

scikit-learn's tree, histogram-boosting and neighbour-tree predictors walk node arrays in Cython without
bounds checks: one edited child or feature index in a file makes ``predict`` read outside memory and the
process dies (SIGSEGV) with no message. Every index is checked here against the arrays it points into;
a model that fails is refused with an :class:`AutoMLError` that says where.

Children must point forward (scikit-learn numbers nodes depth-first, so a child always comes after its
parent): besides being in range, that rules out a loop that would never end.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from automl.errors import AutoMLError

_SCALARS = (str, bytes, int, float, bool, complex, type(None), np.generic)


def check_model(model: Any, name: str = "the model") -> None:
    """Raise :class:`AutoMLError` if any tree or neighbour index in ``model`` (at any depth) is out of range."""
    seen: set[int] = set()
    stack: list[tuple[Any, str, int | None]] = [(model, type(model).__name__, None)]
    while stack:
        obj, where, limit = stack.pop()
        if isinstance(obj, _SCALARS) or isinstance(obj, type) or id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            if obj.dtype == object:
                stack += [(v, where, limit) for v in obj.ravel()]
            continue
        if isinstance(obj, (list, tuple, set, frozenset)):
            stack += [(v, f"{where}[{i}]", limit) for i, v in enumerate(obj)]
            continue
        if isinstance(obj, dict):
            stack += [(v, f"{where}.{k}", limit) for k, v in obj.items()]
            continue
        problem = _problem(obj, limit)
        if problem:
            raise AutoMLError(f"Refusing to use {name}: in {where}, {problem}.",
                              "The file was damaged or edited; export the model again from its experiment, "
                              "or train it again.")
        members = _member_limit(obj)
        for key, value in getattr(obj, "__dict__", {}).items():
            stack.append((value, f"{where}.{key}", members if key == "estimators_" else None))


def _member_limit(obj: Any) -> int | None:
    """A forest or gradient boosting checks the columns once and hands its trees the rows unchecked: their
    feature indices must fit the ensemble's column count."""
    from sklearn.ensemble import BaseEnsemble

    return _int(getattr(obj, "n_features_in_", None)) if isinstance(obj, BaseEnsemble) else None


def _problem(obj: Any, limit: int | None) -> str | None:
    """What is wrong with ``obj``'s own index arrays, if anything."""
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.neighbors._ball_tree import BallTree
    from sklearn.neighbors._kd_tree import KDTree
    from sklearn.tree._tree import Tree

    tree = getattr(obj, "tree_", None)
    if isinstance(tree, Tree):
        bounds = [b for b in (limit, _int(getattr(obj, "n_features_in_", None)), _int(tree.n_features))
                  if b is not None]
        return _tree_problem(tree, min(bounds))
    if hasattr(obj, "_predictors") and hasattr(obj, "_bin_mapper"):
        n_features = _int(getattr(obj, "n_features_in_", None)) or 0
        is_cat = getattr(obj._bin_mapper, "is_categorical_", None)
        for i, per_iteration in enumerate(obj._predictors or []):
            for k, predictor in enumerate(per_iteration):
                if not isinstance(predictor, TreePredictor):
                    return f"predictor [{i}][{k}] is a {type(predictor).__name__}, not a TreePredictor"
                problem = _predictor_problem(predictor, n_features, is_cat)
                if problem:
                    return f"tree [{i}][{k}]: {problem}"
    binary = getattr(obj, "_tree", None)
    if isinstance(binary, (KDTree, BallTree)):
        return _binary_tree_problem(binary)
    return None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, np.integer)) else None


def _forward_children(left: np.ndarray, right: np.ndarray, inner: np.ndarray, n: int) -> bool:
    index = np.arange(n)[inner]
    lo, hi = left[inner].astype(np.int64), right[inner].astype(np.int64)
    return bool(((lo > index) & (lo < n) & (hi > index) & (hi < n)).all())


def _tree_problem(tree: Any, n_features: int) -> str | None:
    """A scikit-learn ``Tree``: leaves have both children -1; other nodes point forward and split on a column
    the input has."""
    n = int(tree.node_count)
    left, right, feature = tree.children_left, tree.children_right, tree.feature
    if n < 1 or not (len(left) == len(right) == len(feature) == n):
        return f"the tree's arrays don't match its {n} nodes"
    leaf = left == -1
    if not (right[leaf] == -1).all() or not _forward_children(left, right, ~leaf, n):
        return f"a child node index is out of range (the tree has {n} nodes)"
    split_on = feature[~leaf]
    if not ((split_on >= 0) & (split_on < n_features)).all():
        return f"a split uses feature {int(split_on[(split_on < 0) | (split_on >= n_features)][0])}, " \
               f"but the model has {n_features} features"
    return None


def _predictor_problem(predictor: Any, n_features: int, is_categorical: np.ndarray | None) -> str | None:
    """A HistGradientBoosting ``TreePredictor``: split nodes point forward, split on a column the input has,
    and a categorical split names a bitset that exists, on a column that is categorical."""
    nodes = predictor.nodes
    fields = ("feature_idx", "left", "right", "is_leaf", "is_categorical", "bitset_idx")
    if not isinstance(nodes, np.ndarray) or nodes.dtype.names is None or not set(fields) <= set(nodes.dtype.names):
        return "its nodes are not a node array"
    n = len(nodes)
    if n < 1:
        return "it has no nodes"
    inner = nodes["is_leaf"] == 0
    if not _forward_children(nodes["left"], nodes["right"], inner, n):
        return f"a child node index is out of range (the tree has {n} nodes)"
    split_on = nodes["feature_idx"][inner].astype(np.int64)
    if not ((split_on >= 0) & (split_on < n_features)).all():
        return f"a split uses feature {int(split_on[(split_on < 0) | (split_on >= n_features)][0])}, " \
               f"but the model has {n_features} features"
    categorical = inner & (nodes["is_categorical"] != 0)
    if categorical.any():
        bitsets = np.asarray(predictor.raw_left_cat_bitsets)
        cat_features = nodes["feature_idx"][categorical].astype(np.int64)
        known = np.asarray(is_categorical if is_categorical is not None else [], dtype=bool)
        if bitsets.ndim != 2 or bitsets.shape[1] != 8 or (nodes["bitset_idx"][categorical] >= len(bitsets)).any():
            return "a categorical split names a category set that doesn't exist"
        if (cat_features >= len(known)).any() or not known[cat_features].all():
            return "a categorical split uses a column that isn't categorical"
    return None


def _binary_tree_problem(tree: Any) -> str | None:
    """A k-d or ball tree (nearest neighbours): the point order is a permutation of the points and every node's
    range and children lie inside the arrays."""
    data, idx, node_data, _ = tree.get_arrays()
    n, n_nodes = len(data), len(node_data)
    if len(idx) != n or not np.array_equal(np.sort(idx), np.arange(n)):
        return "the neighbour tree's point order is not a permutation of its points"
    start, end = node_data["idx_start"], node_data["idx_end"]
    if n_nodes < 1 or not ((start >= 0) & (start <= end) & (end <= n)).all():
        return "a neighbour-tree node points outside its points"
    inner = np.flatnonzero(node_data["is_leaf"] == 0)
    if (2 * inner + 2 >= n_nodes).any():
        return f"a neighbour-tree node's children are out of range (the tree has {n_nodes} nodes)"
    return None
