"""``pack convert`` end to end: the real command in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("skl2onnx")

from sklearn.linear_model import LogisticRegression

import pack
import pack.pyfunc
from devtools.builders import assert_no_host_paths

PACK = [str(Path(sys.executable).with_name("pack"))]


def run_pack(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PACK, *args], capture_output=True, text=True, timeout=300, check=False, env=dict(os.environ)
    )


@pytest.fixture
def logistic(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    model = LogisticRegression().fit(frame, (frame["a"] > 0).astype(int))
    pack.save_model(model, tmp_path / "model", input_example=frame.head(10))
    return model, frame


def test_convert_writes_a_verified_onnx_model(logistic, tmp_path):
    model, frame = logistic
    done = run_pack("convert", str(tmp_path / "model"), "--to", "onnx", "--output", str(tmp_path / "onnx"))

    assert done.returncode == 0, done.stderr
    assert "predictions on 10 example rows match" in done.stdout
    np.testing.assert_array_equal(pack.pyfunc.load_model(tmp_path / "onnx").predict(frame), model.predict(frame))


def test_convert_errors_are_one_line(logistic, tmp_path):
    _, frame = logistic
    bare = tmp_path / "bare"
    pack.save_model(LogisticRegression().fit(frame, frame["b"] > 0), bare)
    done = run_pack("convert", str(bare), "--to", "onnx", "--output", str(tmp_path / "out"))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: the model has no input example to verify the conversion on: pass one (--input-example)"
    )

    example = tmp_path / "example.json"
    example.write_text(json.dumps({"dataframe_split": frame.head(4).to_dict(orient="split", index=False)}))
    done = run_pack("convert", str(bare), "--to", "onnx", "-o", str(tmp_path / "out"), "--input-example", str(example))
    assert done.returncode == 0, done.stderr
    assert "on 4 example rows" in done.stdout

    done = run_pack("convert", str(tmp_path / "missing"), "--to", "onnx", "-o", str(tmp_path / "x"))
    assert done.returncode == 1
    assert done.stderr.startswith("error: no model at")


def test_convert_registers_the_onnx_model_as_a_new_version(logistic, tmp_path):
    model, frame = logistic
    env_dir = tmp_path / "work"
    env_dir.mkdir()
    wheels = Path(os.environ.get("PACK_CI_CACHE") or Path.home() / ".cache" / "pack-ci") / "pack"  # builders' cache
    env = {**os.environ, "PACK_TRACKING_URI": f"sqlite:///{env_dir}/pack.db", "PACK_CACHE_DIR": str(wheels)}
    env["PACK_DEFAULT_ARTIFACT_ROOT"] = str(env_dir / "packruns")

    def pack_in_registry(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*PACK, *args], capture_output=True, text=True, timeout=300, check=False, env=env)

    assert pack_in_registry("models", "register", str(tmp_path / "model"), "clf").returncode == 0
    assert pack_in_registry("models", "transition", "clf", "1", "Production").returncode == 0
    done = pack_in_registry("convert", "models:/clf/Production", "--to", "onnx", "--register", "clf")
    assert done.returncode == 0, done.stderr
    assert "registered as clf version 2 (tagged pack.converted_from=models:/clf/1)" in done.stdout
    versions = json.loads(pack_in_registry("models", "versions", "clf", "--json").stdout)["model_versions"]
    converted = next(v for v in versions if v["version"] == 2)
    # provenance names the exact version (a stage moves) and no scratch directory
    assert converted["tags"] == {"pack.converted_from": "models:/clf/1", "pack.format": "onnx"}
    assert converted["source"] == "models:/clf/1"
    assert converted["flavors"] == ["onnx", "python_function"]
    built = {}
    for command, extra in (
        ("build-k8s", ["--image", "clf:2"]),
        ("build-chart", ["--image", "clf:2"]),
        ("build-sagemaker", []),
    ):
        built[command] = tmp_path / command
        out = pack_in_registry(command, "-m", "models:/clf/2", "-o", str(built[command]), *extra)
        assert out.returncode == 0, out.stderr
    context = pack_in_registry("build-docker", "-m", "models:/clf/2", "--context-only", str(tmp_path / "ctx"))
    assert context.returncode == 0, context.stderr
    registered = sorted((env_dir / "packruns").rglob("MLmodel"))
    assert len(registered) == 2
    machine_paths = [str(tmp_path), str(Path.home()), "/tmp/pack-", str(Path(__file__).resolve().parents[2])]
    for root in [*built.values(), tmp_path / "ctx", *(p.parent for p in registered)]:
        assert_no_host_paths(root, *map(Path, machine_paths))
    frame.head(5).to_csv(tmp_path / "rows.csv", index=False)
    predicted = pack_in_registry("predict", "-m", "models:/clf/2", "-i", str(tmp_path / "rows.csv"))
    assert predicted.returncode == 0, predicted.stderr
    assert json.loads(predicted.stdout)["predictions"] == model.predict(frame.head(5)).tolist()
    neither = pack_in_registry("convert", "models:/clf/1", "--to", "onnx")
    assert neither.returncode == 2
    assert neither.stderr.strip() == "error: give --output DIR, --register NAME, or both"
