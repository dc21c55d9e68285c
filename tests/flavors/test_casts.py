"""``pack.flavors.casts``: the one function that reads pandas internals agrees with pandas' public API
on every kind of column, and the casts keep their rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pack.flavors.casts import Refused, cast_array, cast_column, cast_tensor, column_dtypes
from pack.flavors.schema import DataType


def _frames() -> list[pd.DataFrame]:
    base = pd.DataFrame(
        {
            "i": np.arange(3, dtype=np.int32),
            "f": [0.5, 1.5, 2.5],
            "s": ["a", "b", "c"],
            "b": [True, False, True],
            "nullable": pd.array([1, None, 3], dtype="Int64"),
            "string": pd.array(["x", None, "z"], dtype="string"),
            "category": pd.Categorical(["u", "v", "u"]),
            "when": pd.date_range("2024-01-01", periods=3, tz="UTC"),
            "naive": pd.date_range("2024-01-01", periods=3),
            "bytes": [b"1", b"2", b"3"],
        }
    )
    frames = [
        base,
        base[["s", "i", "when", "f"]],  # reordered: block order differs from column order
        pd.concat([base[["i"]], base[["f"]], base[["i"]]], axis=1),  # duplicate names
        base.assign(extra=np.ones(3, dtype=np.float32)).iloc[:, ::-1],
        pd.DataFrame(np.ones((2, 3))),  # one consolidated block
        pd.DataFrame(),
        pd.DataFrame(columns=["a", "b"]),
    ]
    try:
        import pyarrow as pa

        frames.append(pd.DataFrame({"arrow": pd.array([1, 2], dtype=pd.ArrowDtype(pa.int64())), "n": [1, 2]}))
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        pass
    return frames


@pytest.mark.parametrize("frame", _frames())
def test_column_dtypes_agree_with_the_public_dtypes(frame: pd.DataFrame) -> None:
    assert column_dtypes(frame) == list(frame.dtypes)


def test_wire_casts_never_change_a_value() -> None:
    assert cast_array(np.array([1.0, 2.0]), np.dtype("int64")).dtype == np.int64
    assert cast_array(np.array([1.5]), np.dtype("int64")).dtype == np.float64  # not whole: left alone
    assert cast_array(np.array([2**40]), np.dtype("int32")).dtype == np.int64  # does not fit
    assert cast_array(np.array([1, 2]), np.dtype("float32")).dtype == np.float32


def test_enforcement_casts_refuse_lossy_conversions() -> None:
    assert cast_column(pd.Series([1, 2]), DataType.double).dtype == np.float64
    with pytest.raises(Refused):
        cast_column(pd.Series([1.5]), DataType.long)
    with pytest.raises(Refused, match="missing values"):
        cast_column(pd.Series([1.0, None]), DataType.long)
    assert cast_tensor(np.array([1, 2], dtype=np.int64), np.dtype("int32")).dtype == np.int32
    with pytest.raises(Refused):
        cast_tensor(np.array([2**40]), np.dtype("int32"))
    with pytest.raises(Refused):
        cast_tensor(np.array([0.5]), np.dtype("int64"))
