"""C source for a scikit-learn forest (random forests, extra trees, single decision trees): the trees
as constant arrays, and one kernel that walks them without branches.

The kernel scores rows in blocks of ``BLOCK``: for each tree it moves every row of the block one level
down at a time, picking a child by index rather than by a branch, so the walks of the block's rows
overlap in the processor and cost the same whatever the data (``benchmarks/tree_kernels.py``, the
serving benchmark's forest, one core: 2.9M rows/s, 3.2x scikit-learn's; TL2cgen's if/else code,
whose branches are laid out for the training data, 3.2M on rows like it but 1.8M on random rows,
where this kernel keeps 2.8M). It needs no treelite and compiles in 0.1 s (TL2cgen's: 0.6 s).

It computes what scikit-learn computes, in the same order, so the answers are equal, not close: values
are read through float32 (scikit-learn's trees were split on float32 values); NaN takes the branch
scikit-learn learned for missing values; a classifier's leaves hold the class fractions scikit-learn
divides out per tree (``predict_proba``), added tree by tree in float64 and divided by the number of
trees; a regressor's leaves hold its values, averaged the same way.
"""

from __future__ import annotations

import math
from typing import Any

from pack.errors import FlavorError

FORESTS = frozenset(
    f"{kind}{task}"
    for kind in ("RandomForest", "ExtraTrees", "DecisionTree", "ExtraTree")
    for task in ("Classifier", "Regressor")
)
BLOCK = 16
MAX_NUMBERS = 20_000_000  # C literals (per node: 5, plus one value per class): beyond this gcc takes minutes
_PRELUDE = r"""
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
"""
# After WIDTH, N_TREES, BLOCK and the trees: per node THRESHOLD, FEATURE, CHILD (left, right; a leaf's
# are itself), NAN_RIGHT and VALUE (WIDTH numbers); per tree ROOT and DEPTH.
_KERNEL = r"""
int32_t pack_row_width(void) { return WIDTH; }

void pack_predict_rows(const double* rows, int64_t n, int64_t width, double* out) {
  double* x = malloc(sizeof(double) * BLOCK * width);
  int32_t at[BLOCK];
  if (x == NULL) abort();
  for (int64_t start = 0; start < n; start += BLOCK) {
    int64_t m = n - start < BLOCK ? n - start : BLOCK;
    double* result = out + start * WIDTH;
    int missing = 0;
    for (int64_t i = 0; i < m * width; ++i) {
      x[i] = (double)(float)rows[start * width + i];
      missing |= isnan(x[i]);
    }
    for (int64_t i = 0; i < m * WIDTH; ++i) result[i] = 0.0;
    for (int32_t tree = 0; tree < N_TREES; ++tree) {
      for (int64_t i = 0; i < m; ++i) at[i] = ROOT[tree];
      if (!missing) {  /* the common case, kept free of the NaN test */
        for (int32_t level = 0; level < DEPTH[tree]; ++level) {
          for (int64_t i = 0; i < m; ++i) {
            int32_t k = at[i];
            at[i] = CHILD[2 * k + (x[i * width + FEATURE[k]] > THRESHOLD[k])];
          }
        }
      } else {
        for (int32_t level = 0; level < DEPTH[tree]; ++level) {
          for (int64_t i = 0; i < m; ++i) {
            int32_t k = at[i];
            double value = x[i * width + FEATURE[k]];
            at[i] = CHILD[2 * k + (isnan(value) ? NAN_RIGHT[k] : value > THRESHOLD[k])];
          }
        }
      }
      for (int64_t i = 0; i < m; ++i)
        for (int32_t k = 0; k < WIDTH; ++k) result[i * WIDTH + k] += VALUE[(int64_t)at[i] * WIDTH + k];
    }
    for (int64_t i = 0; i < m * WIDTH; ++i) result[i] /= N_TREES;
  }
  free(x);
}
"""


def forest_source(estimator: Any, answer: str) -> str:
    """The C source of ``estimator`` (a fitted single-output forest or tree) for ``answer``
    (``labels``, ``probabilities`` or ``values``).

    Raises:
        FlavorError: the estimator is not one of ``FORESTS``, has several outputs or one class, or is
            too large.
    """
    import numpy as np  # lazy: keeps the module light

    name = type(estimator).__name__
    if name not in FORESTS or getattr(estimator, "n_outputs_", 1) != 1:
        raise FlavorError(f"the forest kernel takes single-output forests and trees, not {name}")
    classifier = hasattr(estimator, "classes_")
    if classifier and len(estimator.classes_) < 2:
        raise FlavorError(f"the forest kernel needs two classes or more ({name} has one)")
    trees = [tree.tree_ for tree in getattr(estimator, "estimators_", [estimator])]
    width = len(estimator.classes_) if classifier else 1
    if sum(tree.node_count for tree in trees) * (5 + width) > MAX_NUMBERS:
        raise FlavorError(f"{name} is too large for the forest kernel (more than {MAX_NUMBERS:,} numbers)")
    # A single tree's predict takes the argmax of the raw leaf values; everything else goes through
    # the per-tree fractions predict_proba computes.
    fractions = classifier and (answer == "probabilities" or hasattr(estimator, "estimators_"))
    columns: dict[str, list[str]] = {"THRESHOLD": [], "FEATURE": [], "CHILD": [], "NAN_RIGHT": [], "VALUE": []}
    roots: list[str] = []
    depths: list[str] = []
    offset = 0
    for tree in trees:
        value = np.asarray(tree.value[:, 0, :], dtype="float64")
        if fractions:
            total = value.sum(axis=1)[:, np.newaxis]
            total[total == 0.0] = 1.0
            value = value / total
        leaf = tree.children_left == -1
        own = np.arange(tree.node_count)
        children = np.column_stack([np.where(leaf, own, tree.children_left), np.where(leaf, own, tree.children_right)])
        go_left = getattr(tree, "missing_go_to_left", np.zeros(tree.node_count, dtype="uint8"))
        columns["THRESHOLD"].extend(_double(t) for t in np.where(leaf, np.inf, tree.threshold))
        columns["FEATURE"].extend(map(str, np.where(leaf, 0, tree.feature)))
        columns["CHILD"].extend(map(str, (children + offset).ravel()))
        columns["NAN_RIGHT"].extend(map(str, np.where(leaf, 0, go_left == 0).astype(int)))
        columns["VALUE"].extend(_double(v) for v in value.ravel())
        roots.append(str(offset))
        depths.append(str(tree.max_depth))
        offset += tree.node_count
    types = {"THRESHOLD": "double", "FEATURE": "int32_t", "CHILD": "int32_t", "NAN_RIGHT": "uint8_t", "VALUE": "double"}
    arrays = [f"static const {types[name]} {name}[] = {{{','.join(items)}}};" for name, items in columns.items()]
    return "\n".join(
        [
            f"#define WIDTH {width}",
            f"#define N_TREES {len(trees)}",
            f"#define BLOCK {BLOCK}",
            _PRELUDE,
            *arrays,
            f"static const int32_t ROOT[] = {{{','.join(roots)}}};",
            f"static const int32_t DEPTH[] = {{{','.join(depths)}}};",
            _KERNEL,
        ]
    )


def _double(value: float) -> str:
    """A C double literal that reads back as exactly ``value``."""
    number = float(value)
    if math.isnan(number):
        return "NAN"
    if math.isinf(number):
        return "INFINITY" if number > 0 else "-INFINITY"
    return repr(number)


__all__ = ["BLOCK", "FORESTS", "MAX_NUMBERS", "forest_source"]
