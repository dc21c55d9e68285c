"""pack serve against MLServer, BentoML and MLflow, side by side in one run.

The same RandomForest (50 trees, depth 8, 10 features) behind every server, one worker each, each
server from its own virtualenv (``benchmarks/_servers.py``), all driven by the same ``wrk`` script:

* 1 row at 1, 16 and 64 connections, 100 rows at 64 connections, 10,000 rows at 1 connection: req/s
  (rows/s) with p50 and p99, the median of ``--repeats`` runs, servers taking turns;
* pack on both protocols: MLflow's ``/invocations`` (``dataframe_split``) and V2 (one FP64 tensor, in
  JSON and with the binary tensor extension);
* ``pack serve --accelerate`` (tree ensembles compiled at load) on the same workloads;
* cold start (command to the first 200, median of three starts) and memory after start (PSS), also
  from this interpreter, where torch and TensorFlow are installed (as with ``pack[all]``), each beside
  its floor: the same interpreter's ``import sklearn.ensemble``, taking turns with the starts;
* ``pack serve -w 2`` against one worker at 64 connections;
* the in-process floor: scikit-learn's own predict on the same rows.

Writes its section of ``benchmarks/RESULTS.md`` with the ratios and the goals of issue 17.

Usage: python benchmarks/serving.py [--quick] [--no-write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import _servers as servers  # noqa: E402
from benchmarks._load import WRK_SCRIPT, Load, ensure_wrk, wrk  # noqa: E402
from benchmarks._results import write_section  # noqa: E402

PHASES = (  # (label, rows, connections, latency shown)
    ("1 row, c=1", "1", 1, "p50"),
    ("1 row, c=16", "1", 16, "p99"),
    ("1 row, c=64", "1", 64, "p99"),
    ("100 rows, c=64", "100", 64, "p50"),
    ("10,000 rows, c=1", "10k", 1, "p50"),
)
PACK_COLUMNS = ("pack /invocations", "pack V2", "pack V2 binary")
ACCELERATED = ("pack --accelerate /invocations", "pack --accelerate V2", "pack --accelerate V2 binary")
V2_ROUTES = {"pack V2": "V2", "pack V2 binary": "V2 binary"}  # each held against /invocations


def floors(model: Any, frame: Any, repeat: int) -> dict[str, float]:
    """scikit-learn's predict in process: ms for 1 row, rows/s for 10,000 rows."""

    def median_seconds(function: Any, times: int) -> float:
        function()
        samples = []
        for _ in range(times):
            started = time.perf_counter()
            function()
            samples.append(time.perf_counter() - started)
        return statistics.median(samples)

    one = frame.iloc[:1]
    many = frame.sample(10_000, replace=True, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "one_ms": median_seconds(lambda: model.predict(one), repeat * 20) * 1000,
            "many_rows_s": 10_000 / median_seconds(lambda: model.predict(many), repeat),
        }


def columns(started: dict[str, servers.Started]) -> dict[str, tuple[servers.Started, str]]:
    """Column name -> (server, protocol)."""
    out: dict[str, tuple[servers.Started, str]] = {}
    for name, server in started.items():
        if name.startswith("pack"):
            prefix = "pack --accelerate" if "accelerate" in name else "pack"
            out[f"{prefix} /invocations"] = (server, "invocations")
            out[f"{prefix} V2"] = (server, "v2")
            out[f"{prefix} V2 binary"] = (server, "v2-binary")
        else:
            out[name] = (server, next(iter(server.urls)))
    return out


def summarise(loads: list[Load], rows: int) -> dict[str, float]:
    return {
        "rate": statistics.median(load.rps for load in loads) * rows,
        "p50": statistics.median(load.p50_ms for load in loads),
        "p99": statistics.median(load.p99_ms for load in loads),
        "failed": sum(load.non2xx + load.errors for load in loads),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    ensure_wrk()
    seconds, repeats = (3.0, 1) if args.quick else (10.0, args.repeats)
    work = Path(tempfile.mkdtemp(prefix="pack-bench-serving-"))
    script = work / "post.lua"
    script.write_text(WRK_SCRIPT)
    model_dir, model, frame = servers.train(work)
    bodies = servers.write_bodies(frame, work)
    results: dict[str, Any] = {
        "load_before": os.getloadavg()[0],
        "floors": floors(model, frame, 5 if args.quick else 15),
    }
    starters = {
        "pack": lambda: servers.start_pack(model_dir, work, bodies),
        "pack --accelerate": lambda: servers.start_pack(model_dir, work, bodies, "--accelerate"),
        "MLServer, one process": lambda: servers.start_mlserver(work, bodies, 0),
        "MLServer, inference process": lambda: servers.start_mlserver(work, bodies, 1),
        "BentoML": lambda: servers.start_bentoml(work, bodies),
        "MLflow": lambda: servers.start_mlflow(model_dir, work, bodies),
    }
    cold = cold_starts(model_dir, work, bodies, 1 if args.quick else 3)
    results["cold"] = cold
    started: dict[str, servers.Started] = {}
    try:
        for name, start in starters.items():  # one at a time: cold starts do not overlap
            started[name] = start()
            cold.setdefault(name, started[name].server.cold_start)
            print(f"{name}: up in {started[name].server.cold_start:.2f} s", flush=True)
        results["pss_mb"] = started["pack"].server.pss_mb()
        targets = columns(started)
        for server, protocol in targets.values():
            wrk(server.target(protocol, bodies, "1"), script, 4, 1.0)  # warm up
        runs: dict[str, dict[str, list[Load]]] = {name: {} for name in targets}
        for label, rows, connections, _ in PHASES:
            for _ in range(repeats):  # servers take turns, so all see the same machine
                for name, (server, protocol) in targets.items():
                    load = wrk(server.target(protocol, bodies, rows), script, connections, seconds)
                    runs[name].setdefault(label, []).append(load)
                    print(
                        f"{label} {name}: {load.rps * servers.ROWS[rows]:,.0f}/s p50 {load.p50_ms:.2f} ms"
                        f" p99 {load.p99_ms:.2f} ms",
                        flush=True,
                    )
        results["points"] = {
            name: {label: summarise(runs[name][label], servers.ROWS[rows]) for label, rows, _, _ in PHASES}
            for name in targets
        }
    finally:
        for server in started.values():
            server.server.stop()
    results["workers"] = workers(model_dir, work, bodies, script, seconds, repeats)
    results["load_after"] = os.getloadavg()[0]
    return results


def cold_starts(model: Path, work: Path, bodies: dict[tuple[str, str], Path], times: int) -> dict[str, float]:
    """Median cold start and PSS of ``pack serve``: serving virtualenv, and this interpreter (torch and TF);
    and, taking turns with it, the floor: the same interpreter importing scikit-learn's forests."""
    from devtools.venvs import pack_serving_python

    out: dict[str, float] = {}
    pythons = {"pack": pack_serving_python(), "pack, torch and TensorFlow installed": servers.this_python()}
    for key, python in pythons.items():
        starts, pss, floors = [], [], []
        for _ in range(times):
            floors.append(import_floor(python))
            started = servers.start_pack(model, work, bodies, python=python)
            starts.append(started.server.cold_start)
            pss.append(started.server.pss_mb())
            started.server.stop()
        out[key] = statistics.median(starts)
        out[f"{key} PSS"] = statistics.median(pss)
        out[f"{key} floor"] = statistics.median(floors)
        print(
            f"{key}: cold start {out[key]:.2f} s (floor {out[f'{key} floor']:.2f} s), PSS {out[f'{key} PSS']:.0f} MB",
            flush=True,
        )
    return out


def import_floor(python: Path) -> float:
    """Seconds from launch to the end of ``import sklearn.ensemble`` (the process then exits without
    tearing down): what any server of the forest pays before it can load it (scikit-learn's import
    takes scipy.stats and pandas with it)."""
    started = time.monotonic()
    subprocess.run([str(python), "-c", "import os, sklearn.ensemble; os._exit(0)"], check=True)
    return time.monotonic() - started


def workers(model: Path, work: Path, bodies: Any, script: Path, seconds: float, repeats: int) -> dict[str, float]:
    """c=64 req/s of ``pack serve -w 2`` and of one worker, taking turns."""
    pair = {count: servers.start_pack(model, work, bodies, "-w", str(count)) for count in (1, 2)}
    rates: dict[int, list[float]] = {1: [], 2: []}
    try:
        for started in pair.values():
            wrk(started.target("invocations", bodies, "1"), script, 8, 1.0)
        for _ in range(max(repeats, 2)):
            for count, started in pair.items():
                rates[count].append(wrk(started.target("invocations", bodies, "1"), script, 64, seconds).rps)
    finally:
        for started in pair.values():
            started.server.stop()
    return {f"w{count}": statistics.median(values) for count, values in rates.items()}


# ---------------------------------------------------------------------------------------------
# report


def _cell(point: dict[str, float], latency: str) -> str:
    return f"{point['rate']:,.0f} ({point[latency]:.2f} ms)"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def _goal(text: str, measured: str, ok: bool) -> str:
    return f"| {text} | {measured} | {'met' if ok else 'not met'} |"


def report(results: dict[str, Any], quick: bool) -> str:
    import sklearn

    import pack
    from devtools.mlflow_peer import MLFLOW_VERSION
    from devtools.peers import BENTOML_VERSION, MLSERVER_VERSION

    points = results["points"]
    names = list(points)
    peers = [name for name in names if not name.startswith("pack")]
    header = "| point | " + " | ".join(names) + " |"
    lines = [header, "|---" * (len(names) + 1) + "|"]
    for label, rows, _, latency in PHASES:
        unit = "req/s" if rows == "1" else "rows/s"
        cells = " | ".join(_cell(points[name][label], latency) for name in names)
        lines.append(f"| {label}, {unit} ({latency}) | {cells} |")
    cold = results["cold"]
    lines.append(
        "| cold start, s | " + " | ".join(f"{cold[n]:.2f}" if n in cold else "" for n in _cold_names(names)) + " |"
    )

    ratios = [
        "| point | "
        + " | ".join(f"{name} / best peer" for name in (*PACK_COLUMNS, *ACCELERATED))
        + "".join(f" | {route} / /invocations" for route in V2_ROUTES.values())
        + " |"
    ]
    ratios.append("|---" * (1 + len(PACK_COLUMNS) + len(ACCELERATED) + len(V2_ROUTES)) + "|")
    goals: list[str] = []
    floor = results["floors"]
    for label, _, _, latency in PHASES:
        best = max(points[name][label]["rate"] for name in peers)
        answered = [points[name][label][latency] for name in peers if points[name][label]["rate"] > 0]
        lowest = min(answered) if answered else float("inf")
        cells = []
        for name in (*PACK_COLUMNS, *ACCELERATED):
            point = points[name][label]
            cells.append(f"{_ratio(point['rate'], best)} ({latency} {point[latency]:.2f} vs {lowest:.2f} ms)")
        invocations = points["pack /invocations"][label]["rate"]
        v2_ratios = {route: points[name][label]["rate"] / invocations for name, route in V2_ROUTES.items()}
        ratios.append(f"| {label} | " + " | ".join([*cells, *(f"{r:.2f}x" for r in v2_ratios.values())]) + " |")
        for name in PACK_COLUMNS:
            point = points[name][label]
            ok = point["rate"] >= 1.5 * best and point[latency] <= lowest
            goals.append(
                _goal(f"{name}, {label}: >= 1.5x the best peer, {latency} no worse", _ratio(point["rate"], best), ok)
            )
        for route, ratio in v2_ratios.items():
            goals.append(_goal(f"{route} at least as fast as /invocations, {label}", f"{ratio:.2f}x", ratio >= 1.0))
    large = points["pack /invocations"]["10,000 rows, c=1"]["rate"]
    large_v2 = points["pack V2"]["10,000 rows, c=1"]["rate"]
    share = min(large, large_v2) / floor["many_rows_s"]
    goals.append(
        _goal("10,000-row requests >= 70% of the in-process floor's rows/s (JSON)", f"{share:.0%}", share >= 0.7)
    )
    binary = points["pack V2 binary"]["10,000 rows, c=1"]["rate"] / floor["many_rows_s"]
    goals.append(_goal("the same, V2 binary tensors", f"{binary:.0%}", binary >= 0.7))
    accelerated = points["pack --accelerate /invocations"]
    p50 = accelerated["1 row, c=1"]["p50"]
    goals.append(_goal("--accelerate: 1 row, c=1 p50 <= 0.6 ms", f"{p50:.2f} ms", p50 <= 0.6))
    best64 = max(points[name]["1 row, c=64"]["rate"] for name in peers)
    fast64 = accelerated["1 row, c=64"]["rate"]
    goals.append(_goal("--accelerate: 1 row, c=64 >= 5x the best peer", _ratio(fast64, best64), fast64 >= 5 * best64))
    for key in ("pack", "pack, torch and TensorFlow installed"):
        floor_s = cold.get(f"{key} floor")
        shown = f"{cold[key]:.2f} s" + (f" (floor: `import sklearn.ensemble` {floor_s:.2f} s)" if floor_s else "")
        goals.append(_goal(f"cold start <= 1.0 s ({key})", shown, cold[key] <= 1.0))
        goals.append(
            _goal(
                f"memory after start <= 200 MB PSS ({key})", f"{cold[key + ' PSS']:.0f} MB", cold[key + " PSS"] <= 200
            )
        )
    two = results["workers"]
    scale = two["w2"] / two["w1"]
    goals.append(
        _goal(
            "-w 2 >= 1.7x one worker at c=64",
            f"{scale:.2f}x ({two['w2']:,.0f} vs {two['w1']:,.0f} req/s)",
            scale >= 1.7,
        )
    )
    failures = sum(point["failed"] for by_phase in points.values() for point in by_phase.values())

    text = [
        "## Serving: `pack serve` vs MLServer, BentoML and MLflow",
        "",
        f"Run {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC by `python benchmarks/serving.py"
        f"{' --quick' if quick else ''}` on {os.cpu_count()} cores, Python {platform.python_version()}, pack "
        f"{pack.__version__}, MLServer {MLSERVER_VERSION}, BentoML {BENTOML_VERSION}, MLflow {MLFLOW_VERSION}, "
        f"scikit-learn {sklearn.__version__}; load average {results['load_before']:.1f} before, "
        f"{results['load_after']:.1f} after (figures from a shared machine are noisy).",
        "RandomForestClassifier (50 trees, depth 8, 10 features), one worker each, each server in its own"
        " virtualenv, servers taking turns under the same `wrk` script; the median of"
        f" {1 if quick else 2} runs of {3 if quick else 10} s per point. pack answers `dataframe_split` on"
        " /invocations and one `[rows, 10]` FP64 tensor on V2 (JSON, and binary: a JSON header then the raw"
        " float64s, Triton's binary tensor extension); MLServer (scikit-learn runtime, adaptive"
        " batching: max_batch_size 64, max_batch_time 2 ms) the same V2 tensor, in one process or with one"
        ' inference process; BentoML 1.4 a `batchable=True` API (max_batch_size 64) with `{"input": rows}`;'
        " MLflow `dataframe_split`. Cells: throughput (latency).",
        "",
        *lines,
        "",
        *ratios,
        "",
        f"In-process floor (scikit-learn's predict): 1 row {floor['one_ms']:.2f} ms, 10,000 rows "
        f"{floor['many_rows_s']:,.0f} rows/s. pack's memory after start: {results['pss_mb']:.0f} MB PSS"
        f" (serving the load above). Failed or non-2xx responses: {failures}.",
        "",
        "| goal (issue 17) | measured | |",
        "|---|---|---|",
        *goals,
    ]
    return "\n".join(text)


def _cold_names(names: list[str]) -> list[str]:
    """The cold-start key of each column (pack's columns share their server's start)."""
    out = []
    for name in names:
        if name.startswith("pack --accelerate"):
            out.append("pack --accelerate" if name.endswith("/invocations") else "")
        elif name.startswith("pack"):
            out.append("pack" if name.endswith("/invocations") else "")
        else:
            out.append(name)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one 3 s run per point, one cold start each")
    parser.add_argument("--repeats", type=int, default=2, help="runs per point (median)")
    parser.add_argument("--no-write", action="store_true", help="print the section, leave RESULTS.md alone")
    args = parser.parse_args()
    results = run(args)
    section = report(results, args.quick)
    print(section)
    if not args.no_write:
        write_section("serving", section)


if __name__ == "__main__":
    main()
