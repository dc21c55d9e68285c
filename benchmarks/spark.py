"""Batch scoring on Spark: ``pack.pyfunc.spark_udf`` vs ``mlflow.pyfunc.spark_udf``, side by side in one run.

The serving benchmark's RandomForest (50 trees, depth 8, 10 features) scores the same Parquet table
(1,000,000 rows in 8 files) on ``local[2]``. Each library runs in its own process with its own
SparkSession: pack in this interpreter, MLflow in its peer virtualenv with the same pyspark
(``devtools/mlflow_peer.py``), ``env_manager="local"``, both called as ``udf()`` (the signature's
columns). Measured per library:

* time to first result: from importing the library to the first scored row (the ``spark_udf(...)``
  call, then cold Python workers: they start, import, load the model and score one Arrow batch);
* rows/s: full passes over the table (``sum`` of the predictions, which also checks that both
  libraries predict the same), median of the rounds, workers warm;
* the in-process floor: ``pyfunc.predict`` on the same rows in 10,000-row batches (Arrow's batch
  size) in this process, one core (Spark has two);
* pack again with ``accelerate=True`` (the forest compiled once on the driver to native code, else
  onnxruntime's tree kernel, shipped in the archive; workers do not import scikit-learn);
* pack again on the same model converted to ONNX (``pack convert --to onnx``).

pack runs from a virtualenv holding what scoring needs (pack with its sklearn, accelerate and spark extras, no
torch: ``devtools.venvs.pack_serving_python``), as MLflow does from its own.

Usage: python benchmarks/spark.py [--quick] [--no-mlflow]
(writes its section of benchmarks/RESULTS.md unless --no-mlflow)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._results import write_section  # noqa: E402
from benchmarks._servers import FEATURES, train  # noqa: E402
from devtools.venvs import pack_serving_python  # noqa: E402

BATCH = 10_000
FILES = 8
SIDES = ("pack", "accelerate", "onnx")  # pack's columns, each beside MLflow
LABELS = {"pack": "pack", "accelerate": "pack, `accelerate=True`", "onnx": "pack, model converted to ONNX"}
TABLES = {
    "files": "as read from the files",
    "shuffled": "after a shuffle into 200 partitions (Spark's default, as after a join)",
}
JOB = r"""
import json, sys, time
model, data, library, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
started = time.monotonic()
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
session_s = time.monotonic() - started
tables = {"files": spark.read.parquet(data).cache()}
tables["shuffled"] = tables["files"].repartition(200).cache()
rows = {name: table.count() for name, table in tables.items()}
started = time.monotonic()
if library.startswith("pack"):
    import pack.pyfunc as flavor
    kwargs = {"accelerate": True} if library == "pack-accelerate" else {}
else:
    import mlflow.pyfunc as flavor
    kwargs = {"env_manager": "local"}
creating = time.monotonic()
udf = flavor.spark_udf(spark, model, **kwargs)
created_s = time.monotonic() - creating
tables["files"].withColumn("p", udf()).head(1)
first_s = time.monotonic() - started
result = {"rows": rows["files"], "session_s": session_s, "created_s": created_s, "first_s": first_s,
          "acceleration": getattr(udf, "acceleration", None)}
for name, table in tables.items():
    table.withColumn("p", udf()).agg({"p": "sum"}).collect()  # warm: every worker has loaded the model
    passes, sums = [], set()
    for _ in range(rounds):  # a new DataFrame each pass: re-collecting one would reuse its shuffle output
        started = time.monotonic()
        sums.add(table.withColumn("p", udf()).agg({"p": "sum"}).collect()[0][0])
        passes.append(time.monotonic() - started)
    result[name] = {"partitions": table.rdd.getNumPartitions(), "passes_s": passes, "sums": sorted(sums)}
spark.stop()
print("RESULT " + json.dumps(result))
"""


def make_table(work: Path, rows: int) -> Path:
    """``rows`` random feature rows in ``FILES`` Parquet files (so both Spark workers get partitions)."""
    import numpy as np
    import pandas as pd

    folder = work / "rows"
    folder.mkdir()
    rng = np.random.default_rng(7)
    for index in range(FILES):
        count = rows // FILES + (1 if index < rows % FILES else 0)
        frame = pd.DataFrame(rng.normal(size=(count, len(FEATURES))), columns=FEATURES)
        frame.to_parquet(folder / f"part-{index:02d}.parquet", index=False)
    return folder


def run_job(python: Path, model: Path, data: Path, library: str, rounds: int, work: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(PYSPARK_PYTHON=str(python), SPARK_LOCAL_IP="127.0.0.1", MLFLOW_TRACKING_URI=f"sqlite:///{work}/m.db")
    done = subprocess.run(
        [str(python), "-c", JOB, str(model), str(data), library, str(rounds)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{library} job failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}")
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    for name in TABLES:
        result[name]["rows_per_s"] = result["rows"] / statistics.median(result[name]["passes_s"])
    return result


def floor(model: Path, data: Path) -> dict[str, float]:
    """In-process ``pyfunc.predict`` over the same rows, in Arrow-sized batches, one core."""
    import pandas as pd

    import pack.pyfunc

    loaded = pack.pyfunc.load_model(model)
    frame = pd.read_parquet(data)
    loaded.predict(frame.iloc[:BATCH])  # warm
    started = time.perf_counter()
    for start in range(0, len(frame), BATCH):
        loaded.predict(frame.iloc[start : start + BATCH])
    seconds = time.perf_counter() - started
    return {"rows": len(frame), "seconds": seconds, "rows_per_s": len(frame) / seconds}


def report(results: dict[str, Any], quick: bool) -> str:
    import pyspark
    import sklearn

    import pack
    from devtools.mlflow_peer import MLFLOW_VERSION

    theirs, base = results.get("mlflow"), results["floor"]
    ours = results["pack"]

    def cell(side: dict[str, Any] | None, value: Any, digits: int) -> str:
        return "-" if side is None else f"{value(side):,.{digits}f}"

    def ratio(side: dict[str, Any] | None, value: Any, higher_is_better: bool) -> str:
        if side is None or theirs is None:
            return "-"
        a, b = value(side), value(theirs)
        return f"{(a / b if higher_is_better else b / a):.2f}x"

    def row(label: str, value: Any, digits: int, higher_is_better: bool) -> str:
        cells = [cell(theirs, value, digits)]
        for side in SIDES:
            cells += [cell(results.get(side), value, digits), ratio(results.get(side), value, higher_is_better)]
        return f"| {label} | {' | '.join(cells)} |"

    rows = []
    for name, label in TABLES.items():
        text = f"rows/s, {label}: {ours[name]['partitions']} partitions (median of {len(ours[name]['passes_s'])})"
        rows.append(row(text, lambda side, n=name: side[n]["rows_per_s"], 0, True))
    rows.append(row("time to first result (s)", lambda side: side["first_s"], 2, False))
    rows.append(row("of which the `spark_udf(...)` call (s)", lambda side: side["created_s"], 2, False))
    same = theirs is not None and all(
        results[side][n]["sums"] == theirs[n]["sums"] for side in ("pack", "accelerate") for n in TABLES
    )
    goals = []
    for side in ("pack", "accelerate"):
        for name, label in TABLES.items():
            rate = ratio(results[side], lambda entry, n=name: entry[n]["rows_per_s"], True)
            met = theirs is not None and results[side][name]["rows_per_s"] >= 2 * theirs[name]["rows_per_s"]
            goals.append(f"| rows/s >= 2x MLflow's, {label}, {LABELS[side]} | {rate} | {'met' if met else 'not met'} |")
    sums = {side: results.get(side) and [results[side][n]["sums"] for n in TABLES] for side in ("mlflow", *SIDES)}
    header = " | ".join(f"{LABELS[side]} | / MLflow" for side in SIDES)
    lines = [
        "## Spark: `pack.pyfunc.spark_udf` vs `mlflow.pyfunc.spark_udf`",
        "",
        f"Run {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC by `python benchmarks/spark.py"
        f"{' --quick' if quick else ''}` on {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"pyspark {pyspark.__version__}, pack {pack.__version__}, MLflow {MLFLOW_VERSION}, scikit-learn "
        f"{sklearn.__version__}; load average {results['load_before']:.2f} before, {os.getloadavg()[0]:.2f} after "
        "(on a shared machine the figures are noisy; re-run on a quiet one).",
        f"RandomForestClassifier (50 trees, depth 8, 10 features) over {ours['rows']:,} rows of Parquet in {FILES} "
        "files, cached in memory; `local[2]`; one process and SparkSession per library (session start: pack "
        f"{ours['session_s']:.1f} s, MLflow {cell(theirs, lambda side: side['session_s'], 1)} s); `udf()` on the "
        'signature\'s columns; MLflow with `env_manager="local"`; Arrow batches of 10,000 rows. Rows/s are '
        "full passes (the sum of the predictions) with warm Python workers. pack runs from a virtualenv with "
        "pack's sklearn, accelerate and spark extras (no torch), MLflow from its own.",
        "",
        f"| measure | MLflow | {header} |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"In-process floor: `pyfunc.predict` on the same {base['rows']:,} rows in 10,000-row batches, one core: "
        f"{base['rows_per_s']:,.0f} rows/s ({base['seconds']:.2f} s); Spark runs two Python workers, so the UDF "
        "can pass the one-core floor. "
        + (
            "pack's (with and without `accelerate`) and MLflow's predictions summed to the same total on every pass."
            if same
            else "Prediction sums differ or MLflow did not run: " + json.dumps(sums)
        )
        + " The ONNX model comes from `pack convert --to onnx` (verified on the input example); sums per pass: "
        + json.dumps(sums["onnx"])
        + f". `accelerate=True`: {results['accelerate']['acceleration']}.",
        "",
        "| goal | measured | status |",
        "|---|---|---|",
        *goals,
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200,000 rows and one pass each")
    parser.add_argument("--no-mlflow", action="store_true", help="pack only (no ratios; nothing is written)")
    args = parser.parse_args()
    rows, rounds = (200_000, 1) if args.quick else (1_000_000, 5)
    results: dict[str, Any] = {"load_before": os.getloadavg()[0]}
    from pack.flavors.convert import convert_to_onnx

    with tempfile.TemporaryDirectory(prefix="pack-bench-spark-") as tmp:
        work = Path(tmp)
        model = train(work)[0]
        data = make_table(work, rows)
        results["floor"] = floor(model, data)
        python = pack_serving_python(("sklearn", "accelerate", "spark"))
        results["pack"] = run_job(python, model, data, "pack", rounds, work)
        results["accelerate"] = run_job(python, model, data, "pack-accelerate", rounds, work)
        onnx = convert_to_onnx(str(model), work / "onnx").path
        results["onnx"] = run_job(python, onnx, data, "pack", rounds, work)
        if not args.no_mlflow:
            from devtools.mlflow_peer import mlflow_python

            results["mlflow"] = run_job(mlflow_python(("pyspark",)), model, data, "mlflow", rounds, work)
    section = report(results, args.quick)
    print(section)
    if not args.no_mlflow:
        write_section("spark", section)
        print("wrote benchmarks/RESULTS.md (spark)")


if __name__ == "__main__":
    main()
