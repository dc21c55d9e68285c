"""Tree ensembles compiled to native code (forests: pack's kernel; gradient boosting: treelite +
TL2cgen; gcc for both): the same answers as scikit-learn on every row, including values at the edge
of a threshold and missing values, the compile cache, and the reasons a model is not compiled."""

from __future__ import annotations

import shutil
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import pack
import pack.pyfunc
from pack.flavors.accelerate import accelerate
from pack.flavors.native_trees import NativeTrees

if shutil.which("gcc") is None:
    pytest.skip("native trees need a C compiler (gcc)", allow_module_level=True)

FEATURES = [f"f{i}" for i in range(6)]
X, Y = make_classification(n_samples=400, n_features=6, n_informative=4, n_classes=3, random_state=0)
FRAME = pd.DataFrame(X, columns=FEATURES)
BINARY = (Y == 1).astype(int)
NAMED = np.array(["low", "mid", "high"])[Y]  # string class labels
XR, YR = make_regression(n_samples=400, n_features=6, random_state=0)
REGRESSION = pd.DataFrame(XR, columns=FEATURES)
ROWS = pd.DataFrame(np.random.default_rng(1).normal(scale=2, size=(3000, 6)), columns=FEATURES)


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PACK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "trees"


def _compiled(tmp_path: Any, estimator: Any, frame: pd.DataFrame, **kwargs: Any) -> tuple[Any, Any]:
    if "GradientBoosting" in type(estimator).__name__:
        pytest.importorskip("tl2cgen", reason="gradient boosting compiles through the accelerate extra (tl2cgen)")
    pack.save_model(estimator, tmp_path / "m", input_example=frame.head(8), **kwargs)
    model = pack.pyfunc.load_model(tmp_path / "m")
    outcome = accelerate(model, {}, runtimes=["native"])
    assert outcome.compiled, outcome.detail
    assert isinstance(outcome.model.predictor, NativeTrees)
    assert "runs on native code" in outcome.detail
    return model, outcome.model


@pytest.mark.parametrize(
    ("estimator", "frame", "target", "predict_fn"),
    [
        (RandomForestClassifier(n_estimators=20, max_depth=6, random_state=0), FRAME, Y, "predict"),
        (RandomForestClassifier(n_estimators=20, random_state=0), FRAME, NAMED, "predict"),
        (RandomForestClassifier(n_estimators=20, max_depth=6, random_state=0), FRAME, Y, "predict_proba"),
        (ExtraTreesClassifier(n_estimators=10, random_state=0), FRAME, BINARY, "predict_proba"),
        (DecisionTreeClassifier(random_state=0), FRAME, Y, "predict"),
        (DecisionTreeClassifier(max_depth=5, random_state=0), FRAME, NAMED, "predict_proba"),
        (RandomForestRegressor(n_estimators=10, random_state=0), REGRESSION, YR, "predict"),
        (DecisionTreeRegressor(random_state=0), REGRESSION, YR, "predict"),
        (GradientBoostingClassifier(n_estimators=10, random_state=0), FRAME, BINARY, "predict"),
        (GradientBoostingClassifier(n_estimators=10, random_state=0), FRAME, BINARY, "predict_proba"),
        (GradientBoostingClassifier(n_estimators=10, random_state=0), FRAME, Y, "predict_proba"),
        (HistGradientBoostingClassifier(max_iter=20, random_state=0), FRAME, Y, "predict"),
        (ExtraTreesRegressor(n_estimators=10, random_state=0), REGRESSION, YR, "predict"),
        (HistGradientBoostingRegressor(max_iter=20, random_state=0), REGRESSION, YR, "predict"),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, (str, pd.DataFrame, np.ndarray)) else None,
)
def test_compiled_trees_answer_as_scikit_learn_does(tmp_path, estimator, frame, target, predict_fn):
    model, fast = _compiled(tmp_path, estimator.fit(frame, target), frame, predict_fn=predict_fn)
    expected, got = model.predict(ROWS), fast.predict(ROWS)
    assert got.shape == expected.shape
    if got.dtype.kind in "OUi":  # labels
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_values_at_a_threshold_are_read_through_float32_as_scikit_learn_reads_them(tmp_path):
    """scikit-learn's trees compare float32(x) with a float64 threshold: a value just above a
    threshold in float64 can fall on or below it in float32. Every such value goes the same way."""
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(FRAME, Y)
    model, fast = _compiled(tmp_path, forest, FRAME, predict_fn="predict_proba")
    rows = []
    for tree in forest.estimators_:
        for feature, threshold in zip(tree.tree_.feature, tree.tree_.threshold, strict=True):
            if feature >= 0:
                above = np.nextafter(threshold, np.inf)  # > threshold as float64
                row = FRAME.iloc[len(rows) % len(FRAME)].to_numpy().copy()
                row[feature] = above
                rows.append(row)
    edge = pd.DataFrame(rows, columns=FEATURES)
    assert (edge.to_numpy(dtype="float32").astype("float64") != edge.to_numpy()).any()
    np.testing.assert_array_equal(fast.predict(edge), model.predict(edge))


@pytest.mark.parametrize(
    "estimator",
    [
        HistGradientBoostingClassifier(max_iter=20, random_state=0),
        RandomForestClassifier(n_estimators=10, random_state=0),
        DecisionTreeClassifier(random_state=0),
    ],
    ids=lambda estimator: type(estimator).__name__,
)
def test_missing_values_take_the_branch_scikit_learn_learned(tmp_path, estimator):
    holes = FRAME.mask(np.random.default_rng(2).random(FRAME.shape) < 0.2)
    model, fast = _compiled(tmp_path, estimator.fit(holes, Y), holes.dropna(), predict_fn="predict_proba")
    rows = ROWS.mask(np.random.default_rng(3).random(ROWS.shape) < 0.3)
    np.testing.assert_allclose(fast.predict(rows), model.predict(rows), rtol=1e-12, atol=1e-12)
    # Rows without a hole, and a model that never saw one: NaN goes where scikit-learn sends it.
    unseen, fast_unseen = _compiled(tmp_path / "unseen", type(estimator)(random_state=0).fit(FRAME, Y), FRAME)
    np.testing.assert_array_equal(fast_unseen.predict(rows), unseen.predict(rows))


def test_the_same_trees_compile_once_per_machine(tmp_path, cache):
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(FRAME, Y)
    _compiled(tmp_path / "a", forest, FRAME)
    libraries = list(cache.glob("*.so"))
    assert len(libraries) == 1
    built = libraries[0].stat().st_mtime_ns
    _compiled(tmp_path / "b", forest, FRAME)
    assert [p.stat().st_mtime_ns for p in cache.glob("*.so")] == [built]
    _compiled(tmp_path / "c", RandomForestClassifier(n_estimators=5, random_state=1).fit(FRAME, Y), FRAME)
    assert len(list(cache.glob("*.so"))) == 2
    # A library others may write to is never loaded from the cache: it is built again, in place.
    libraries[0].chmod(0o666)
    _compiled(tmp_path / "d", forest, FRAME)
    assert libraries[0].stat().st_mtime_ns != built and not libraries[0].stat().st_mode & 0o022


def test_what_native_code_does_not_compile_says_why(tmp_path, monkeypatch):
    pipeline = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=3, random_state=0)).fit(FRAME, Y)
    pack.save_model(pipeline, tmp_path / "pipe", input_example=FRAME.head(8))
    outcome = accelerate(pack.pyfunc.load_model(tmp_path / "pipe"), {}, runtimes=["native", "onnxruntime"])
    assert outcome.compiled  # onnxruntime converts the pipeline
    assert "onnxruntime" in outcome.detail

    pack.save_model(RandomForestClassifier(n_estimators=3).fit(FRAME, Y), tmp_path / "rf", input_example=FRAME.head(8))
    model = pack.pyfunc.load_model(tmp_path / "rf")
    monkeypatch.setenv("CC", "no-such-compiler")
    outcome = accelerate(model, {}, runtimes=["native"])
    assert not outcome.compiled
    assert outcome.model is model
    assert outcome.detail == "no C compiler (gcc, or $CC) to compile the trees with"
    alone = accelerate(pack.pyfunc.load_model(tmp_path / "pipe"), {}, runtimes=["native"])
    assert alone.detail == "native code: only a bare tree ensemble is compiled, not a Pipeline"


def test_the_server_order_compiles_what_onnx_cannot_convert(tmp_path):
    """skl2onnx cannot convert a HistGradientBoostingClassifier here; the server's order then compiles
    it to native code (it was left on scikit-learn before)."""
    estimator = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(FRAME, Y)
    pack.save_model(estimator, tmp_path / "m", input_example=FRAME.head(8))
    model = pack.pyfunc.load_model(tmp_path / "m")
    outcome = accelerate(model, {})
    assert outcome.compiled, outcome.detail
    assert isinstance(outcome.model.predictor, NativeTrees)
    np.testing.assert_array_equal(outcome.model.predict(ROWS), model.predict(ROWS))
