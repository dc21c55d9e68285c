"""``pack predict --engine spark``: the real console script, its own Spark on local[2]."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pack
import pack.pyfunc
from devtools.cli import run_pack

FEATURES = [f"f{i}" for i in range(10)]


@pytest.fixture
def workdir(tmp_path, random_forest, classification_data):
    frame = classification_data[0].head(90).reset_index(drop=True)
    pack.save_model(random_forest, tmp_path / "rf", input_example=frame.head(3))
    frame = frame.assign(id=np.arange(len(frame)), day=np.repeat(["mon", "tue", "wed"], 30))
    frame.to_parquet(tmp_path / "rows", partition_cols=["day"])
    return tmp_path, frame


def test_scores_a_partitioned_dataset_into_parquet_partitioned_the_same(workdir, spark_runs):
    pytest.importorskip("skl2onnx")
    tmp_path, frame = workdir
    done = run_pack(
        "predict", "--engine", "spark", "-m", str(tmp_path / "rf"), "-i", str(tmp_path / "rows"),
        "-o", str(tmp_path / "scored"), "--master", "local[2]", "--accelerate",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "accelerate: compiled: RandomForestClassifier runs on " in done.stderr  # native code, or onnxruntime
    assert done.stdout.startswith("scored 90 rows in ") and " rows/s) " in done.stdout
    assert sorted(p.name for p in (tmp_path / "scored").glob("day=*")) == ["day=mon", "day=tue", "day=wed"]

    out = pd.read_parquet(tmp_path / "scored").sort_values("id").reset_index(drop=True)
    assert set(out.columns) == {*FEATURES, "id", "day", "prediction"}
    expected = pack.pyfunc.load_model(tmp_path / "rf").predict(frame[FEATURES])
    np.testing.assert_array_equal(out["prediction"].to_numpy(), expected)
    assert list(out["day"].astype(str)) == list(frame["day"])


def test_errors_are_one_line_with_the_exit_code_of_their_family(workdir, spark_runs):
    tmp_path, frame = workdir
    (tmp_path / "exists").mkdir()
    base = ("predict", "-m", str(tmp_path / "rf"), "-i", str(tmp_path / "rows"))
    for args, code, message in [
        (("--engine", "spark", "-o", str(tmp_path / "exists")), 2, "already exists"),  # before Spark starts
        (("--engine", "spark"), 2, "pass --output-path DIR"),
        (("--master", "local[2]"), 2, "--master: only with --engine spark"),
        (("--accelerate",), 2, "--accelerate: only with --engine spark"),
    ]:
        done = run_pack(*base, *args)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == code and len(lines) == 1 and lines[0].startswith("error: ")
        assert message in lines[0]

    # A value the signature refuses fails in an executor: the model's SchemaError comes back as one line.
    bad = frame.drop(columns=["day"]).astype({"f3": str})
    bad["f3"] = "not a number"
    bad.to_json(tmp_path / "bad.json", orient="records", lines=True)
    done = run_pack(*base[:4], str(tmp_path / "bad.json"), "--engine", "spark", "-o", str(tmp_path / "out"))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: ") and "f3" in done.stderr.splitlines()[-1]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.*"))  # no partial output
