"""Which types of a skops file pack trusts, and the checks that make scikit-learn's trees safe to trust.

skops lists the types a file holds; loading constructs them without running code from the file, but
a few scikit-learn types keep raw indices that compiled code follows without bounds checks, so a
crafted file can crash the process or read memory out of bounds at predict time. skops therefore no
longer trusts ``sklearn.tree._tree.Tree`` (every decision tree, forest and gradient boosting model)
and MLflow makes its users trust it by hand. pack's rule:

1. Types from scikit-learn, numpy and scipy are trusted (what the flavor depends on anyway), except
   the ones with unchecked native indices below.
2. ``sklearn.tree._tree.Tree`` and the histogram gradient boosting ``TreePredictor`` are trusted
   because pack checks every one of them after loading and before any predict: child indices point
   forward and inside the tree, every node but the root has one parent, the depth stays within the
   recorded ``max_depth``, split features exist in the input the tree is handed (its estimator's
   ``n_features_in_``, and the ensemble's when a forest or boosting model calls it without checks),
   categorical bitsets exist. A model whose tree fails is refused (``InvalidModel``), from any source.
3. The compiled neighbour trees and distance metrics (``KDTree``, ``BallTree``, ``DistanceMetric``)
   are not checked, so they must be trusted explicitly, like any other type: ``trusted_types`` at
   load, ``PACK_TRUSTED_TYPES`` for the CLI. The type list inside a model file never counts.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from pack.errors import InvalidModel

TRUSTED_MODULES = ("sklearn", "numpy", "scipy")
TREE = "sklearn.tree._tree.Tree"
TREE_PREDICTOR = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"
EXPLICIT_MODULES = (
    "sklearn.neighbors._kd_tree",
    "sklearn.neighbors._ball_tree",
    "sklearn.neighbors._quad_tree",
    "sklearn.metrics._dist_metrics",
)
_BITSET_WORDS = 8  # a category bitset: 256 bits in uint32 words
_LEAVES = (str, bytes, int, float, complex, bool, type, types.ModuleType)  # nothing to walk into


def untrusted_types(types: Sequence[str], trusted: Sequence[str] = ()) -> list[str]:
    """The types of a skops file that pack's rule (plus the caller's ``trusted``) does not trust."""
    extra = set(trusted)
    return sorted(t for t in types if t not in extra and not _trusted_by_rule(t))


def _trusted_by_rule(type_name: str) -> bool:
    if type_name.startswith(tuple(f"{module}." for module in EXPLICIT_MODULES)):
        return False
    return type_name.split(".", 1)[0] in TRUSTED_MODULES


def check_trees(model: Any) -> None:
    """Check every decision tree and histogram-boosting predictor inside a loaded model.

    Raises:
        InvalidModel: a tree's structure could make scikit-learn's compiled code leave its arrays, or a
            tree sits where no check can tell which input it will be handed.
    """
    from sklearn.base import BaseEstimator  # lazy: optional dependency
    from sklearn.tree._tree import Tree

    tree_predictor = _tree_predictor_class()
    seen: set[int] = set()
    stack: list[tuple[Any, tuple[int, ...]]] = [(model, ())]
    while stack:
        obj, widths = stack.pop()
        if id(obj) in seen or obj is None or isinstance(obj, _LEAVES) or inspect.isroutine(obj):
            continue
        seen.add(id(obj))
        if isinstance(obj, Tree) or (tree_predictor is not None and isinstance(obj, tree_predictor)):
            raise InvalidModel(f"the model holds a {type(obj).__name__} outside the estimator that uses it")
        if isinstance(obj, BaseEstimator):
            stack.extend(_estimator_parts(obj, widths, Tree))
        elif isinstance(obj, dict):
            stack.extend((value, ()) for value in obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend((value, ()) for value in obj)
        elif isinstance(obj, np.ndarray):
            if obj.dtype == object:
                stack.extend((value, ()) for value in obj.flat)
        elif hasattr(obj, "__dict__"):
            stack.extend((value, ()) for value in vars(obj).values())


def _estimator_parts(
    estimator: Any, widths: tuple[int, ...], tree_class: type
) -> Iterator[tuple[Any, tuple[int, ...]]]:
    """Check the trees an estimator holds; yield its other attributes (members with their input widths)."""
    width = getattr(estimator, "n_features_in_", None)
    own = (*widths, width) if isinstance(width, int) else widths
    for name, value in vars(estimator).items():
        if name == "tree_" and isinstance(value, tree_class):
            check_tree(value, own)
        elif name == "_predictors" and isinstance(value, list):
            _check_predictors(estimator, value, own)
        elif name == "estimators_":
            yield from _members(estimator, value, own)
        else:
            yield value, ()


def _members(ensemble: Any, members: Any, widths: tuple[int, ...]) -> Iterator[tuple[Any, tuple[int, ...]]]:
    """An ensemble's members, each with the input widths it is handed without its own check."""
    from sklearn.ensemble._bagging import BaseBagging  # lazy: optional dependency
    from sklearn.ensemble._forest import BaseForest
    from sklearn.ensemble._gb import BaseGradientBoosting

    flat = list(members.flat) if isinstance(members, np.ndarray) else list(members or ())
    if isinstance(ensemble, (BaseForest, BaseGradientBoosting)):  # they call members on the whole input
        yield from ((member, widths) for member in flat)
    elif isinstance(ensemble, BaseBagging):  # members see the columns of estimators_features_
        features = list(getattr(ensemble, "estimators_features_", None) or ())
        if len(features) != len(flat):
            raise InvalidModel(f"{type(ensemble).__name__} has {len(flat)} estimators but {len(features)} feature sets")
        yield from ((member, (len(columns),)) for member, columns in zip(flat, features, strict=True))
    else:
        yield from ((member, ()) for member in flat)


def check_tree(tree: Any, widths: Sequence[int]) -> None:
    """Check one ``sklearn.tree._tree.Tree`` that will be handed inputs of each of ``widths`` columns.

    Raises:
        InvalidModel: the tree's nodes could lead its compiled code out of bounds.
    """
    count = int(tree.node_count)
    if count < 1 or count > int(tree.capacity):
        raise InvalidModel(f"a decision tree has {count} nodes for a capacity of {tree.capacity}")
    left = np.asarray(tree.children_left, dtype=np.int64)
    right = np.asarray(tree.children_right, dtype=np.int64)
    feature = np.asarray(tree.feature, dtype=np.int64)
    split = left != -1  # what the compiled code treats as an internal node
    _check_structure(left, right, split, max_depth=int(tree.max_depth), what="decision tree")
    _check_features(feature[split], min([int(tree.n_features), *widths]), "decision tree")


def _check_predictors(estimator: Any, predictors: list[Any], widths: tuple[int, ...]) -> None:
    tree_predictor = _tree_predictor_class()
    mapper = getattr(estimator, "_bin_mapper", None)
    flags = getattr(mapper, "is_categorical_", None)
    categorical = np.asarray(flags if flags is not None else [], dtype=bool)
    if not widths:
        raise InvalidModel(f"{type(estimator).__name__} does not record how many features it takes")
    width = min(widths)
    if categorical.size and categorical.size != width:
        raise InvalidModel(f"{type(estimator).__name__}: its bin mapper describes {categorical.size} features")
    for iteration in predictors:
        for predictor in iteration if isinstance(iteration, list) else [iteration]:
            if tree_predictor is None or not isinstance(predictor, tree_predictor):
                raise InvalidModel(f"{type(estimator).__name__} holds a {type(predictor).__name__} as a predictor")
            _check_predictor(predictor, width, categorical)


def _check_predictor(predictor: Any, width: int, categorical: np.ndarray) -> None:
    nodes = predictor.nodes
    count = len(nodes)
    if count < 1:
        raise InvalidModel("a gradient boosting tree has no nodes")
    leaf = nodes["is_leaf"].astype(bool)
    left = nodes["left"].astype(np.int64)
    right = nodes["right"].astype(np.int64)
    split = ~leaf
    _check_structure(left, right, split, max_depth=count, what="gradient boosting tree")  # no depth-sized buffers
    feature = nodes["feature_idx"].astype(np.int64)[split]
    _check_features(feature, width, "gradient boosting tree")
    is_cat = nodes["is_categorical"].astype(bool) & split
    if not is_cat.any():
        return
    cat_features = nodes["feature_idx"].astype(np.int64)[is_cat]
    if categorical.size == 0 or not categorical[cat_features].all():
        raise InvalidModel("a gradient boosting tree splits on a feature its bin mapper does not call categorical")
    bitset = nodes["bitset_idx"].astype(np.int64)[is_cat]
    for name in ("raw_left_cat_bitsets", "binned_left_cat_bitsets"):
        table = np.asarray(getattr(predictor, name))
        if table.ndim != 2 or table.shape[1] != _BITSET_WORDS or bitset.max() >= table.shape[0]:
            raise InvalidModel(f"a gradient boosting tree refers to category bitsets its {name} does not hold")


def _check_structure(left: np.ndarray, right: np.ndarray, split: np.ndarray, *, max_depth: int, what: str) -> None:
    """Children after their parent and inside the tree, one parent each, depth within ``max_depth``."""
    count = len(left)
    index = np.arange(count)
    for children in (left, right):
        bad = split & ((children <= index) | (children >= count))
        if bad.any():
            node = int(np.flatnonzero(bad)[0])
            raise InvalidModel(f"a {what}'s node {node} points to node {int(children[node])} (of {count})")
    parents = np.bincount(np.concatenate([left[split], right[split]]), minlength=count)
    if parents[0] != 0 or (parents[1:] != 1).any():
        raise InvalidModel(f"a {what} is not a tree: some node has no parent or several")
    depth, frontier = 0, np.array([0])
    while True:
        inner = frontier[split[frontier]]
        if inner.size == 0:
            break
        frontier = np.concatenate([left[inner], right[inner]])
        depth += 1
    if depth > max_depth:
        raise InvalidModel(f"a {what} is {depth} levels deep but records a maximum depth of {max_depth}")


def _check_features(feature: np.ndarray, width: int, what: str) -> None:
    if feature.size and (feature.min() < 0 or feature.max() >= width):
        raise InvalidModel(f"a {what} splits on feature {int(feature.max())} of an input with {width} features")


def _tree_predictor_class() -> type | None:
    try:
        from sklearn.ensemble._hist_gradient_boosting import predictor
    except ImportError:  # a scikit-learn without it
        return None
    found: type = predictor.TreePredictor
    return found


__all__ = [
    "EXPLICIT_MODULES",
    "TREE",
    "TREE_PREDICTOR",
    "TRUSTED_MODULES",
    "check_tree",
    "check_trees",
    "untrusted_types",
]
