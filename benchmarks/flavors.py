"""Save/load of a 100-tree RandomForest: pack (skops, cloudpickle) vs MLflow, and import times.

Run: python benchmarks/flavors.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._results import write_section
from devtools.mlflow_peer import MLFLOW_VERSION, mlflow_python, run_mlflow

MLFLOW_SCRIPT = textwrap.dedent(
    """
    import json, pickle, shutil, statistics, sys, time
    import mlflow.sklearn
    rf = pickle.load(open("rf.pkl", "rb"))
    repeats = REPEATS
    out = {}
    for fmt, extra in (("skops", {"skops_trusted_types": ["sklearn.tree._tree.Tree"]}), ("cloudpickle", {})):
        saves, loads = [], []
        for i in range(repeats):
            t = time.perf_counter()
            mlflow.sklearn.save_model(rf, f"ml-{fmt}-{i}", serialization_format=fmt, **extra)
            saves.append(time.perf_counter() - t)
            t = time.perf_counter()
            mlflow.sklearn.load_model(f"ml-{fmt}-{i}")
            loads.append(time.perf_counter() - t)
        out[fmt] = {"save": statistics.median(saves), "load": statistics.median(loads)}
    json.dump(out, open("mlflow.json", "w"))
    """
)


def _median_times(fn, repeats: int) -> float:
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _import_ms(python: str, module: str) -> float:
    """Cumulative import time of ``module`` (ms) from ``-X importtime``, median of 5."""
    values = []
    for _ in range(5):
        err = subprocess.run(
            [python, "-X", "importtime", "-c", f"import {module}"], capture_output=True, text=True, check=True
        ).stderr
        rows = [line.split("|") for line in err.splitlines() if line.startswith("import time:") and "|" in line]
        top = [int(r[1]) for r in rows if r[2].strip() == module]
        values.append(top[-1] / 1000)
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller data")
    args = parser.parse_args()
    repeats = 2 if args.quick else 5

    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    import pack
    import pack.pyfunc

    X, y = make_classification(n_samples=2000 if args.quick else 10000, n_features=10, random_state=0)
    rf = RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1).fit(X, y)
    work = Path(tempfile.mkdtemp(prefix="pack-bench-flavors-"))
    rows = []
    pack_times = {}
    for fmt in ("skops", "cloudpickle"):
        save = _median_times(lambda i, f=fmt: pack.save_model(rf, work / f"p-{f}-{i}", serialization_format=f), repeats)

        def load(i: int, f: str = fmt) -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pack.pyfunc.load_model(work / f"p-{f}-{i}")

        pack_times[fmt] = {"save": save, "load": _median_times(load, repeats)}
    size = sum(p.stat().st_size for p in (work / "p-skops-0").iterdir())

    with open(work / "rf.pkl", "wb") as handle:
        pickle.dump(rf, handle)
    run_mlflow(MLFLOW_SCRIPT.replace("REPEATS", str(repeats)), cwd=work, timeout=1800)
    mlflow_times = json.loads((work / "mlflow.json").read_text())

    for fmt in ("skops", "cloudpickle"):
        for op in ("save", "load"):
            ours, theirs = pack_times[fmt][op], mlflow_times[fmt][op]
            rows.append(f"| {fmt} | {op} | {ours * 1000:.0f} ms | {theirs * 1000:.0f} ms | {theirs / ours:.1f}x |")

    pack_import = _import_ms(sys.executable, "pack")
    mlflow_import = _import_ms(str(mlflow_python()), "mlflow")
    body = "\n".join(
        [
            f"## Flavors: 100-tree RandomForest save/load (pack vs MLflow {MLFLOW_VERSION})",
            "",
            f"Model directory {size / 1e6:.1f} MB (skops). Median of {repeats} runs, in-process, same machine and run.",
            "",
            "| format | operation | pack | MLflow | pack speed-up |",
            "|---|---|---|---|---|",
            *rows,
            "",
            f'`python -X importtime -c "import pack"`: **{pack_import:.1f} ms** cumulative '
            f"(`import mlflow`: {mlflow_import:.0f} ms).",
        ]
    )
    print(body)
    write_section("flavors", body)


if __name__ == "__main__":
    main()
