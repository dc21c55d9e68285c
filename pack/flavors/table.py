"""``NumericTable``: named columns that share one numeric dtype, held as one 2-D array.

This is what the wire parsers produce for a column signature whose columns all have one numeric type
(``tables=True``): a scoring request stays one ``rows x columns`` array through signature enforcement
and batching, and a DataFrame is built once per predict call, only for a predictor that needs one.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


class NumericTable:
    """Rows of named columns of one numeric dtype.

    Attributes:
        values: the ``rows x columns`` array (C-ordered, one numeric dtype).
        columns: the column names, in the array's column order.
    """

    __slots__ = ("columns", "values")

    def __init__(self, values: np.ndarray, columns: tuple[Any, ...]) -> None:
        if values.ndim != 2 or values.shape[1] != len(columns):
            raise ValueError(f"a table of {len(columns)} columns needs a 2-D array, got shape {values.shape}")
        self.values = values
        self.columns = columns

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def __repr__(self) -> str:
        return f"NumericTable({len(self)} rows, columns={list(self.columns)}, dtype={self.values.dtype})"

    @property
    def layout(self) -> Hashable:
        """What two tables must share to be stacked: column names and dtype."""
        return ("table", self.columns, self.values.dtype)

    def to_frame(self) -> pd.DataFrame:
        """The same data as a DataFrame (the array is shared, not copied)."""
        import pandas as pd  # lazy: a flavor that never needs a frame never imports pandas

        return pd.DataFrame(self.values, columns=column_index(self.columns), copy=False)


@functools.lru_cache(maxsize=64)
def column_index(columns: tuple[Any, ...]) -> pd.Index:
    """Column labels as a shared, immutable Index: building one per request costs more than the frame.

    An object Index (the pandas 2 default) rather than pandas 3's Arrow-backed strings: reading its
    labels back is a plain list copy, with no round trip through Arrow per request.
    """
    import pandas as pd  # lazy, as above

    return pd.Index(columns, dtype=object)


def stack(tables: Sequence[NumericTable]) -> NumericTable:
    """Tables of one layout, one after the other."""
    return NumericTable(np.concatenate([table.values for table in tables]), tables[0].columns)


__all__ = ["NumericTable", "column_index", "stack"]
