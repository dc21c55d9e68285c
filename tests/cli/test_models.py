"""``pack log-model`` and ``pack predict`` through the real console script."""

from __future__ import annotations

import json
import pickle

import joblib
import pytest
import skops.io

from devtools.cli import run_pack
from pack import __version__


@pytest.fixture
def workdir(tmp_path, random_forest, classification_data):
    frame, _ = classification_data
    with open(tmp_path / "rf.pkl", "wb") as handle:
        pickle.dump(random_forest, handle)
    frame.head(8).to_csv(tmp_path / "rows.csv", index=False)
    return tmp_path


def predictions(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["predictions"]


def test_log_model_then_predict_matches_the_estimator(workdir, random_forest, classification_data):
    frame, _ = classification_data
    logged = run_pack("log-model", "sklearn", "rf.pkl", "--output", "m", "--input-example", "rows.csv", cwd=workdir)
    assert logged.returncode == 0, logged.stderr
    assert "signature: 10 inputs -> 1 outputs" in logged.stdout
    assert (workdir / "m" / "model.skops").is_file()  # repackaged in the safe format
    expected = random_forest.predict(frame.head(8)).tolist()
    assert predictions(run_pack("predict", "-m", "m", "-i", "rows.csv", cwd=workdir)) == expected
    frame.head(8).to_json(workdir / "rows.json", orient="split", index=False)
    assert (
        predictions(run_pack("predict", "-m", "file://" + str(workdir / "m"), "-i", "rows.json", cwd=workdir))
        == expected
    )
    (workdir / "body.json").write_text(json.dumps({"dataframe_records": frame.head(8).to_dict(orient="records")}))
    out = run_pack("predict", "-m", "m", "-i", "body.json", "-o", "out.json", "-t", "json", cwd=workdir)
    assert out.returncode == 0, out.stderr
    assert json.loads((workdir / "out.json").read_text())["predictions"] == expected


def test_other_native_files_and_directories(workdir, random_forest):
    joblib.dump(random_forest, workdir / "rf.joblib")
    (workdir / "rf.skops").write_bytes(skops.io.dumps(random_forest))
    (workdir / "only").mkdir()
    (workdir / "only" / "model.joblib").write_bytes((workdir / "rf.joblib").read_bytes())
    for source, target in (("rf.joblib", "a"), ("rf.skops", "b"), ("only", "c")):
        result = run_pack("log-model", "sklearn", source, "-o", target, cwd=workdir)
        assert result.returncode == 0, result.stderr
        # no example given: the signature comes from the estimator's feature names
        assert "(signature: 10 inputs -> 0 outputs)" in result.stdout
        assert f"next: pack serve {target}  |  pack models register {target} NAME" in result.stdout
    copied = run_pack("log-model", "sklearn", "a", "-o", "d", cwd=workdir)
    assert copied.returncode == 0, copied.stderr
    assert sorted(p.name for p in (workdir / "d").iterdir()) == sorted(p.name for p in (workdir / "a").iterdir())
    assert predictions(run_pack("predict", "-m", "d", "-i", "rows.csv", cwd=workdir)) == predictions(
        run_pack("predict", "-m", "b", "-i", "rows.csv", cwd=workdir)
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("log-model", "keras2", "rf.pkl", "-o", "out"), "unknown flavor 'keras2'"),
        (("log-model", "sklearn", "rows.csv", "-o", "out"), "not a scikit-learn model file"),
        (("log-model", "sklearn", "garbage.pkl", "-o", "out"), "cannot read a pickle file"),
        (("log-model", "sklearn", "list.pkl", "-o", "out"), "holds a list, not a scikit-learn estimator"),
        (("log-model", "python_function", "rf.pkl", "-o", "out"), "not a PythonModel"),
        (("log-model", "sklearn", ".", "-o", "out"), "exactly one model file"),
        (("log-model", "sklearn", "rf.pkl", "-o", "out", "--input-example", "bad.json"), "not valid JSON"),
        (("log-model", "sklearn", "rf.pkl", "-o", "taken"), "already exists"),
        (("log-model", "sklearn", "garbage.pkl"), "cannot read a pickle file"),
    ],
)
def test_log_model_bad_input(workdir, args, message):
    (workdir / "garbage.pkl").write_bytes(b"not a pickle")
    with open(workdir / "list.pkl", "wb") as handle:
        pickle.dump([1, 2], handle)
    (workdir / "bad.json").write_text("{nope")
    (workdir / "taken").mkdir()
    (workdir / "taken" / "file").write_text("keep")
    before = sorted(p.name for p in workdir.iterdir())
    result = run_pack(*args, cwd=workdir)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in workdir.iterdir()) == before  # nothing partial left behind
    assert (workdir / "taken" / "file").read_text() == "keep"


def test_predict_errors(workdir):
    assert (
        run_pack("log-model", "sklearn", "rf.pkl", "-o", "m", "--input-example", "rows.csv", cwd=workdir).returncode
        == 0
    )
    (workdir / "wrong.csv").write_text("f0,f1\n1,2\n")
    cases = [
        (("predict", "-m", "nowhere", "-i", "rows.csv"), 1, "no model at 'nowhere'"),
        (("predict", "-m", "m", "-i", "absent.csv"), 1, "absent.csv does not exist"),
        (("log-model", "sklearn", "missing.pkl", "-o", "out"), 1, "missing.pkl does not exist"),
        (("log-model", "sklearn", "rf.pkl", "-o", "out", "--input-example", "absent.csv"), 1, "does not exist"),
        (("predict", "-m", "m", "-i", "wrong.csv"), 2, "Model is missing inputs ['f2'"),
        (("predict", "-m", "s3x://bucket/m", "-i", "rows.csv"), 2, "unsupported model URI scheme"),
    ]
    for args, code, message in cases:
        result = run_pack(*args, cwd=workdir)
        assert (result.returncode, len(result.stderr.strip().splitlines())) == (code, 1), result.stderr
        assert message in result.stderr


def test_version():
    result = run_pack("--version")
    assert result.stdout.strip() == f"pack {__version__}"


def test_input_examples_and_inputs_in_numpy_and_parquet(workdir, random_forest, classification_data):
    import numpy as np

    frame, _ = classification_data
    frame.head(5).to_parquet(workdir / "rows.parquet")
    np.save(workdir / "rows.npy", frame.head(5).to_numpy())
    np.savez(workdir / "rows.npz", features=frame.head(5).to_numpy())
    logged = run_pack("log-model", "sklearn", "rf.pkl", "-o", "pq", "--input-example", "rows.parquet", cwd=workdir)
    assert logged.returncode == 0, logged.stderr
    assert "signature: 10 inputs -> 1 outputs" in logged.stdout
    expected = random_forest.predict(frame.head(5)).tolist()
    for rows in ("rows.parquet", "rows.npy", "rows.npz"):
        assert predictions(run_pack("predict", "-m", "pq", "-i", rows, cwd=workdir)) == expected
    from_npy = run_pack("log-model", "sklearn", "rf.pkl", "-o", "np", "--input-example", "rows.npy", cwd=workdir)
    assert from_npy.returncode == 0, from_npy.stderr
    (workdir / "objects.npy").write_bytes(b"\x93NUMPY garbage")
    bad = run_pack("predict", "-m", "pq", "-i", "objects.npy", cwd=workdir)
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: objects.npy is not a numpy file without pickled objects")


def test_the_readme_log_model_lines_work_with_and_without_an_example(workdir):
    env = {"PACK_TRACKING_URI": f"sqlite:///{workdir}/pack.db", "PACK_DEFAULT_ARTIFACT_ROOT": str(workdir / "runs")}
    with_example = run_pack(
        "log-model", "sklearn", "rf.pkl", "--output", "m", "--input-example", "rows.csv", env=env, cwd=workdir
    )
    assert with_example.returncode == 0, with_example.stderr
    assert "signature: 10 inputs -> 1 outputs" in with_example.stdout
    registered = run_pack(
        "log-model", "sklearn", "rf.pkl", "--register", "RandomForestClassifier", env=env, cwd=workdir
    )
    assert registered.returncode == 0, registered.stderr
    assert "(signature: 10 inputs -> 0 outputs)" in registered.stdout  # from the estimator's feature names
    assert "registered as RandomForestClassifier version 1" in registered.stdout
    logged = run_pack("log-model", "sklearn", "rf.pkl", env=env, cwd=workdir)
    assert logged.returncode == 0, logged.stderr
    assert "next: pack models register runs:/" in logged.stdout and logged.stdout.rstrip().endswith("/model NAME")
