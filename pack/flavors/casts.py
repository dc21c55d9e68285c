"""Value-checked casts shared by signature enforcement (columns, tensors, params)."""

from __future__ import annotations

from typing import Any

import numpy as np

INT32 = np.iinfo(np.int32)
INT64 = np.iinfo(np.int64)


class Refused(Exception):
    """A value or column cannot be converted safely; ``hint`` says why (may be empty)."""

    def __init__(self, hint: str = "") -> None:
        super().__init__(hint)
        self.hint = hint


def exact_int_limit(dtype: np.dtype[Any]) -> int:
    """The largest magnitude up to which every integer is exact in a float dtype."""
    return int(2 ** (np.finfo(dtype).nmant + 1))


def fits(values: np.ndarray, low: float, high: float) -> bool:
    """True when every value lies in ``[low, high]`` (an empty array fits)."""
    return values.size == 0 or (values.min() >= low and values.max() <= high)


__all__ = ["INT32", "INT64", "Refused", "exact_int_limit", "fits"]
