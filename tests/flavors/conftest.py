"""Fixtures for the flavor tests: fresh-process predictions and MLflow's deep-learning peer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]

# Loads each model (argv: model dir, input .npz, output .npz) in a new interpreter and predicts through
# pyfunc; inputs/outputs are npz archives (one array under "input", or one per name).
PREDICT_SCRIPT = """
import sys, numpy as np, pack.pyfunc
for model_dir, inp, out in zip(sys.argv[1::3], sys.argv[2::3], sys.argv[3::3]):
    with np.load(inp) as stored:
        data = dict(stored)
    data = data["input"] if list(data) == ["input"] else data
    result = pack.pyfunc.load_model(model_dir).predict(data)
    np.savez(out, **(result if isinstance(result, dict) else {"output": result}))
    print(model_dir, type(result).__name__)
"""


def predict_in_fresh_process(jobs: list[tuple[Path, object]], tmp_path: Path) -> list[object]:
    """Load each model in one new interpreter, predict on its data, return the predictions."""
    args: list[str] = []
    outputs = []
    for i, (model_dir, data) in enumerate(jobs):
        inp, out = tmp_path / f"in{i}.npz", tmp_path / f"out{i}.npz"
        np.savez(inp, **(data if isinstance(data, dict) else {"input": data}))
        args += [str(model_dir), str(inp), str(out)]
        outputs.append(out)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", PREDICT_SCRIPT, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results: list[object] = []
    for out in outputs:
        with np.load(out) as stored:
            arrays = dict(stored)
        results.append(arrays["output"] if list(arrays) == ["output"] else arrays)
    return results


@pytest.fixture(scope="session")
def fresh_predict(tmp_path_factory):
    """``fresh_predict([(model_dir, data), ...])``: predictions made in one new interpreter."""
    return lambda jobs: predict_in_fresh_process(jobs, tmp_path_factory.mktemp("fresh"))


@pytest.fixture(scope="session")
def mlflow_dl_python() -> Path:
    """The python of MLflow's virtualenv with torch, tensorflow-cpu, keras and onnx (cached)."""
    if os.environ.get("PACK_SKIP_INTEROP"):
        pytest.skip("PACK_SKIP_INTEROP is set")
    from devtools.mlflow_peer import DL_DISTRIBUTIONS, mlflow_python

    try:
        return mlflow_python(DL_DISTRIBUTIONS)
    except subprocess.CalledProcessError as exc:  # no package index: cannot build the peer
        pytest.skip(f"cannot create the MLflow deep-learning virtualenv: {exc}")
