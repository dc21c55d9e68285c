"""C source for a gradient-boosting model (classic or histogram-based): TL2cgen writes the trees from
treelite's reading of the model (the ``accelerate`` extra), and pack adds ``pack_predict_rows``, which
scores a block of float64 rows in one call (TL2cgen's ``predict`` takes one row), reading each value as
scikit-learn's trees do: through float32 for the estimators built on ``sklearn.tree`` (their thresholds
were chosen on float32 values), as float64 for the histogram-based ones; NaN is treelite's "missing".
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pack.errors import FlavorError, MissingDependency

# pack's entry point, compiled with TL2cgen's sources: N rows in, N x ROW_WIDTH numbers out.
_ROWS_C = r"""
#include "header.h"
#define ROW_WIDTH (N_TARGET * MAX_N_CLASS)
int32_t pack_row_width(void) { return ROW_WIDTH; }
void pack_predict_rows(const double* rows, int64_t n, int64_t width, double* out) {
  union Entry entry[width];
  for (int64_t i = 0; i < n; ++i) {
    const double* row = rows + i * width;
    for (int64_t j = 0; j < width; ++j) {
#ifdef PACK_FLOAT32_INPUTS
      float value = (float)row[j];
      if (isnan(value)) entry[j].missing = -1; else entry[j].fvalue = (double)value;
#else
      if (isnan(row[j])) entry[j].missing = -1; else entry[j].fvalue = row[j];
#endif
    }
    double* result = out + i * ROW_WIDTH;
    for (int k = 0; k < ROW_WIDTH; ++k) result[k] = 0.0;
    predict(entry, 0, result);
  }
}
"""


def boosting_sources(estimator: Any, sources: Path) -> list[str]:
    """TL2cgen's C for ``estimator`` and pack's row loop, written to ``sources``; returns the compiler
    flags they need (values read through float32 except for the histogram-based estimators).

    Raises:
        MissingDependency: treelite or TL2cgen is not installed.
        FlavorError: treelite cannot read the estimator.
    """
    try:
        import tl2cgen  # lazy: optional dependencies
        import treelite.sklearn
    except ImportError:
        raise MissingDependency("tl2cgen", "accelerate") from None
    try:
        model = treelite.sklearn.import_model(estimator)
    except Exception as exc:  # treelite's own errors are not one class
        raise FlavorError(f"treelite cannot read {type(estimator).__name__}: {str(exc).splitlines()[0]}") from None
    with _silenced():
        tl2cgen.generate_c_code(model, str(sources), params={"parallel_comp": max(1, min(4, os.cpu_count() or 1))})
    (sources / "pack_rows.c").write_text(_ROWS_C)
    return [] if type(estimator).__name__.startswith("HistGradientBoosting") else ["-DPACK_FLOAT32_INPUTS"]


@contextlib.contextmanager
def _silenced() -> Iterator[None]:
    """TL2cgen's chatter kept out of the user's output: its log goes to print(), its warnings to
    warnings.warn, and its bundled treelite writes to file descriptor 2 (that it is older than the
    treelite that read the model; the verification on the input example stands behind the result)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


__all__ = ["boosting_sources"]
