"""``accelerate``: scikit-learn tree ensembles compiled to onnxruntime at load, verified on the input
example, and left alone (with the reason) when they cannot be."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import pack
import pack.pyfunc
from pack.flavors.accelerate import CompiledTrees, accelerate
from pack.flavors.payloads import parse_json_request

pytest.importorskip("skl2onnx")

FEATURES = [f"f{i}" for i in range(6)]
X, Y = make_classification(n_samples=300, n_features=6, random_state=0)
FRAME = pd.DataFrame(X, columns=FEATURES)
XR, YR = make_regression(n_samples=300, n_features=6, random_state=0)
REGRESSION = pd.DataFrame(XR, columns=FEATURES)


def _saved(tmp_path: Any, model: Any, frame: pd.DataFrame, **kwargs: Any) -> Any:
    pack.save_model(model, tmp_path / "m", input_example=frame.head(8), **kwargs)
    return pack.pyfunc.load_model(tmp_path / "m")


@pytest.mark.parametrize(
    ("estimator", "frame", "target", "predict_fn"),
    [
        (RandomForestClassifier(n_estimators=20, max_depth=6, random_state=0), FRAME, Y, "predict"),
        (GradientBoostingClassifier(n_estimators=10, random_state=0), FRAME, Y, "predict_proba"),
        (ExtraTreesRegressor(n_estimators=10, random_state=0), REGRESSION, YR, "predict"),
        (make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=5, random_state=0)), FRAME, Y, "predict"),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, (str, pd.DataFrame, np.ndarray)) else None,
)
def test_tree_ensembles_compile_and_predict_like_scikit_learn(tmp_path, estimator, frame, target, predict_fn):
    model = _saved(tmp_path, estimator.fit(frame, target), frame, predict_fn=predict_fn)
    outcome = accelerate(model, {})  # the server's order: onnxruntime first
    assert outcome.compiled, outcome.detail
    assert isinstance(outcome.model.predictor, CompiledTrees)
    rows = frame.sample(200, random_state=1)
    expected, got = model.predict(rows), outcome.model.predict(rows)
    assert got.shape == expected.shape
    if predict_fn == "predict" and hasattr(estimator, "classes_"):
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    body = {"dataframe_split": {"columns": FEATURES, "data": rows.head(3).to_numpy().tolist()}}
    table, _ = parse_json_request(body, model.signature.inputs, tables=True)  # a request as the server reads it
    np.testing.assert_allclose(outcome.model.predict(table), expected[:3], rtol=1e-4, atol=1e-4)


def test_histogram_boosting_compiles_where_skl2onnx_converts_it(tmp_path):
    """skl2onnx 1.20 writes a boolean list where onnx 1.23 wants integers for this estimator: the model
    then stays on scikit-learn, saying so. Where the converter works, it must predict the same."""
    model = _saved(tmp_path, HistGradientBoostingRegressor(max_iter=10).fit(REGRESSION, YR), REGRESSION)
    outcome = accelerate(model, {}, runtimes=["onnxruntime"])
    if not outcome.compiled:
        assert outcome.model is model
        assert "skl2onnx cannot convert HistGradientBoostingRegressor" in outcome.detail
        return
    np.testing.assert_allclose(outcome.model.predict(REGRESSION), model.predict(REGRESSION), rtol=1e-4, atol=1e-4)


def test_what_cannot_be_compiled_or_verified_stays_on_scikit_learn(tmp_path):
    cases = {
        "only scikit-learn tree ensembles": _saved(tmp_path / "lr", LogisticRegression().fit(FRAME, Y), FRAME),
        "skl2onnx cannot convert": _saved(
            tmp_path / "fn",
            make_pipeline(FunctionTransformer(np.tanh), RandomForestClassifier(n_estimators=3)).fit(FRAME, Y),
            FRAME,
        ),
        "has no compiled equivalent": _saved(
            tmp_path / "df",
            GradientBoostingClassifier(n_estimators=3).fit(FRAME, Y),
            FRAME,
            predict_fn="decision_function",
        ),
    }
    pack.save_model(RandomForestClassifier(n_estimators=3).fit(FRAME, Y), tmp_path / "bare")
    cases["no input example"] = pack.pyfunc.load_model(tmp_path / "bare")
    for reason, model in cases.items():
        outcome = accelerate(model, {})
        assert not outcome.compiled
        assert outcome.model is model
        assert reason in outcome.detail


def test_predictions_that_differ_on_the_example_keep_scikit_learn(tmp_path):
    model = _saved(
        tmp_path,
        RandomForestClassifier(n_estimators=10, random_state=0).fit(FRAME, Y),
        FRAME,
        predict_fn="predict_proba",
    )
    outcome = accelerate(model, {}, runtimes=["onnxruntime"], rtol=0, atol=0)  # float32 sums against float64
    assert not outcome.compiled
    assert "differ" in outcome.detail
