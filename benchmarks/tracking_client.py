"""pack's REST client vs MLflow's client, against the same tracking server in the same run.

Both clients drive each server in turn (``mlflow server`` and ``pack server``:
SQLite, served artifacts, one worker, MLflow's job runners off) through the same operations: log_metric,
log_batch of 1,000 metrics, get_run, get_metric_history of 50,000 points, search_runs over 500 runs
(filtered and ordered), a 64 MB artifact up and down, and ``models:/<name>/1`` loaded in a fresh
process state (downloaded; pack also checks the files against the registry's checksums) and again
(pack: from its verified cache; MLflow downloads again). MLflow's client runs in its own virtualenv
(``devtools/mlflow_peer.py``) as a subprocess script; pack's runs in this process.

Run: python benchmarks/tracking_client.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._results import write_section
from devtools.mlflow_peer import MLFLOW_VERSION, run_mlflow
from devtools.tracking_servers import MLFLOW, PACK, TrackingServer

MLFLOW_SCRIPT = textwrap.dedent(
    """
    import json, os, shutil, statistics, sys, tempfile, time, warnings
    warnings.filterwarnings("ignore")
    import logging
    logging.disable(logging.WARNING)
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric
    cfg = json.load(open(sys.argv[1]))
    mlflow.set_tracking_uri(cfg["url"])
    client = MlflowClient()
    out = {}

    def timed(name, fn, n):
        times = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        out[name] = times

    exp = client.create_experiment(cfg["prefix"] + "-mlflow")
    run = client.create_run(exp).info.run_id
    counter = iter(range(10**9))
    timed("log_metric", lambda: client.log_metric(run, "m", 1.0, step=next(counter)), cfg["single"])
    batch = [Metric("b", float(i), 1, i) for i in range(1000)]
    timed("log_batch", lambda: client.log_batch(run, metrics=batch), cfg["batches"])
    timed("get_run", lambda: client.get_run(run), cfg["single"])
    history_run = client.create_run(exp).info.run_id
    for start in range(0, cfg["history"], 1000):
        client.log_batch(history_run, metrics=[Metric("h", float(i), 1, i) for i in range(start, start + 1000)])
    timed("history", lambda: client.get_metric_history(history_run, "h"), cfg["repeats"])
    assert len(client.get_metric_history(history_run, "h")) == cfg["history"]
    for i in range(cfg["runs"]):
        r = client.create_run(exp).info.run_id
        client.log_batch(r, metrics=[Metric("acc", i / cfg["runs"], 1, 0)])
    order = ["metrics.acc DESC"]
    search = lambda: client.search_runs([exp], "metrics.acc > 0.5", order_by=order, max_results=100)
    timed("search", search, cfg["repeats"])
    blob = cfg["blob"]
    timed("upload", lambda: client.log_artifact(run, blob), 1)
    dest = tempfile.mkdtemp()
    timed("download", lambda: client.download_artifacts(run, os.path.basename(blob), dest), 1)
    uri = cfg["model_uri"]
    import mlflow.pyfunc
    timed("load_cold", lambda: mlflow.pyfunc.load_model(uri), 1)
    timed("load_warm", lambda: mlflow.pyfunc.load_model(uri), cfg["repeats"])
    json.dump(out, open(cfg["out"], "w"))
    """
)


def _timed(out: dict[str, list[float]], name: str, fn: Callable[[], Any], n: int) -> None:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    out[name] = times


def run_pack(url: str, cfg: dict[str, Any], cache: Path) -> dict[str, list[float]]:
    """The same operations with pack's client, in this process."""
    import pack
    from pack.registry.default import process_default
    from pack.store.entities import Metric

    os.environ["PACK_TRACKING_URI"] = url
    os.environ["PACK_CACHE_DIR"] = str(cache)
    process_default().reset()
    client = pack.Client()
    out: dict[str, list[float]] = {}
    exp = client.create_experiment(f"{cfg['prefix']}-pack")
    run = client.create_run(exp).info.run_id
    counter = iter(range(10**9))
    _timed(out, "log_metric", lambda: client.log_metric(run, "m", 1.0, step=next(counter)), cfg["single"])
    batch = [Metric("b", float(i), 1, i) for i in range(1000)]
    _timed(out, "log_batch", lambda: client.log_batch(run, metrics=batch), cfg["batches"])
    _timed(out, "get_run", lambda: client.get_run(run), cfg["single"])
    history_run = client.create_run(exp).info.run_id
    for start in range(0, cfg["history"], 1000):
        client.log_batch(history_run, metrics=[Metric("h", float(i), 1, i) for i in range(start, start + 1000)])
    _timed(out, "history", lambda: client.get_metric_history(history_run, "h"), cfg["repeats"])
    assert len(client.get_metric_history(history_run, "h")) == cfg["history"]
    for i in range(cfg["runs"]):
        created = client.create_run(exp).info.run_id
        client.log_batch(created, metrics=[Metric("acc", i / cfg["runs"], 1, 0)])
    _timed(
        out,
        "search",
        lambda: client.search_runs([exp], "metrics.acc > 0.5", order_by=["metrics.acc DESC"], max_results=100),
        cfg["repeats"],
    )
    _timed(out, "upload", lambda: client.log_artifact(run, cfg["blob"]), 1)
    dest = tempfile.mkdtemp()
    _timed(out, "download", lambda: client.download_artifacts(run, Path(cfg["blob"]).name, dest), 1)
    _timed(out, "load_cold", lambda: pack.pyfunc.load_model(cfg["model_uri"]), 1)
    _timed(out, "load_warm", lambda: pack.pyfunc.load_model(cfg["model_uri"]), cfg["repeats"])
    process_default().reset()
    return out


def _register(url: str, workdir: Path, prefix: str) -> str:
    """Register a 100-tree RandomForest on the server (through pack's client); its ``models:/`` URI."""
    import pack
    from devtools.builders import save_forest
    from pack.registry.default import process_default

    os.environ["PACK_TRACKING_URI"] = url
    process_default().reset()
    model = save_forest(workdir / "forest", seed=0)
    name = f"{prefix}-forest"
    pack.Client().create_registered_model(name)
    pack.Client().create_model_version(name, str(model))
    process_default().reset()
    return f"models:/{name}/1"


def _ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


ROWS = (
    ("log_metric", "log_metric (median of {single})", "ms"),
    ("log_batch", "log_batch of 1,000 metrics (median of {batches})", "ms"),
    ("get_run", "get_run (median of {single})", "ms"),
    ("history", "get_metric_history of {history:,} points", "ms"),
    ("search", "search_runs over {runs} runs, filtered and ordered, page of 100", "ms"),
    ("upload", "upload a {blob_mb} MB artifact", "MB/s"),
    ("download", "download it", "MB/s"),
    ("load_cold", "load `models:/<name>/1` (100-tree forest), empty cache", "ms"),
    ("load_warm", "load it again", "ms"),
)


def _cell(key: str, values: list[float], cfg: dict[str, Any]) -> tuple[str, float]:
    if key in ("upload", "download"):
        rate = cfg["blob_mb"] / statistics.median(values)
        return f"{rate:.0f} MB/s", rate
    value = _ms(values)
    return f"{value:.2f} ms", value


def table(results: dict[str, dict[str, dict[str, list[float]]]], cfg: dict[str, Any]) -> str:
    """One table per server: pack's client, MLflow's, and the ratio (higher means pack is faster)."""
    parts = []
    for server, clients in results.items():
        lines = [f"### against `{server} server`", "", "| operation | pack client | MLflow client | pack speed-up |"]
        lines.append("|---|---|---|---|")
        for key, label, unit in ROWS:
            pack_text, pack_value = _cell(key, clients["pack"][key], cfg)
            peer_text, peer_value = _cell(key, clients["mlflow"][key], cfg)
            ratio = pack_value / peer_value if unit == "MB/s" else peer_value / pack_value
            lines.append(f"| {label.format(**cfg)} | {pack_text} | {peer_text} | {ratio:.1f}x |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="Fewer repetitions (a smoke run).")
    args = parser.parse_args()
    cfg: dict[str, Any] = (
        {"single": 50, "batches": 5, "history": 5_000, "runs": 50, "repeats": 3, "blob_mb": 8}
        if args.quick
        else {"single": 500, "batches": 20, "history": 50_000, "runs": 500, "repeats": 5, "blob_mb": 64}
    )
    kinds = [MLFLOW, PACK]
    load_before = os.getloadavg()[0]
    results: dict[str, dict[str, dict[str, list[float]]]] = {}
    with tempfile.TemporaryDirectory(prefix="pack-bench-client-") as tmp:
        root = Path(tmp)
        blob = root / "blob.bin"
        blob.write_bytes(os.urandom(cfg["blob_mb"] << 20))
        for kind in kinds:
            server = TrackingServer(kind, root / kind)
            try:
                prefix = uuid.uuid4().hex[:8]
                shared = {**cfg, "url": server.url, "prefix": prefix, "blob": str(blob)}
                shared["model_uri"] = _register(server.url, root / kind, prefix)
                (root / "cfg.json").write_text(json.dumps({**shared, "out": str(root / "mlflow.json")}))
                run_mlflow(MLFLOW_SCRIPT, root, args=[str(root / "cfg.json")], timeout=3600)
                peer = json.loads((root / "mlflow.json").read_text())
                mine = run_pack(server.url, shared, root / f"cache-{kind}")
                results[kind] = {"pack": mine, "mlflow": peer}
            finally:
                server.stop()
    body = table(results, cfg)
    body += (
        f"\n\nRun {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `python benchmarks/tracking_client.py"
        f"{' --quick' if args.quick else ''}` on {os.cpu_count()} cores; load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after (on a shared machine the figures are noisy; re-run on a quiet one).\n"
    )
    print(body)
    mode = " (quick mode)" if args.quick else ""
    write_section(
        "tracking_client",
        f"## Tracking client: pack's REST client vs MLflow {MLFLOW_VERSION}'s client, same server{mode}\n\n"
        "Both clients drive the same server in the same run, one call at a time; medians. pack's client keeps\n"
        "one pooled HTTP connection and verifies downloaded model files against the registry's sha256\n"
        "(against `mlflow server`, which records none, against those of its first download); its second\n"
        "load comes from that verified cache, MLflow's client downloads again.\n\n" + body,
    )


if __name__ == "__main__":
    main()
