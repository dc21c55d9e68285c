"""Tracking server: ``pack server`` vs ``mlflow server``, the same unmodified MLflow client, the same run.

Both servers: SQLite backend, proxied artifacts on local disk, one worker; MLflow's background job
runners off (``MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false``, as its docs allow). A stub server answering
``{}`` to everything gives the client's own cost per call (the floor no server can beat).

Measured, in this order, against each server: cold start (process start to ``/health`` answering),
``log_metric`` p50, ``log_batch`` of 1,000 metrics, ``search_runs`` over 2,000 runs (filtered and
ordered), ``get_metric_history`` of 50,000 points, artifact upload and download throughput (a 200 MB
file through ``log_artifact`` / ``download_artifacts``), and idle memory (PSS of the server's whole
process tree, after the work). ``--quick`` shrinks every size (a smoke run, not for the table).

Run: python benchmarks/tracking.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from benchmarks._results import write_section
from devtools.mlflow_peer import MLFLOW_VERSION, mlflow_python

CLIENT_SCRIPT = textwrap.dedent(
    """
    import json, os, statistics, sys, time, warnings
    warnings.filterwarnings("ignore")
    import logging
    logging.disable(logging.WARNING)
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag
    uri, cfg, stub = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3] == "stub"
    mlflow.set_tracking_uri(uri)
    client = MlflowClient()
    out = {}
    def timed(fn, repeat):
        times = []
        for _ in range(repeat):
            t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
        return statistics.median(times)
    run_id = "0" * 32 if stub else client.create_run(client.create_experiment("bench")).info.run_id
    for i in range(20):  # warm the connection pool
        client.log_metric(run_id, "warm", i)
    lat = []
    for i in range(cfg["log_metric"]):
        t = time.perf_counter(); client.log_metric(run_id, "m", float(i), step=i); lat.append(time.perf_counter() - t)
    out["log_metric_p50_ms"] = statistics.median(lat) * 1000
    batch = lambda: client.log_batch(run_id, metrics=[Metric("b", float(i), 1000 + i, i) for i in range(1000)])
    out["log_batch_ms"] = timed(batch, cfg["batches"]) * 1000
    query = "metrics.acc > 0.5 AND params.group = 'a'"
    if stub:
        history = lambda: client.get_metric_history(run_id, "h")
        assert len(history()) == cfg["history"]
        out["history_ms"] = timed(history, cfg["history_repeats"]) * 1000
        search = lambda: client.search_runs(["1"], query, order_by=["metrics.acc DESC"], max_results=1000)
        assert len(search()) == cfg["runs"] * 24 // 100
        out["search_runs_ms"] = timed(search, cfg["searches"]) * 1000
        print(json.dumps(out)); sys.exit(0)
    experiment = client.create_experiment("search")
    for i in range(cfg["runs"]):
        rid = client.create_run(experiment).info.run_id
        client.log_batch(rid, metrics=[Metric("acc", (i % 100) / 100, 1, 0)], params=[Param("group", "ab"[i % 2])])
    search = lambda: client.search_runs([experiment], query, order_by=["metrics.acc DESC"], max_results=1000)
    found = search()
    out["search_hits"] = len(found)
    out["search_runs_ms"] = timed(search, cfg["searches"]) * 1000
    history_run = client.create_run(experiment).info.run_id
    for start in range(0, cfg["history"], 1000):
        client.log_batch(history_run, metrics=[Metric("h", float(i), 1, i) for i in range(start, start + 1000)])
    history = lambda: client.get_metric_history(history_run, "h")
    assert len(history()) == cfg["history"]
    out["history_ms"] = timed(history, cfg["history_repeats"]) * 1000
    path = os.path.join(os.getcwd(), "payload.bin")
    with open(path, "wb") as handle:
        block = os.urandom(1 << 20)
        for _ in range(cfg["artifact_mb"]):
            handle.write(block)
    t = time.perf_counter(); client.log_artifact(run_id, path); up = time.perf_counter() - t
    t = time.perf_counter()
    got = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="payload.bin", dst_path="down")
    down = time.perf_counter() - t
    assert os.path.getsize(got) == cfg["artifact_mb"] << 20
    out["upload_mb_s"] = cfg["artifact_mb"] / up
    out["download_mb_s"] = cfg["artifact_mb"] / down
    print(json.dumps(out))
    """
)

STUB_APP = textwrap.dedent(
    """
    import json, sys, uvicorn
    # metric history: canned pages as a server would send them (25,000 points, then the rest)
    total = int(sys.argv[2])
    def page(start, stop, token):
        points = [{"key": "h", "value": float(i), "timestamp": 1, "step": i} for i in range(start, stop)]
        return json.dumps({"metrics": points, **({"next_page_token": token} if token else {})}).encode()
    first = page(0, min(total, 25000), "next" if total > 25000 else None)
    rest = page(25000, total, None)
    # run search: the page a server sends for the benchmark's query (24 of every 100 runs match)
    def run(i):
        info = {"run_id": f"{i:032x}", "run_uuid": f"{i:032x}", "experiment_id": "1", "run_name": f"run-{i}",
                "user_id": "bench", "status": "RUNNING", "start_time": 1700000000000 + i,
                "artifact_uri": f"mlflow-artifacts:/1/{i:032x}/artifacts", "lifecycle_stage": "active"}
        data = {"metrics": [{"key": "acc", "value": (i % 100) / 100, "timestamp": 1, "step": 0}],
                "params": [{"key": "group", "value": "a"}],
                "tags": [{"key": "mlflow.runName", "value": f"run-{i}"}, {"key": "mlflow.user", "value": "bench"}]}
        return {"info": info, "data": data, "inputs": {}}
    matching = [i for i in range(int(sys.argv[3])) if i % 2 == 0 and i % 100 > 50]
    found = json.dumps({"runs": [run(i) for i in sorted(matching, key=lambda i: -(i % 100))]}).encode()
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        body = b"{}"
        if scope["path"].endswith("/metrics/get-history"):
            body = rest if b"page_token=" in scope["query_string"] else first
        elif scope["path"].endswith("/runs/search"):
            body = found
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), http="httptools", log_level="warning", access_log=False)
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 180) -> float:
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(0.01)
    raise RuntimeError("server did not start")


def tree_pss_mb(pid: int) -> float:
    """PSS of a process and all its descendants, in MB."""
    pids, frontier = [pid], [pid]
    while frontier:
        current = frontier.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            children = (task / "children").read_text().split()
            pids.extend(int(c) for c in children)
            frontier.extend(int(c) for c in children)
    total = 0
    for each in pids:
        for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1])
    return total / 1024


def start(kind: str, root: Path, port: int, config: dict[str, Any]) -> tuple[subprocess.Popen[bytes], float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "MLFLOW_", "PACK_"))}
    if kind == "pack":
        command = [
            sys.executable,
            "-m",
            "pack.cli",
            "server",
            "--backend-store-uri",
            f"sqlite:///{root}/pack.db",
            "--default-artifact-root",
            str(root / "art"),
            "-p",
            str(port),
            "--log-level",
            "warning",
        ]
    elif kind == "mlflow":
        python = mlflow_python()
        env.update(MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false", PATH=f"{python.parent}{os.pathsep}{env['PATH']}")
        command = [
            str(python),
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{root}/mlflow.db",
            "--artifacts-destination",
            str(root / "art"),
            "--serve-artifacts",
            "--workers",
            "1",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
    else:
        command = [sys.executable, "-c", STUB_APP, str(port), str(config["history"]), str(config["runs"])]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    wait_healthy(f"http://127.0.0.1:{port}", process)
    return process, time.perf_counter() - started


def stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def measure(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-{kind}-") as tmp:
        root = Path(tmp)
        port = free_port()
        process, cold = start(kind, root, port, config)
        try:
            done = subprocess.run(
                [str(mlflow_python()), "-c", CLIENT_SCRIPT, f"http://127.0.0.1:{port}", json.dumps(config), kind],
                cwd=root,
                capture_output=True,
                text=True,
                check=False,
                timeout=3600,
                env={k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "MLFLOW_"))},
            )
            if done.returncode != 0:
                raise RuntimeError(f"{kind}: client failed\n{done.stderr[-3000:]}")
            result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
            time.sleep(2)
            result["idle_pss_mb"] = tree_pss_mb(process.pid)
            result["cold_start_s"] = cold
        finally:
            stop(process)
        return result


def table(results: dict[str, dict[str, Any]], config: dict[str, Any], quick: bool, loads: tuple[float, float]) -> str:
    pack, mlflow, stub = results["pack"], results["mlflow"], results["stub"]
    rows = [
        ("log_metric p50 (ms)", "log_metric_p50_ms", "lower"),
        ("log_batch of 1,000 metrics (ms)", "log_batch_ms", "lower"),
        (f"search_runs over {config['runs']:,} runs, filtered + ordered (ms)", "search_runs_ms", "lower"),
        (f"get_metric_history of {config['history']:,} points (ms)", "history_ms", "lower"),
        ("cold start to /health (s)", "cold_start_s", "lower"),
        ("idle memory, PSS of the process tree (MB)", "idle_pss_mb", "lower"),
        (f"artifact upload, {config['artifact_mb']} MB (MB/s)", "upload_mb_s", "higher"),
        (f"artifact download, {config['artifact_mb']} MB (MB/s)", "download_mb_s", "higher"),
    ]
    lines = [
        "## Tracking server: pack server vs mlflow server",
        "",
        f"MLflow {MLFLOW_VERSION} (`mlflow server`, SQLite, `--serve-artifacts`, `--workers 1`, job execution off) and "
        "`pack server` (SQLite, proxied artifacts, 1 worker), driven by the same unmodified MLflow client in the same "
        "run; the stub is a server answering `{}` to everything (and canned pages to metric history and run "
        "search): the client's own cost per call. *Server time only* compares the time each server adds above "
        "that floor." + (" **Quick run (sizes shrunk): not for comparison.**" if quick else ""),
        "",
        "| operation | stub (client floor) | mlflow server | pack server | pack vs mlflow | server time only |",
        "|---|---|---|---|---|---|",
    ]
    for label, key, better in rows:
        ours, theirs = pack[key], mlflow[key]
        ratio = theirs / ours if better == "lower" else ours / theirs
        floored = key in stub and key not in ("cold_start_s", "idle_pss_mb")
        floor = f"{stub[key]:.2f}" if floored else "-"
        beyond = "-"
        if floored and ours > stub[key]:
            beyond = f"{(theirs - stub[key]) / (ours - stub[key]):.1f}x"
        lines.append(f"| {label} | {floor} | {theirs:.2f} | {ours:.2f} | {ratio:.1f}x | {beyond} |")
    lines += [
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `python benchmarks/tracking.py"
        f"{' --quick' if quick else ''}` on {os.cpu_count()} cores, Python {sys.version.split()[0]}; load average "
        f"{loads[0]:.1f} before, {loads[1]:.1f} after (on a shared machine the figures are noisy; "
        "re-run on a quiet one).",
        f"pack's log_metric is {pack['log_metric_p50_ms'] - stub['log_metric_p50_ms']:.2f} ms above the client floor "
        f"(MLflow's: {mlflow['log_metric_p50_ms'] - stub['log_metric_p50_ms']:.2f} ms). Search hits: "
        f"{pack['search_hits']} (pack) and {mlflow['search_hits']} (MLflow).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = parser.parse_args()
    if args.quick:
        config = {
            "log_metric": 100,
            "batches": 3,
            "runs": 200,
            "searches": 3,
            "history": 5000,
            "history_repeats": 2,
            "artifact_mb": 20,
        }
    else:
        config = {
            "log_metric": 500,
            "batches": 10,
            "runs": 2000,
            "searches": 15,
            "history": 50_000,
            "history_repeats": 3,
            "artifact_mb": 200,
        }
    before = os.getloadavg()[0]
    results = {kind: measure(kind, config) for kind in ("stub", "pack", "mlflow")}
    print(json.dumps(results, indent=2))
    write_section("tracking", table(results, config, args.quick, (before, os.getloadavg()[0])))


if __name__ == "__main__":
    main()
