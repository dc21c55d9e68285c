"""In-process predict: the serving benchmark's RandomForest vs its ONNX conversion, pack and MLflow.

RandomForestClassifier(50 trees, max_depth=8) on 10 features; 1 row and 10,000 rows; the median of
repeated calls after a warm-up. Rows:

* floor: ``estimator.predict(ndarray)`` and ``session.run`` on a float32 ndarray (no pack, no MLflow);
* pack: ``pack.pyfunc.load_model(dir).predict(DataFrame)`` (signature enforcement included);
* MLflow: ``mlflow.pyfunc.load_model(dir).predict(DataFrame)`` on the same two directories, run in the
  MLflow peer virtualenv in the same run (its ONNX pyfunc returns every output, as a DataFrame).

Run: ``.venv/bin/python benchmarks/onnx_convert.py [--skip-mlflow]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._results import write_section

TRUSTED = ["sklearn.tree._tree.Tree"]
REPEATS = {1: 300, 10_000: 15}

TIMER = """
import statistics, time
def timed(fn, repeats):
    for _ in range(3):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000
"""

MLFLOW_SCRIPT = (
    TIMER
    + """
import json, sys
import pandas as pd, mlflow.pyfunc
frame = pd.read_parquet(sys.argv[3])
result = {}
for label, path in (("sklearn", sys.argv[1]), ("onnx", sys.argv[2])):
    model = mlflow.pyfunc.load_model(path)
    for rows, repeats in ((1, 300), (10000, 15)):
        batch = frame.head(rows)
        result[f"{label}/{rows}"] = timed(lambda: model.predict(batch), repeats)
print(json.dumps(result))
"""
)


def timed(fn: Callable[[], Any], repeats: int) -> float:
    """Median milliseconds of ``fn()`` over ``repeats`` calls after three warm-up calls (as TIMER)."""
    for _ in range(3):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-mlflow", action="store_true", help="Do not run the MLflow peer.")
    args = parser.parse_args()

    import numpy as np
    import onnxruntime as ort
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    import pack
    import pack.pyfunc
    from pack.flavors.convert import convert_to_onnx

    features, labels = make_classification(n_samples=20_000, n_features=10, random_state=0)
    frame = pd.DataFrame(features, columns=[f"f{i}" for i in range(10)])
    forest = RandomForestClassifier(n_estimators=50, max_depth=8, random_state=0).fit(frame, labels)
    work = Path(tempfile.mkdtemp(prefix="pack-onnx-bench-"))
    pack.save_model(forest, work / "sklearn", input_example=frame.head(100), skops_trusted_types=TRUSTED)
    conversion = convert_to_onnx(work / "sklearn", work / "onnx", model_config={"trusted_types": TRUSTED})
    frame.head(10_000).to_parquet(work / "rows.parquet")

    sk_model = pack.pyfunc.load_model(work / "sklearn", model_config={"trusted_types": TRUSTED})
    onnx_model = pack.pyfunc.load_model(work / "onnx")
    single = ort.SessionOptions()
    single.intra_op_num_threads = 1
    single_session = ort.InferenceSession(str(work / "onnx" / "model.onnx"), single, providers=["CPUExecutionProvider"])
    default_session = onnx_model.predictor.session  # type: ignore[attr-defined]
    input_name = default_session.get_inputs()[0].name
    threads = default_session.get_session_options().intra_op_num_threads

    labels = {
        "sk_floor": "floor: sklearn predict(ndarray)",
        "ort_1": "floor: onnxruntime run(float32), 1 thread",
        "ort_n": f"floor: onnxruntime run(float32), {threads} threads",
        "sk_pack": "pack: sklearn model, pyfunc predict(DataFrame)",
        "onnx_pack": f"pack: ONNX model, pyfunc predict(DataFrame), {threads} threads",
        "sk_mlflow": "MLflow: sklearn model, pyfunc predict(DataFrame)",
        "onnx_mlflow": "MLflow: ONNX model, pyfunc predict(DataFrame)",
    }

    def candidates(batch: Any) -> dict[str, Callable[[], Any]]:
        array = batch.to_numpy()
        array32 = array.astype(np.float32)
        return {
            "sk_floor": lambda: forest.predict(array),
            "ort_1": lambda: single_session.run(["label"], {input_name: array32}),
            "ort_n": lambda: default_session.run(["label"], {input_name: array32}),
            "sk_pack": lambda: sk_model.predict(batch),
            "onnx_pack": lambda: onnx_model.predict(batch),
        }

    rows: dict[str, dict[int, float]] = {}
    for n, repeats in REPEATS.items():
        for key, fn in candidates(frame.head(n)).items():
            rows.setdefault(key, {})[n] = timed(fn, repeats)

    if not args.skip_mlflow:
        from devtools.mlflow_peer import DL_DISTRIBUTIONS, mlflow_python, run_mlflow

        done = run_mlflow(
            MLFLOW_SCRIPT,
            work,
            python=mlflow_python(DL_DISTRIBUTIONS),
            args=[str(work / "sklearn"), str(work / "onnx"), str(work / "rows.parquet")],
        )
        peer = json.loads(done.stdout.strip().splitlines()[-1])
        for key, name in (("sk_mlflow", "sklearn"), ("onnx_mlflow", "onnx")):
            rows[key] = {n: peer[f"{name}/{n}"] for n in REPEATS}

    lines = [
        "## ONNX conversion: the serving benchmark's RandomForest, scikit-learn vs onnxruntime (in-process)",
        "",
        f"`pack convert --to onnx` checked {conversion.rows_checked} rows, max abs diff {conversion.max_abs_diff:.3g}."
        " Median ms per predict call:",
        "",
        "| in-process predict (median ms) | 1 row | 10,000 rows |",
        "|---|---|---|",
        *(f"| {labels[key]} | {values[1]:.3f} | {values[10_000]:.2f} |" for key, values in rows.items()),
    ]
    pairs = [("sk_floor", "ort_n"), ("sk_floor", "ort_1"), ("sk_pack", "onnx_pack")]
    if "sk_mlflow" in rows:
        pairs += [("sk_mlflow", "onnx_mlflow"), ("sk_mlflow", "onnx_pack"), ("onnx_mlflow", "onnx_pack")]
    lines += ["", "| speed-up (time of the first / time of the second) | 1 row | 10,000 rows |", "|---|---|---|"]
    for slow, fast in pairs:
        one, many = (rows[slow][n] / rows[fast][n] for n in (1, 10_000))
        lines.append(f"| {labels[slow]} / {labels[fast]} | {one:.1f}x | {many:.1f}x |")
    body = "\n".join(lines)
    print(body)
    write_section("onnx", body)
    print(json.dumps({"median_ms": {labels[k]: v for k, v in rows.items()}}), file=sys.stderr)


if __name__ == "__main__":
    main()
