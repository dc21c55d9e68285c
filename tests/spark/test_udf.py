"""``pack.pyfunc.spark_udf`` on local[2]: predictions equal ``pyfunc.predict`` row for row."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pack
import pack.pyfunc
from pack.errors import InvalidInput, SchemaError, SchemaWarning, UnsafeFormatWarning
from tests.spark.custom_models import SOURCE

FEATURES = [f"f{i}" for i in range(10)]


@pytest.fixture(scope="module")
def rows(classification_data) -> pd.DataFrame:
    frame = classification_data[0].head(120).copy()
    frame.insert(0, "id", np.arange(len(frame)))
    return frame


@pytest.fixture(scope="module")
def table(spark, rows):
    return spark.createDataFrame(rows).repartition(3)


@pytest.fixture(scope="module")
def forest_dir(tmp_path_factory, random_forest, classification_data) -> Path:
    path = tmp_path_factory.mktemp("spark-rf") / "rf"
    pack.save_model(random_forest, path, input_example=classification_data[0].head(3))
    return path


def scored(frame) -> pd.DataFrame:
    return frame.toPandas().sort_values("id").reset_index(drop=True)


def test_sklearn_model_scores_like_pyfunc_predict_however_the_columns_are_passed(spark, table, rows, forest_dir):
    from pyspark.sql.functions import col, struct

    udf = pack.pyfunc.spark_udf(spark, str(forest_dir))
    assert udf.returnType.simpleString() == "bigint"  # the signature's output (a long label)
    as_double = pack.pyfunc.spark_udf(spark, forest_dir, result_type="double")

    out = scored(
        table.withColumn("by_signature", udf())
        .withColumn("by_name", udf(*FEATURES))
        .withColumn("by_name_reversed", udf(*reversed(FEATURES)))  # names, not order
        .withColumn("by_struct", udf(struct(*reversed(FEATURES))))  # struct fields go by name, not order
        .withColumn("by_columns", udf(*[col(name) for name in FEATURES]))
        .withColumn("as_double", as_double())
    )

    expected = pack.pyfunc.load_model(forest_dir).predict(rows[FEATURES])
    assert len(out) == len(rows) and set(np.unique(expected)) == {0, 1}
    for column in ("by_signature", "by_name", "by_name_reversed", "by_struct", "by_columns"):
        np.testing.assert_array_equal(out[column].to_numpy(), expected, err_msg=column)
    assert out["as_double"].dtype == np.float64
    np.testing.assert_array_equal(out["as_double"].to_numpy(), expected.astype(float))


def _eval_type(frame) -> int:
    """The Python UDF kind Spark runs for ``frame``'s one UDF column (pandas or Arrow iterator)."""
    plan = frame._jdf.queryExecution().executedPlan().toString()
    return int(plan.split("ArrowEvalPython ", 1)[1].splitlines()[0].rsplit(", ", 1)[1])


def test_numeric_columns_travel_as_arrow_arrays_with_nulls_and_integers_as_pandas_would(spark, table, rows, forest_dir):
    """The signature's numeric columns go through an Arrow UDF (no pandas per batch); a null or an
    integer column scores as through the pandas UDF a struct argument still takes."""
    from pyspark.sql.functions import col, struct, when
    from pyspark.util import PythonEvalType

    udf = pack.pyfunc.spark_udf(spark, forest_dir)
    model = pack.pyfunc.load_model(forest_dir)
    holes = table.withColumn("f1", when(col("id") % 7 == 0, None).otherwise(col("f1")))
    integers = table.withColumn("f2", (col("f2") * 10).cast("bigint"))
    for frame, expected in [
        (holes, rows[FEATURES].assign(f1=rows["f1"].mask(rows["id"] % 7 == 0))),
        (integers, rows[FEATURES].assign(f2=(rows["f2"] * 10).astype("int64").astype(float))),
    ]:
        arrow, pandas = frame.withColumn("p", udf()), frame.withColumn("p", udf(struct(*FEATURES)))
        assert _eval_type(arrow) == PythonEvalType.SQL_SCALAR_ARROW_ITER_UDF
        assert _eval_type(pandas) == PythonEvalType.SQL_SCALAR_PANDAS_ITER_UDF
        want = model.predict(expected)
        np.testing.assert_array_equal(scored(arrow)["p"].to_numpy(), want)
        np.testing.assert_array_equal(scored(pandas)["p"].to_numpy(), want)
    # A struct result (several outputs) stays a pandas UDF.
    assert _eval_type(table.withColumn("p", pack.pyfunc.spark_udf(spark, forest_dir, "label bigint")())) == (
        PythonEvalType.SQL_SCALAR_PANDAS_ITER_UDF
    )


def test_columns_under_other_names_map_by_position_with_a_warning(spark, table, rows, forest_dir):
    renamed = table.select("id", *[table[name].alias(f"x{i}") for i, name in enumerate(FEATURES)])
    udf = pack.pyfunc.spark_udf(spark, forest_dir)
    with pytest.warns(SchemaWarning, match="mapped by position: x0 -> f0"):
        column = udf(*[f"x{i}" for i in range(10)])
    out = scored(renamed.withColumn("p", column))
    np.testing.assert_array_equal(out["p"].to_numpy(), pack.pyfunc.load_model(forest_dir).predict(rows[FEATURES]))


def test_a_missing_column_is_a_clear_error(spark, table, forest_dir):
    from pyspark.errors import AnalysisException, PythonException
    from pyspark.sql.functions import struct

    udf = pack.pyfunc.spark_udf(spark, forest_dir)
    with pytest.raises(SchemaError, match=r"Model is missing inputs \['f2', .*'f9'\]"):
        udf("f0", "f1")  # named columns are checked when the UDF is called, before any job
    with pytest.raises(AnalysisException, match="f3"):
        table.drop("f3").withColumn("p", udf())  # Spark resolves the signature's columns at once
    with pytest.raises(PythonException, match=r"SchemaError: Model is missing inputs \['f9'\]"):
        table.withColumn("p", udf(struct(*FEATURES[:9]))).collect()


def test_onnx_model_takes_an_array_column_and_returns_its_named_outputs_as_a_struct(spark, tmp_path):
    pytest.importorskip("onnxruntime")
    from pyspark.sql.functions import array, col

    from tests.models_onnx import logistic_regression

    _, graph, features = logistic_regression()
    path = tmp_path / "onnx"
    pack.save_model(graph, path, input_example=features[:3].astype(np.float32))
    frame = pd.DataFrame(features, columns=list("abcd")).assign(id=np.arange(len(features)))
    table = spark.createDataFrame(frame).withColumn("features", array(*[col(c).cast("float") for c in "abcd"]))

    udf = pack.pyfunc.spark_udf(spark, path)
    assert udf.returnType.simpleString() == "struct<label:bigint,probabilities:array<float>>"
    out = scored(table.withColumn("p", udf("features")).select("id", "p.label", "p.probabilities"))

    expected = pack.pyfunc.load_model(path).predict(features.astype(np.float32))
    np.testing.assert_array_equal(out["label"].to_numpy(), expected["label"])
    np.testing.assert_array_equal(np.stack(out["probabilities"].to_numpy()), expected["probabilities"])
    stacked = scored(table.withColumn("p", udf("a", "b", "c", "d")).select("id", "p.label"))  # scalar columns
    np.testing.assert_array_equal(stacked["label"].to_numpy(), expected["label"])


@pytest.fixture(scope="module")
def custom_module(tmp_path_factory):
    """The custom models' module, importable here and shipped with each model as code."""
    folder = tmp_path_factory.mktemp("spark-custom")
    source = folder / "spark_custom_models.py"
    source.write_text(SOURCE)
    sys.path.insert(0, str(folder))
    import spark_custom_models

    yield source, spark_custom_models
    sys.path.remove(str(folder))
    sys.modules.pop("spark_custom_models", None)


def test_custom_model_gets_the_params_given_at_creation(spark, tmp_path, custom_module):
    source, module = custom_module
    path = tmp_path / "scaled"
    frame = pd.DataFrame({"id": np.arange(40), "x": np.linspace(-2.0, 2.0, 40)})
    pack.pyfunc.save_model(
        path, python_model=module.Scaled(), code_paths=[source], input_example=(frame[["x"]].head(2), {"factor": 1.0})
    )
    table = spark.createDataFrame(frame)

    with pytest.warns(UnsafeFormatWarning):  # shown on the driver, where the caller is
        tripled = pack.pyfunc.spark_udf(spark, path, params={"factor": 3.0})
    with pytest.warns(UnsafeFormatWarning):
        default = pack.pyfunc.spark_udf(spark, path)
    out = scored(table.withColumn("tripled", tripled()).withColumn("default", default()))

    with pytest.warns(UnsafeFormatWarning):
        model = pack.pyfunc.load_model(path)
    np.testing.assert_array_equal(out["tripled"].to_numpy(), model.predict(frame[["x"]], {"factor": 3.0}))
    np.testing.assert_array_equal(out["default"].to_numpy(), model.predict(frame[["x"]]))
    with pytest.warns(UnsafeFormatWarning), pytest.raises(SchemaError, match="factor"):
        pack.pyfunc.spark_udf(spark, path, params={"factor": "three"})


def test_named_outputs_become_a_struct_column(spark, tmp_path, custom_module):
    source, module = custom_module
    path = tmp_path / "two"
    frame = pd.DataFrame({"id": np.arange(30), "x": np.linspace(-1.5, 1.5, 30)})
    pack.pyfunc.save_model(path, python_model=module.LabelAndScore(), code_paths=[source], input_example=frame[["x"]])

    with pytest.warns(UnsafeFormatWarning):
        udf = pack.pyfunc.spark_udf(spark, path)
    assert udf.returnType.simpleString() == "struct<label:bigint,score:double>"
    out = scored(spark.createDataFrame(frame).withColumn("p", udf()).select("id", "p.*"))

    with pytest.warns(UnsafeFormatWarning):
        expected = pack.pyfunc.load_model(path).predict(frame[["x"]])
    pd.testing.assert_frame_equal(out[["label", "score"]], expected)
    with pytest.warns(UnsafeFormatWarning), pytest.raises(SchemaError, match="does not fit the model's predictions"):
        pack.pyfunc.spark_udf(spark, path, result_type="boolean")  # tried on the input example at creation


def test_sql_can_call_a_registered_udf(spark, table, rows, forest_dir):
    spark.udf.register("pack_rf", pack.pyfunc.spark_udf(spark, forest_dir))
    table.createOrReplaceTempView("spark_rows")
    out = scored(spark.sql(f"SELECT id, pack_rf({', '.join(FEATURES)}) AS p FROM spark_rows"))
    np.testing.assert_array_equal(out["p"].to_numpy(), pack.pyfunc.load_model(forest_dir).predict(rows[FEATURES]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"env_manager": "virtualenv"}, "env_manager='virtualenv' is not supported"),
        ({"result_type": "map<string,double>"}, "not supported: use a primitive type"),
        ({"result_type": "no such type"}, "is not a Spark type"),
    ],
)
def test_bad_arguments_fail_at_creation(spark, forest_dir, kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        pack.pyfunc.spark_udf(spark, forest_dir, **kwargs)


def test_a_model_uri_that_does_not_resolve_fails_at_creation(spark, tmp_path):
    from pack.errors import NotFound

    with pytest.raises(NotFound, match="no model at"):
        pack.pyfunc.spark_udf(spark, tmp_path / "missing")
    with pytest.raises(InvalidInput, match="unsupported model URI scheme 'ftp'"):
        pack.pyfunc.spark_udf(spark, "ftp://host/model")
