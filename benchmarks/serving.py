"""pack serve vs mlflow models serve, side by side in one run.

The same RandomForest (50 trees, depth 8, 10 features) is served by ``pack serve`` and by
``mlflow models serve --env-manager local`` (MLflow in its own virtualenv, see
``devtools/mlflow_peer.py``), both as subprocesses with one worker, and driven by the same load
generator (``wrk`` with a Lua script that POSTs the body and reports latency percentiles):

* req/s, p50 and p99 at concurrency 1, 16 and 64 with 1-row bodies;
* rows/s with 10,000-row bodies;
* cold start: from the command to the first 200 from /invocations;
* the in-process predict time (the floor);
* the same workloads for the model converted to ONNX (``pack convert``) and served by ``pack serve``.

The table goes into ``benchmarks/RESULTS.md`` between ``<!-- serving:start -->`` and
``<!-- serving:end -->`` (other sections are left alone), with ratios and the issue's goals.

Usage: python benchmarks/serving.py [--quick] [--no-mlflow] [--output PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

START, END = "<!-- serving:start -->", "<!-- serving:end -->"
FEATURES = [f"f{i}" for i in range(10)]
WRK_SCRIPT = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local handle = io.open(os.getenv("PACK_BENCH_BODY"), "rb")
wrk.body = handle:read("*a")
handle:close()

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "non2xx": %d, "errors": %d, '
      .. '"p50_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
"""


@dataclass
class Load:
    """One wrk run."""

    requests: int
    seconds: float
    non2xx: int
    errors: int
    p50_ms: float
    p99_ms: float
    mean_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post(url: str, body: bytes, timeout: float = 5.0) -> int:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


class Server:
    """A server subprocess; ``cold_start`` is the time from launch to the first 200 from /invocations."""

    def __init__(self, name: str, command: list[str], port: int, env: dict[str, str], body: bytes, log: Path) -> None:
        self.name = name
        self.url = f"http://127.0.0.1:{port}/invocations"
        self._log = open(log, "w")  # noqa: SIM115
        self.log = log
        started = time.monotonic()
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        while post(self.url, body, timeout=2) != 200:
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{log.read_text()[-3000:]}")
            if time.monotonic() - started > 300:
                raise RuntimeError(f"{name} did not answer in 300 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.02)
        self.cold_start = time.monotonic() - started

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def wrk(url: str, body_file: Path, script: Path, connections: int, seconds: float) -> Load:
    threads = 1 if connections == 1 else 2
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "60s",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PACK_BENCH_BODY": str(body_file)},
    )
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    raw = json.loads(line.removeprefix("RESULT "))
    return Load(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        non2xx=raw["non2xx"],
        errors=raw["errors"],
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        mean_ms=raw["mean_us"] / 1000,
    )


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    print("installing wrk (Debian package)", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)


def train_and_save(work: Path) -> tuple[Path, Any, Any]:
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    import pack

    features, labels = make_classification(n_samples=2000, n_features=10, random_state=0)
    frame = pd.DataFrame(features, columns=FEATURES)
    model = RandomForestClassifier(n_estimators=50, max_depth=8, random_state=0).fit(frame, labels)
    path = work / "rf"
    pack.save_model(model, path, input_example=frame.head(5))
    return path, model, frame


def timed(function: Any, repeat: int) -> float:
    """Median seconds of ``repeat`` calls."""
    function()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


class Floor:
    """In-process predict on the same model (the physical floor of serving it)."""

    def __init__(self, path: Path, model: Any, frame: Any) -> None:
        import pack.pyfunc

        self.loaded = pack.pyfunc.load_model(path)
        self.model = model
        self.one = frame.iloc[:1].reset_index(drop=True)
        self.many = frame.sample(10_000, replace=True, random_state=1).reset_index(drop=True)

    def one_row_ms(self, repeat: int) -> tuple[float, float]:
        """Median ms of ``pyfunc.predict`` and of sklearn's own predict on numpy, for 1 row."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pyfunc = timed(lambda: self.loaded.predict(self.one), repeat) * 1000
            raw = timed(lambda: self.model.predict(self.one.to_numpy()), repeat) * 1000
        return pyfunc, raw

    def many_rows_ms(self, repeat: int) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return timed(lambda: self.loaded.predict(self.many), repeat) * 1000


def predict_totals(server: Server) -> tuple[float, float] | None:
    """``(seconds, calls)`` the server spent in the model's predict so far (pack's /metrics), or None."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    try:
        with urllib.request.urlopen(server.url.replace("/invocations", "/metrics"), timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return None
    totals = {"pack_predict_duration_seconds_sum": 0.0, "pack_predict_duration_seconds_count": 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in totals:
                totals[sample.name] += sample.value
    if not totals["pack_predict_duration_seconds_count"]:
        return None
    return totals["pack_predict_duration_seconds_sum"], totals["pack_predict_duration_seconds_count"]


def paired_c1(server: Server, body: Path, script: Path, floor: Floor, rounds: int, seconds: float) -> dict[str, Any]:
    """c=1 load and the in-process floor in alternating slices, so both see the same machine.

    The gap is the median over rounds of (server p50 - floor p50) measured back to back.
    """
    loads, gaps, raw_gaps, floors = [], [], [], []
    predict_before = predict_totals(server)
    for _ in range(rounds):
        load = wrk(server.url, body, script, 1, seconds)
        pyfunc, raw = floor.one_row_ms(300)
        loads.append(load)
        floors.append((pyfunc, raw))
        gaps.append(load.p50_ms - pyfunc)
        raw_gaps.append(load.p50_ms - raw)
    requests = sum(load.requests for load in loads)
    elapsed = sum(load.seconds for load in loads)
    predict_after = predict_totals(server)
    mean_latency = sum(load.mean_ms * load.requests for load in loads) / requests
    served: dict[str, Any] = {}
    if predict_before is not None and predict_after is not None:
        calls = predict_after[1] - predict_before[1]
        served["predict_in_server_ms"] = (predict_after[0] - predict_before[0]) / calls * 1000
        served["mean_ms"] = mean_latency
        served["overhead_ms"] = mean_latency - served["predict_in_server_ms"]
    return {
        **served,
        "requests": requests,
        "seconds": elapsed,
        "rps": requests / elapsed,
        "non2xx": sum(load.non2xx for load in loads),
        "errors": sum(load.errors for load in loads),
        "p50_ms": statistics.median(load.p50_ms for load in loads),
        "p99_ms": statistics.median(load.p99_ms for load in loads),
        "floor_pyfunc_ms": statistics.median(f[0] for f in floors),
        "floor_sklearn_ms": statistics.median(f[1] for f in floors),
        "gap_ms": statistics.median(gaps),
        "gap_sklearn_ms": statistics.median(raw_gaps),
    }


def bodies(frame: Any, work: Path) -> tuple[Path, Path, bytes]:
    import orjson

    one = {"dataframe_split": {"columns": FEATURES, "data": frame.iloc[:1].to_numpy().tolist()}}
    many_rows = frame.sample(10_000, replace=True, random_state=2).to_numpy().tolist()
    many = {"dataframe_split": {"columns": FEATURES, "data": many_rows}}
    small, large = work / "one.json", work / "many.json"
    small.write_bytes(orjson.dumps(one))
    large.write_bytes(orjson.dumps(many))
    return small, large, small.read_bytes()


def start_pack(model: Path, work: Path, body: bytes, workers: int = 1) -> Server:
    """``pack serve`` from a virtualenv with what a serving image has (pack + sklearn + onnx, no torch)."""
    from devtools.venvs import pack_serving_python

    port = free_port()
    command = [
        str(pack_serving_python().parent / "pack"),
        "serve",
        str(model),
        "-p",
        str(port),
        "-w",
        str(workers),
    ]
    return Server(f"pack -w {workers}", command, port, dict(os.environ), body, work / f"pack-{workers}.log")


def start_mlflow(model: Path, work: Path, body: bytes) -> Server:
    from devtools.mlflow_peer import mlflow_python

    python = mlflow_python()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    env["GIT_PYTHON_REFRESH"] = "quiet"
    command = [str(python.parent / "mlflow"), "models", "serve", "-m", str(model), "-p", str(port)]
    return Server("mlflow", [*command, "--env-manager", "local"], port, env, body, work / "mlflow.log")


def run(args: argparse.Namespace) -> dict[str, Any]:
    ensure_wrk()
    seconds = 3.0 if args.quick else 10.0
    work = Path(tempfile.mkdtemp(prefix="pack-bench-serving-"))
    script = work / "post.lua"
    script.write_text(WRK_SCRIPT)
    model_dir, model, frame = train_and_save(work)
    small, large, one_body = bodies(frame, work)
    floor = Floor(model_dir, model, frame)
    results: dict[str, Any] = {
        "floors": {"pyfunc_10k_ms": floor.many_rows_ms(5 if args.quick else 15)},
        "servers": {},
    }
    results["load_before"] = os.getloadavg()
    names = ["pack", "mlflow"] if not args.no_mlflow else ["pack"]
    starters = {
        "pack": lambda: start_pack(model_dir, work, one_body),
        "mlflow": lambda: start_mlflow(model_dir, work, one_body),
    }
    from devtools.venvs import pack_serving_python

    pack_serving_python()  # create the virtualenvs before any timing
    if "mlflow" in names:
        from devtools.mlflow_peer import mlflow_python

        mlflow_python()
    servers = {}
    for name in names:  # one at a time, so cold starts do not overlap
        servers[name] = starters[name]()
        print(f"{name}: cold start {servers[name].cold_start:.2f} s", flush=True)
    try:
        for name, server in servers.items():
            wrk(server.url, small, script, 4, 1.0)  # warm up
            results["servers"][name] = {"cold_start_s": server.cold_start, "loads": {}}
        rounds = 3 if args.quick else 8
        for name, server in servers.items():
            paired = paired_c1(server, small, script, floor, rounds, seconds / 3 if args.quick else 2.0)
            results["servers"][name]["loads"]["c1"] = paired
            print(
                f"{name} c1: {paired['rps']:.1f} req/s p50 {paired['p50_ms']:.2f} ms (floor "
                f"{paired['floor_pyfunc_ms']:.2f} ms, gap {paired['gap_ms']:+.2f} ms)",
                flush=True,
            )
        phases = [("c16", small, 16), ("c64", small, 64), ("10k", large, 1)]
        for phase, body_file, connections in phases:
            for name, server in servers.items():
                load = wrk(server.url, body_file, script, connections, seconds * (1.5 if phase == "10k" else 1))
                results["servers"][name]["loads"][phase] = load.__dict__ | {"rps": load.rps}
                print(
                    f"{name} {phase}: {load.rps:.1f} req/s p50 {load.p50_ms:.2f} ms p99 {load.p99_ms:.2f} ms"
                    f" non2xx {load.non2xx} errors {load.errors}",
                    flush=True,
                )
    finally:
        for server in servers.values():
            server.stop()
    results["onnx"] = run_onnx(model_dir, work, small, large, one_body, script, seconds)
    if not args.quick:
        two = start_pack(model_dir, work, one_body, workers=2)
        try:
            wrk(two.url, small, script, 4, 1.0)
            results["servers"]["pack -w 2"] = {"cold_start_s": two.cold_start, "loads": {}}
            for phase, connections in (("c1", 1), ("c64", 64)):
                load = wrk(two.url, small, script, connections, seconds)
                results["servers"]["pack -w 2"]["loads"][phase] = load.__dict__ | {"rps": load.rps}
                print(f"pack -w 2 {phase}: {load.rps:.1f} req/s p50 {load.p50_ms:.2f} ms", flush=True)
        finally:
            two.stop()
    results["load_after"] = os.getloadavg()
    shutil.rmtree(work, ignore_errors=True)
    return results


def run_onnx(
    model_dir: Path, work: Path, small: Path, large: Path, one_body: bytes, script: Path, seconds: float
) -> dict[str, Any] | None:
    """The same workloads against the ONNX conversion of the model, served by ``pack serve``."""
    try:
        from pack.flavors.convert import convert_to_onnx
    except ImportError:
        return None
    converted = convert_to_onnx(str(model_dir), work / "onnx").path
    server = start_pack(converted, work, one_body)
    print(f"pack (onnx): cold start {server.cold_start:.2f} s", flush=True)
    result: dict[str, Any] = {"cold_start_s": server.cold_start, "loads": {}}
    try:
        wrk(server.url, small, script, 4, 1.0)
        for phase, body_file, connections in (("c1", small, 1), ("c64", small, 64), ("10k", large, 1)):
            load = wrk(server.url, body_file, script, connections, seconds)
            result["loads"][phase] = load.__dict__ | {"rps": load.rps}
            print(f"pack (onnx) {phase}: {load.rps:.1f} req/s p50 {load.p50_ms:.2f} ms", flush=True)
    finally:
        server.stop()
    return result


# ---------------------------------------------------------------------------------------------
# report


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def _row(label: str, unit: str, a: float | None, b: float | None, digits: int) -> str:
    return f"| {label} | {unit} | {_fmt(a, digits)} | {_fmt(b, digits)} | {_ratio(a, b)} |"


def _goal(text: str, measured: str, ok: bool) -> str:
    return f"| {text} | {measured} | {'met' if ok else 'not met'} |"


def report(results: dict[str, Any], quick: bool) -> str:
    """The Markdown section: the table, the floor, and the goals marked met / not met."""
    import sklearn

    import pack

    floor = results["floors"]
    servers = results["servers"]
    ours, theirs = servers["pack"], servers.get("mlflow")

    def get(server: dict[str, Any] | None, phase: str, key: str) -> float | None:
        return None if server is None else float(server["loads"][phase][key])

    rows = []
    for phase, label in (("c1", "1 row, c=1"), ("c16", "1 row, c=16"), ("c64", "1 row, c=64")):
        for key, unit, digits in (("rps", "req/s", 0), ("p50_ms", "p50 ms", 2), ("p99_ms", "p99 ms", 2)):
            rows.append(_row(label, unit, get(ours, phase, key), get(theirs, phase, key), digits))
    ours_rows = 10_000 * (get(ours, "10k", "rps") or 0)
    theirs_rows = 10_000 * (get(theirs, "10k", "rps") or 0.0) if theirs is not None else None
    rows.append(_row("10,000 rows, c=1", "rows/s", ours_rows, theirs_rows, 0))
    rows.append(_row("10,000 rows, c=1", "p50 ms", get(ours, "10k", "p50_ms"), get(theirs, "10k", "p50_ms"), 1))
    cold_ours = float(ours["cold_start_s"])
    cold_theirs = float(theirs["cold_start_s"]) if theirs is not None else None
    rows.append(_row("cold start (command to first 200)", "s", cold_ours, cold_theirs, 2))
    failures = sum(run["non2xx"] + run["errors"] for s in servers.values() for run in s["loads"].values())

    goals = []
    if theirs is not None and cold_theirs is not None and theirs_rows is not None:
        rps, rps_peer = get(ours, "c64", "rps") or 0.0, get(theirs, "c64", "rps") or 0.0
        p99, p99_peer = get(ours, "c64", "p99_ms") or 0.0, get(theirs, "c64", "p99_ms") or 0.0
        goals.append(_goal("c=64: >= 5x MLflow's req/s", _ratio(rps, rps_peer), rps >= 5 * rps_peer))
        goals.append(_goal("c=64: p99 <= 1/5 of MLflow's", _ratio(p99, p99_peer), p99 <= p99_peer / 5))
    c1 = ours["loads"]["c1"]
    gap, raw_gap = c1["gap_ms"], c1["gap_sklearn_ms"]
    overhead = c1.get("overhead_ms", float("inf"))
    measured = (
        f"p50 {gap:+.2f} ms over pyfunc.predict ({raw_gap:+.2f} ms over sklearn on numpy); "
        f"same requests: mean latency {overhead:+.2f} ms over the mean in-server predict"
    )
    load = max(results["load_before"][0], results["load_after"][0])
    if load > (os.cpu_count() or 1):
        measured += f" (load average {load:.1f} on {os.cpu_count()} cores: not a reliable verdict)"
    goals.append(_goal("c=1: p50 within 1 ms of in-process predict", measured, gap <= 1.0))
    if theirs is not None and cold_theirs is not None and theirs_rows is not None:
        ratio_rows = _ratio(ours_rows, theirs_rows)
        goals.append(_goal("10,000-row bodies: >= 3x MLflow's rows/s", ratio_rows, ours_rows >= 3 * theirs_rows))
        goals.append(
            _goal("cold start <= 1/2 of MLflow's", _ratio(cold_ours, cold_theirs), cold_ours <= cold_theirs / 2)
        )
    extra = []
    if "pack -w 2" in servers:
        two = servers["pack -w 2"]["loads"]
        extra = [
            "",
            f"`pack serve -w 2` (TCP_NODELAY set on accepted sockets): c=1 p50 {two['c1']['p50_ms']:.2f} ms, "
            f"c=64 {two['c64']['rps']:,.0f} req/s (p99 {two['c64']['p99_ms']:.1f} ms).",
        ]
    onnx = results.get("onnx")
    if onnx is not None:

        def onnx_row(label: str, unit: str, phase: str, key: str, digits: int, scale: float = 1.0) -> str:
            values = [
                float(server["loads"][phase][key]) * scale if server is not None else None
                for server in (onnx, ours, theirs)
            ]
            cells = " | ".join(_fmt(value, digits) for value in values)
            return f"| {label} | {unit} | {cells} | {_ratio(values[0], values[2])} |"

        extra += [
            "",
            "The same model converted to ONNX (`pack convert --to onnx`, verified on its input example) and served"
            " by `pack serve` (onnxruntime), same bodies and load:",
            "",
            "| workload | measure | pack, ONNX | pack, sklearn | MLflow, sklearn | ONNX / MLflow |",
            "|---|---|---|---|---|---|",
            onnx_row("1 row, c=1", "req/s", "c1", "rps", 0),
            onnx_row("1 row, c=1", "p50 ms", "c1", "p50_ms", 2),
            onnx_row("1 row, c=64", "req/s", "c64", "rps", 0),
            onnx_row("1 row, c=64", "p99 ms", "c64", "p99_ms", 2),
            onnx_row("10,000 rows, c=1", "rows/s", "10k", "rps", 0, 10_000),
            f"| cold start | s | {float(onnx['cold_start_s']):.2f} | {cold_ours:.2f} | {_fmt(cold_theirs, 2)} |"
            f" {_ratio(float(onnx['cold_start_s']), cold_theirs)} |",
        ]
    mlflow_version = os.environ.get("PACK_MLFLOW_VERSION", "3.17.2")
    lines = [
        START,
        "## Serving: `pack serve` vs `mlflow models serve`",
        "",
        f"Run {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC by `python benchmarks/serving.py"
        f"{' --quick' if quick else ''}` on {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"pack {pack.__version__}, MLflow {mlflow_version}, scikit-learn {sklearn.__version__}; "
        f"load average {results['load_before'][0]:.2f} before, {results['load_after'][0]:.2f} after"
        " (on a shared machine the figures are noisy; re-run on a quiet one).",
        "RandomForestClassifier (50 trees, depth 8, 10 features), one worker each, the same model directory,"
        " the same `wrk` script, JSON `dataframe_split` bodies; MLflow with `--env-manager local`. Each server"
        " runs in its own virtualenv holding what it needs to serve the model (no torch or TensorFlow in"
        " either).",
        "",
        "| workload | measure | pack | MLflow | pack / MLflow |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "In-process floor, measured in slices alternating with the c=1 load: `pyfunc.predict` of 1 row "
        f"{c1['floor_pyfunc_ms']:.2f} ms (sklearn on numpy {c1['floor_sklearn_ms']:.2f} ms); the c=1 gap "
        f"is the median of the paired differences. The second c=1 measure compares, over the same requests, "
        "wrk's mean latency with the mean time the server spent in the model's predict (its /metrics); "
        "means carry the tail, so on a loaded machine this one overstates the typical overhead."
        f" 10,000 rows in process: {floor['pyfunc_10k_ms']:.1f} ms "
        f"({10_000 / floor['pyfunc_10k_ms'] * 1000:,.0f} rows/s). Failed or non-2xx responses: {failures}.",
        *extra,
        "",
        "| goal | measured | |",
        "|---|---|---|",
        *goals,
        END,
    ]
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 s per load run, fewer floor samples, no -w 2 row")
    parser.add_argument("--no-mlflow", action="store_true", help="pack only (no ratios; nothing is written)")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    args = parser.parse_args()
    results = run(args)
    section = report(results, args.quick)
    print(section)
    if not args.no_mlflow:
        write_section(args.output, section)
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
