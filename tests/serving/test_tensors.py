"""V2 JSON tensors: the one-matrix fast path reads what the general path reads, and leaves the rest to it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from pack.errors import InvalidInput
from pack.serving.tensors import _json_matrix, read_tensors

EMPTY = memoryview(b"")


@pytest.mark.parametrize(
    ("shape", "datatype", "data"),
    [
        ([1, 3], "FP64", [0.5, 1, -2.25]),
        ([2, 2], "FP32", [[1.5, 2], [3, 4]]),
        ([2, 3], "INT64", [1, 2, 3, 4, 5, 6]),
        ([1, 2], "INT32", [7, -8]),
        ([1, 2], "UINT8", [0, 255]),
    ],
)
def test_a_numeric_matrix_is_read_as_the_general_path_reads_it(shape: list[int], datatype: str, data: Any) -> None:
    entry = {"name": "x", "shape": shape, "datatype": datatype, "data": data}
    fast = _json_matrix(entry)
    assert fast is not None
    general = read_tensors([{**entry, "parameters": {}}], EMPTY)  # parameters: the general path
    assert fast["x"].dtype == general["x"].dtype and fast["x"].shape == tuple(shape)
    np.testing.assert_array_equal(fast["x"], general["x"])


@pytest.mark.parametrize(
    ("shape", "datatype", "data", "message"),
    [
        ([2, 3], "FP64", [1.0, 2.0], r"shape \[2, 3\] needs 6 values, got 2"),
        ([1, 2], "INT32", [1.5, 2], "data of type float64 is not INT32"),
        ([1, 2], "INT32", [2**40, 1], "values do not fit INT32"),
        ([1, 2], "FP64", ["a", "b"], "is not FP64"),
        ([2, 2], "FP64", [[1.0], [2.0, 3.0]], "not a rectangular array"),
        ([1, 2], "BOOL", [True, False], None),
        ([0, 2], "FP64", [], None),
    ],
)
def test_anything_else_goes_the_general_way(shape: list[int], datatype: str, data: Any, message: str | None) -> None:
    entry = {"name": "x", "shape": shape, "datatype": datatype, "data": data}
    assert _json_matrix(entry) is None
    if message is None:
        assert read_tensors([entry], EMPTY)["x"].shape == tuple(shape)
    else:
        with pytest.raises(InvalidInput, match=message):
            read_tensors([entry], EMPTY)
