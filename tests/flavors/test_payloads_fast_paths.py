"""The per-request fast paths of dataframe_split parsing and column enforcement give the same
results as the general paths they short-cut."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pack.errors import SchemaError
from pack.flavors.casts import column_dtypes
from pack.flavors.enforce import enforce_input
from pack.flavors.payloads import cast_frame, parse_split
from pack.flavors.schema import ColSpec, DataType, Schema

DOUBLES = Schema(tuple(ColSpec(DataType.double, name) for name in ("a", "b")))
LONGS = Schema(tuple(ColSpec(DataType.long, name) for name in ("a", "b")))
MIXED = Schema((ColSpec(DataType.long, "a"), ColSpec(DataType.double, "b")))


@pytest.mark.parametrize(
    ("schema", "rows", "dtypes"),
    [
        (DOUBLES, [[1, 2], [3, 4]], ["float64", "float64"]),  # ints widen to double at once
        (LONGS, [[1.0, 2.0]], ["int64", "int64"]),  # whole doubles become longs
        (LONGS, [[1.0, 2.5]], ["int64", "float64"]),  # one column refuses: per column instead
        (MIXED, [[1, 2]], ["int64", "float64"]),  # no common dtype: per column
        (None, [[1, 2]], ["int64", "int64"]),
    ],
)
def test_split_casts_like_the_general_path(schema: Schema | None, rows: list[list[float]], dtypes: list[str]) -> None:
    frame = parse_split({"columns": ["a", "b"], "data": rows}, schema)
    general = cast_frame(pd.DataFrame(np.array(rows), columns=["a", "b"]), schema)
    assert [str(d) for d in column_dtypes(frame)] == dtypes
    assert [str(d) for d in general.dtypes] == dtypes
    assert frame.to_dict("list") == general.to_dict("list")
    assert frame.columns.tolist() == ["a", "b"]


def test_column_dtypes_match_pandas() -> None:
    frame = pd.DataFrame({"a": [1], "b": [1.5], "c": ["x"], "d": [True]})
    assert column_dtypes(frame) == list(frame.dtypes)
    assert column_dtypes(pd.DataFrame()) == []


def test_enforcement_still_converts_and_refuses() -> None:
    frame = parse_split({"columns": ["b", "a"], "data": [[1.5, 2]]}, MIXED)
    enforced = enforce_input(MIXED, frame)
    assert enforced.columns.tolist() == ["a", "b"]
    assert enforced.to_dict("list") == {"a": [2], "b": [1.5]}
    with pytest.raises(SchemaError, match="'a'"):
        enforce_input(MIXED, pd.DataFrame({"a": [1.5], "b": [1.0]}))
    untouched = pd.DataFrame({"a": np.array([1], dtype=np.int64), "b": [2.0]})
    assert enforce_input(MIXED, untouched) is untouched
