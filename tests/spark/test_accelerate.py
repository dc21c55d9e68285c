"""``spark_udf(accelerate=True)``: tree ensembles compiled once on the driver (native code, else
onnxruntime), run by the workers (after verifying them again), and the fallbacks; ``safe_only`` on the driver and in
executors."""

from __future__ import annotations

import dataclasses
import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import pack
import pack.pyfunc
from pack.errors import UnsafeFormatWarning, UnsafeModel
from pack.flavors.accelerate import CompiledGraph
from pack.flavors.native_trees import NativeLibrary
from pack.spark.udf import ModelUDF

pytest.importorskip("skl2onnx")
pytest.importorskip("onnxruntime")

FEATURES = [f"f{i}" for i in range(10)]


@pytest.fixture(scope="module")
def rows(classification_data) -> pd.DataFrame:
    frame = classification_data[0].sample(300, random_state=3).reset_index(drop=True)
    frame.insert(0, "id", np.arange(len(frame)))
    return frame


@pytest.fixture(scope="module")
def table(spark, rows):
    return spark.createDataFrame(rows).repartition(3)


def _save(path: Path, model: Any, classification_data: Any, **kwargs: Any) -> Path:
    pack.save_model(model, path, input_example=classification_data[0].head(5), **kwargs)
    return path


def _scored(frame) -> pd.DataFrame:
    return frame.toPandas().sort_values("id").reset_index(drop=True)


def _worker_predictor(spark, udf: ModelUDF) -> str:
    """The class of the predictor a Python worker loads for ``udf`` (run as a Spark task)."""
    plan = udf._plan

    def loaded(_: Any) -> str:
        from pack.spark.worker import _LOADED

        return type(_LOADED.get(plan).predictor).__name__

    return str(spark.sparkContext.parallelize([0], 1).map(loaded).collect()[0])


@pytest.mark.parametrize("runtime", ["native", "onnxruntime"])
def test_a_forest_compiled_on_the_driver_scores_as_scikit_learn_does(
    spark, tmp_path, table, rows, random_forest, classification_data, monkeypatch, runtime
):
    monkeypatch.setenv("PACK_CACHE_DIR", str(tmp_path / "cache"))
    if runtime == "native":
        if shutil.which("gcc") is None:
            pytest.skip("native code needs gcc")
        runs_on, predictor, artifact = "native code (pack's forest kernel)", "NativeTrees", NativeLibrary
    else:  # no C compiler on the driver: onnxruntime's kernel instead
        monkeypatch.setenv("CC", "no-such-compiler")
        runs_on, predictor, artifact = "onnxruntime's tree kernel", "CompiledTrees", CompiledGraph
    labels = _save(tmp_path / "labels", random_forest, classification_data)
    probas = _save(tmp_path / "probas", random_forest, classification_data, predict_fn="predict_proba")

    fast = pack.pyfunc.spark_udf(spark, labels, accelerate=True)
    fast_probas = pack.pyfunc.spark_udf(spark, probas, accelerate=True, result_type="array<double>")
    assert fast.accelerated and fast_probas.accelerated
    assert fast.acceleration.startswith(f"compiled: RandomForestClassifier runs on {runs_on}")
    assert fast.returnType.simpleString() == "bigint"
    out = _scored(table.withColumn("label", fast()).withColumn("probas", fast_probas()))

    np.testing.assert_array_equal(out["label"].to_numpy(), pack.pyfunc.load_model(labels).predict(rows[FEATURES]))
    expected = pack.pyfunc.load_model(probas).predict(rows[FEATURES])
    np.testing.assert_allclose(np.stack(out["probas"].to_numpy()), expected, rtol=1e-4, atol=1e-5)
    assert _worker_predictor(spark, fast) == predictor  # the workers run what the driver compiled
    assert artifact.file_name in {record.path for record in fast._plan.manifest.files}  # checked like the model's
    assert pack.pyfunc.spark_udf(spark, labels).acceleration is None  # not asked


def test_a_model_that_cannot_be_compiled_is_scored_as_saved_saying_why(
    spark, tmp_path, table, rows, classification_data, caplog
):
    from sklearn.linear_model import LogisticRegression

    linear = LogisticRegression(max_iter=500).fit(*classification_data)
    path = _save(tmp_path / "linear", linear, classification_data)

    with caplog.at_level(logging.WARNING, logger="pack.spark.udf"):
        udf = pack.pyfunc.spark_udf(spark, path, accelerate=True)
    assert not udf.accelerated
    assert udf.acceleration == "not compiled: only scikit-learn tree ensembles are compiled, not LogisticRegression"
    assert "only scikit-learn tree ensembles are compiled, not LogisticRegression" in caplog.text
    out = _scored(table.withColumn("p", udf()))
    np.testing.assert_array_equal(out["p"].to_numpy(), pack.pyfunc.load_model(path).predict(rows[FEATURES]))


def test_a_worker_whose_graph_answers_differently_falls_back_to_scikit_learn(
    spark, tmp_path, table, rows, random_forest, classification_data
):
    path = _save(tmp_path / "rf", random_forest, classification_data)
    udf = pack.pyfunc.spark_udf(spark, path, accelerate=True)
    shipped = udf._plan.compiled
    assert shipped is not None
    # As if the executors' onnxruntime disagreed with the driver's: the example's answers differ.
    wrong = dataclasses.replace(shipped, example_output=1 - np.asarray(shipped.example_output))
    plan = dataclasses.replace(udf._plan, compiled=wrong, model_config={**udf._plan.model_config, "case": "wrong"})
    skewed = ModelUDF(plan, udf.inputs, udf.model)

    assert _worker_predictor(spark, skewed) == "SklearnPredictor"
    out = _scored(table.withColumn("p", skewed()))
    np.testing.assert_array_equal(out["p"].to_numpy(), pack.pyfunc.load_model(path).predict(rows[FEATURES]))


def test_safe_only_refuses_a_pickle_on_the_driver_and_in_executors(
    spark, tmp_path, table, random_forest, classification_data, monkeypatch
):
    from pyspark.errors import PythonException

    path = _save(tmp_path / "pickled", random_forest, classification_data, serialization_format="pickle")
    with pytest.raises(UnsafeModel, match="refused by the safe-only policy"):
        pack.pyfunc.spark_udf(spark, path, safe_only=True)
    with monkeypatch.context() as env:
        env.setenv("PACK_SAFE_ONLY", "1")
        with pytest.raises(UnsafeModel, match="refused by the safe-only policy"):
            pack.pyfunc.spark_udf(spark, path)  # safe_only=None: the driver's PACK_SAFE_ONLY decides
        with pytest.raises(UnsafeModel, match="refused by the safe-only policy"):
            pack.pyfunc.spark_udf(spark, path, safe_only=False, accelerate=True)  # it cannot be overridden

    with pytest.warns(UnsafeFormatWarning):
        udf = pack.pyfunc.spark_udf(spark, path, accelerate=True)  # allowed here, with the warning
    # Executors with PACK_SAFE_ONLY=1 (spark.executorEnv.*: Spark starts Python workers with it) refuse
    # the pickle too, compiled or not, though the driver allowed it.
    environment = spark.sparkContext.environment
    environment["PACK_SAFE_ONLY"] = "1"
    try:
        with pytest.raises(PythonException, match=r"UnsafeModel: refused by the safe-only policy"):
            table.withColumn("p", udf()).collect()
    finally:
        del environment["PACK_SAFE_ONLY"]
