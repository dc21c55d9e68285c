"""``json_arrays.loads`` reads what orjson reads (large numeric arrays as numpy, same values), fails
where orjson fails with orjson's error, and holds no Python object per number."""

from __future__ import annotations

import json
import tracemalloc
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pack.flavors import json_arrays

NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
)
ROWS = st.integers(1, 6).flatmap(lambda width: st.lists(st.lists(NUMBERS, min_size=width, max_size=width), max_size=40))
FLAT = st.lists(NUMBERS, max_size=80)
VALUES = st.one_of(ROWS, FLAT, st.lists(st.one_of(NUMBERS, st.booleans(), st.none(), st.text(max_size=3)), max_size=8))
DOCUMENTS = st.recursive(
    st.dictionaries(st.sampled_from(["data", "inputs", "instances", "x", "d\\u0061ta"]), VALUES, max_size=3),
    lambda inner: st.dictionaries(st.sampled_from(["dataframe_split", "params", "data", "k"]), inner, max_size=3),
    max_leaves=6,
)


def normalise(value: Any) -> Any:
    """Arrays and rectangular numeric lists as ``np.array`` makes them (the fast path's contract)."""
    if isinstance(value, np.ndarray):
        return ("array", str(value.dtype), value.tolist())
    if isinstance(value, dict):
        return {key: normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        try:
            array = np.array(value)
        except (ValueError, OverflowError):
            array = None
        if array is not None and array.dtype.kind in "if" and array.ndim in (1, 2) and array.size:
            return ("array", str(array.dtype), array.tolist())
        return [normalise(item) for item in value]
    return value


@pytest.fixture
def tiny_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every array takes the fast path, cut into many slices (the real thresholds are 64 KB / 16 KB)."""
    monkeypatch.setattr(json_arrays, "MIN_ARRAY_BYTES", 8)
    monkeypatch.setattr(json_arrays, "SLICE_BYTES", 16)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    document=DOCUMENTS,
    indent=st.sampled_from([None, 1]),
    cut=st.integers(0, 400),
    junk=st.sampled_from(["", ",", "]", "x", " "]),
)
def test_same_result_or_same_error_as_orjson(
    tiny_thresholds: None, document: Any, indent: Any, cut: int, junk: str
) -> None:
    text = json.dumps(document, indent=indent).replace("\\\\u0061", "\\u0061")
    if junk:
        text = text[:cut] + junk + text[cut:]  # often malformed
    body = text.encode()
    expected: Any = None
    failure: str | None = None
    try:
        expected = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        failure = str(error)
    if failure is not None:
        with pytest.raises(orjson.JSONDecodeError) as raised:
            json_arrays.loads(body)
        assert str(raised.value) == failure
        return
    assert normalise(json_arrays.loads(bytearray(body))) == normalise(expected)


def test_large_arrays_come_back_as_arrays() -> None:
    rows = np.random.default_rng(0).normal(size=(20_000, 5))
    body = orjson.dumps(
        {"dataframe_split": {"columns": list("abcde"), "data": rows}}, option=orjson.OPT_SERIALIZE_NUMPY
    )
    got = json_arrays.loads(body)["dataframe_split"]
    assert got["columns"] == list("abcde")
    assert isinstance(got["data"], np.ndarray) and np.array_equal(got["data"], rows)
    flat = orjson.dumps({"inputs": [{"name": "x", "data": rows.ravel()}]}, option=orjson.OPT_SERIALIZE_NUMPY)
    assert np.array_equal(json_arrays.loads(flat)["inputs"][0]["data"], rows.ravel())


def test_no_python_object_per_number() -> None:
    rows = np.random.default_rng(1).normal(size=(100_000, 10))
    body = orjson.dumps({"dataframe_split": {"data": rows}}, option=orjson.OPT_SERIALIZE_NUMPY)
    tracemalloc.start()
    try:
        parsed = json_arrays.loads(body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.array_equal(parsed["dataframe_split"]["data"], rows)
    # The slices' arrays and their concatenation (8 bytes a number, twice), one slice's objects; orjson
    # alone holds a 24-byte float and an 8-byte list slot per number.
    assert peak < 2.5 * rows.nbytes
