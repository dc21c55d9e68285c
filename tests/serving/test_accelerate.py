"""``pack serve --accelerate``: the benchmark forest on onnxruntime's tree kernel answers what
scikit-learn answers, over both protocols; a model it cannot compile is served as before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.serving.support import FEATURES, load_quietly

pytest.importorskip("skl2onnx")


def test_the_forest_is_compiled_and_answers_like_scikit_learn(
    start_server: Any, rf_model: Path, rf_data: tuple[Any, pd.DataFrame]
) -> None:
    _, frame = rf_data
    server = start_server(str(rf_model), "--accelerate")
    assert "--accelerate: compiled (RandomForestClassifier runs on onnxruntime's tree kernel" in server.output
    expected = load_quietly(rf_model).predict(frame).tolist()
    rows = frame.to_numpy()
    split = {"dataframe_split": {"columns": FEATURES, "data": rows.tolist()}}
    answer = server.client.post("/invocations", json=split)
    assert answer.status_code == 200, answer.text
    assert answer.json()["predictions"] == expected
    tensor = {"name": "x", "shape": list(rows.shape), "datatype": "FP64", "data": rows.ravel().tolist()}
    answer = server.client.post("/v2/models/rf/infer", json={"inputs": [tensor]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["outputs"][0]["data"] == expected
    bad = server.client.post("/invocations", json={"dataframe_split": {"columns": FEATURES, "data": [["x"] * 10]}})
    assert bad.status_code == 400  # the signature is still enforced before the compiled trees


def test_a_model_it_cannot_compile_is_served_as_before(start_server: Any, echo_model: Path) -> None:
    server = start_server(str(echo_model), "--accelerate")
    assert "--accelerate: not compiled, served as saved (only scikit-learn tree ensembles" in server.output
    answer = server.client.post("/invocations", json={"dataframe_split": {"columns": ["id", "x"], "data": [[3, 0.5]]}})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"predictions": [6]}


def test_the_images_environment_variable_turns_it_on(start_server: Any, rf_model: Path) -> None:
    server = start_server(str(rf_model), env={"PACK_SERVE_ACCELERATE": "true"})  # as build-docker --accelerate
    assert "--accelerate: compiled (RandomForestClassifier" in server.output
