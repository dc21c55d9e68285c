"""Result types: inferred from signatures, parsed from DDL, and predictions converted without loss."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'pack[spark]')")

from pyspark.sql.types import ArrayType, DoubleType, FloatType, IntegerType, LongType, StringType

from pack.errors import SchemaError
from pack.flavors.schema import ColSpec, DataType, ModelSignature, Schema, TensorSpec
from pack.spark.results import result_type_for, to_spark


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [
        (None, "double"),
        (Schema((ColSpec(DataType.long),)), "bigint"),
        (Schema((TensorSpec("float32", (-1,)),)), "float"),
        (Schema((TensorSpec("float32", (-1, 3)),)), "array<float>"),
        (Schema((TensorSpec("uint8", (-1, 2, 2)),)), "array<array<smallint>>"),
        (
            Schema((ColSpec(DataType.string, "label"), ColSpec({"type": "array", "items": {"type": "double"}}, "p"))),
            "struct<label:string,p:array<double>>",
        ),
    ],
)
def test_the_result_type_is_inferred_from_the_signature_outputs(outputs, expected):
    signature = ModelSignature(inputs=None, outputs=outputs) if outputs is not None else None
    assert result_type_for(None, signature).simpleString() == expected


def test_ddl_strings_and_mlflow_aliases_parse(spark):
    assert result_type_for("bool", None).simpleString() == "boolean"
    assert result_type_for("label bigint, scores array<double>", None).simpleString() == (
        "struct<label:bigint,scores:array<double>>"
    )


def test_primitives_take_the_single_output_or_the_leftmost_that_converts():
    np.testing.assert_array_equal(to_spark(np.array([[1], [2]]), LongType()), [1, 2])
    table = pd.DataFrame({"name": ["a", "b"], "score": [0.5, 1.5]})
    np.testing.assert_array_equal(to_spark(table, DoubleType()), [0.5, 1.5])  # MLflow's leftmost-match rule
    assert list(to_spark(np.array([1.5, 2.0]), StringType())) == ["1.5", "2.0"]


@pytest.mark.parametrize(
    ("prediction", "kind", "message"),
    [
        (np.array([0.5, 1.0]), LongType(), "not integers"),
        (np.array([2**40]), IntegerType(), "outside the range of int32"),
        (np.array(["a"], dtype=object), FloatType(), "not numbers"),
        (np.array([1.0, 2.0]), ArrayType(DoubleType()), "needs arrays"),
    ],
)
def test_lossy_conversions_are_refused(prediction, kind, message):
    with pytest.raises(SchemaError, match=message):
        to_spark(prediction, kind)


def test_arrays_and_structs_take_rows_and_named_outputs():
    rows = to_spark(np.arange(6, dtype=np.float64).reshape(3, 2), ArrayType(FloatType()))
    assert [list(row) for row in rows] == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    assert rows[0].dtype == np.float32
    nested = to_spark(np.arange(8).reshape(2, 2, 2), ArrayType(ArrayType(LongType())))
    assert [[list(inner) for inner in row] for row in nested] == [[[0, 1], [2, 3]], [[4, 5], [6, 7]]]

    from pyspark.sql.types import StructField, StructType

    kind = StructType([StructField("label", LongType()), StructField("p", ArrayType(DoubleType()))])
    frame = to_spark({"p": np.array([[0.2, 0.8], [0.9, 0.1]]), "label": np.array([1, 0])}, kind)
    assert list(frame.columns) == ["label", "p"] and list(frame["label"]) == [1, 0]
    with pytest.raises(SchemaError, match="no output 'label'"):
        to_spark({"p": np.array([[0.2, 0.8]])}, kind)
