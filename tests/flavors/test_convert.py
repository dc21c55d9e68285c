"""scikit-learn to ONNX: converted, verified on the example, written only when predictions match."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pack.errors import FlavorError, InvalidInput

pytest.importorskip("skl2onnx")
pytest.importorskip("onnxruntime")

from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import pack
import pack.pyfunc
from pack.flavors.convert import convert_to_onnx

TREES = ["sklearn.tree._tree.Tree"]


@pytest.fixture(scope="module")
def table():
    features, labels = make_classification(n_samples=300, n_features=10, random_state=0)
    return pd.DataFrame(features, columns=[f"f{i}" for i in range(10)]), labels


@pytest.fixture(scope="module")
def forest_dir(table, tmp_path_factory):
    frame, labels = table
    forest = RandomForestClassifier(n_estimators=20, max_depth=6, random_state=0).fit(frame, labels)
    path = tmp_path_factory.mktemp("forest") / "m"
    pack.save_model(forest, path, input_example=frame.head(50), skops_trusted_types=TREES)
    return path


def test_random_forest_converts_and_predicts_the_same_labels(forest_dir, table, tmp_path, fresh_predict):
    frame, _ = table
    result = convert_to_onnx(forest_dir, tmp_path / "onnx", model_config={"trusted_types": TREES})

    assert result.rows_checked == 50
    assert result.model.flavors["python_function"]["output_names"] == ["label"]
    original = pack.pyfunc.load_model(forest_dir, model_config={"trusted_types": TREES})
    assert result.model.signature == original.signature  # clients keep sending the same columns
    assert result.model.metadata["converted_from"]["source"] == forest_dir.name  # no path of this machine
    converted = pack.pyfunc.load_model(tmp_path / "onnx")
    np.testing.assert_array_equal(converted.predict(frame), original.predict(frame))
    (fresh,) = fresh_predict([(tmp_path / "onnx", frame.to_numpy())])
    np.testing.assert_array_equal(fresh, original.predict(frame))


def test_probabilities_and_regressions_within_tolerance(table, tmp_path):
    frame, labels = table
    proba = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, labels)
    pack.save_model(proba, tmp_path / "proba", input_example=frame.head(20), predict_fn="predict_proba")
    regressor = RandomForestRegressor(n_estimators=5, max_depth=4, random_state=0).fit(frame, frame["f0"] * 3)
    pack.save_model(regressor, tmp_path / "reg", input_example=frame.head(20), skops_trusted_types=TREES)

    result = convert_to_onnx(tmp_path / "proba", tmp_path / "proba-onnx")
    assert 0 < result.max_abs_diff < 1e-5
    np.testing.assert_allclose(
        pack.pyfunc.load_model(tmp_path / "proba-onnx").predict(frame), proba.predict_proba(frame), atol=1e-5
    )
    convert_to_onnx(tmp_path / "reg", tmp_path / "reg-onnx", model_config={"trusted_types": TREES})
    got = pack.pyfunc.load_model(tmp_path / "reg-onnx").predict(frame)
    np.testing.assert_allclose(np.ravel(got), regressor.predict(frame), rtol=1e-4, atol=1e-4)


def test_string_columns_become_named_inputs(tmp_path):
    frame = pd.DataFrame(
        {
            "city": ["paris", "oslo", "rome", "oslo"] * 10,
            "size": np.linspace(0, 1, 40),
            "rooms": [1, 2, 3, 4] * 10,
        }
    )
    target = (frame["size"] > 0.5).astype(int)
    model = make_pipeline(
        ColumnTransformer([("city", OneHotEncoder(), ["city"]), ("num", StandardScaler(), ["size", "rooms"])]),
        LogisticRegression(),
    ).fit(frame, target)
    pack.save_model(model, tmp_path / "m", input_example=frame.head(8))

    result = convert_to_onnx(tmp_path / "m", tmp_path / "onnx")
    session = pack.pyfunc.load_model(tmp_path / "onnx").predictor.session
    assert [i.name for i in session.get_inputs()] == ["city", "size", "rooms"]
    assert result.rows_checked == 8
    np.testing.assert_array_equal(pack.pyfunc.load_model(tmp_path / "onnx").predict(frame), model.predict(frame))


def test_refuses_and_writes_nothing_when_predictions_differ(table, tmp_path):
    frame, labels = table
    model = LogisticRegression().fit(frame, labels)
    pack.save_model(model, tmp_path / "m", input_example=frame.head(20), predict_fn="predict_proba")

    with pytest.raises(FlavorError, match=r"differ on \d+ of 40 values .*nothing was written"):
        convert_to_onnx(tmp_path / "m", tmp_path / "onnx", rtol=0, atol=0)
    assert not (tmp_path / "onnx").exists()


def test_refuses_models_it_cannot_check(table, tmp_path):
    frame, labels = table
    pack.save_model(LogisticRegression().fit(frame, labels), tmp_path / "bare")
    with pytest.raises(InvalidInput, match="no input example to verify"):
        convert_to_onnx(tmp_path / "bare", tmp_path / "out")
    result = convert_to_onnx(tmp_path / "bare", tmp_path / "out", input_example=frame.head(5))
    assert result.rows_checked == 5

    torch = pytest.importorskip("torch")
    pack.save_model(torch.nn.Linear(10, 1), tmp_path / "torch", input_example=frame.head(3))
    with pytest.raises(InvalidInput, match="only scikit-learn models convert"):
        convert_to_onnx(tmp_path / "torch", tmp_path / "out2")
