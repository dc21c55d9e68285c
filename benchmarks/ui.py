"""Web UI: ``pack ui`` vs ``mlflow ui``, the same headless Chromium (Debian's, driven by playwright), the same run.

Both servers: SQLite, one worker (MLflow's job runners off), holding the same data: an experiment of 2,000
runs (3 params, 3 metrics, 2 tags each) and, in a second experiment, a run with one metric of 1,000,000
points. Data is written before the servers start, through each tool's own store API (MLflow: ``MlflowClient``
on the SQLite file; its 1,000,000 points go straight into its ``metrics`` table, since its client would need
an hour). Each load is cold: a new browser context (empty cache).

Measured, loads alternating between the two:
- time to the runs table: navigation start to the newest run's name in the page (the first row);
- bytes transferred for that page until no answer has come for a second (headers and bodies as sent), and
  the uncompressed JavaScript + CSS;
- chart draw time: navigation start to the 1,000,000-point metric drawn on the run's chart page (pack: the
  uPlot chart drawn; MLflow: Plotly's line in its "Model metrics" tab).

``--quick`` shrinks the data and the repetitions (a smoke run, not for the table).

Run: python benchmarks/ui.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._results import write_section
from benchmarks.tracking import free_port, start, stop
from devtools.mlflow_peer import MLFLOW_VERSION, mlflow_python
from tests.services import CHROMIUM_FLAGS

BASE_TIME = 1_764_000_000_000
CHART_KEY = "loss"

MLFLOW_SEED = textwrap.dedent(
    """
    import json, sqlite3, sys, warnings, logging
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    from mlflow.tracking import MlflowClient
    from mlflow.entities import Metric, Param, RunTag
    path, spec = sys.argv[1], json.load(open(sys.argv[2]))
    client = MlflowClient(tracking_uri=f"sqlite:///{path}")
    experiment = client.create_experiment("bench")
    for run in spec["runs"]:
        made = client.create_run(experiment, start_time=run["start"], run_name=run["name"])
        rid = made.info.run_id
        client.log_batch(
            rid,
            metrics=[Metric(k, v, run["start"], 0) for k, v in run["metrics"].items()],
            params=[Param(k, v) for k, v in run["params"].items()],
            tags=[RunTag(k, v) for k, v in run["tags"].items()],
        )
        client.set_terminated(rid, end_time=run["end"])
    charts = client.create_experiment("bench-chart")
    long = client.create_run(charts, start_time=spec["base"], run_name="long").info.run_id
    client.log_metric(long, spec["key"], 1.0, timestamp=spec["base"], step=0)
    n = spec["points"]
    db = sqlite3.connect(path)
    rows = ((spec["key"], 1 / (1 + s / 1000), spec["base"] + s, long, s, 0) for s in range(1, n))
    db.executemany(
        "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)", rows
    )
    db.execute(
        "UPDATE latest_metrics SET value = ?, timestamp = ?, step = ? WHERE run_uuid = ? AND key = ?",
        (1 / (1 + (n - 1) / 1000), spec["base"] + n - 1, n - 1, long, spec["key"]),
    )
    db.commit()
    db.close()
    client.set_terminated(long, end_time=spec["base"] + n)
    print(json.dumps({"experiment": experiment, "chart_experiment": charts, "chart_run": long}))
    """
)

# Before any page script: note when a condition first holds (checked every animation frame).
PROBE = """
(() => {
  const name = %s, chart = %s;
  const xpath = `//a[normalize-space(.)='${name}']`;
  window.__bench = {};
  const tick = () => {
    if (!window.__bench.table && document.body &&
        document.evaluate(xpath, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue) {
      window.__bench.table = performance.now();
    }
    if (!window.__bench.chart && document.querySelector(chart)) window.__bench.chart = performance.now();
    if (!window.__bench.table || !window.__bench.chart) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""
CHART_DRAWN = {
    "pack": ".chart[data-drawn]",
    "mlflow": ".js-plotly-plot .scatterlayer path.js-line[d*=L]",
}


def spec(runs: int, points: int) -> dict[str, Any]:
    """The data both servers hold."""
    rows = []
    for i in range(runs):
        start_ms = BASE_TIME + i * 1000
        rows.append(
            {
                "name": f"bench-{i:05d}",
                "start": start_ms,
                "end": start_ms + 500 + (i % 7) * 100,
                "metrics": {"acc": 0.5 + (i % 100) / 250, "loss": 1 / (1 + i % 50), "f1": (i % 10) / 10},
                "params": {"depth": str(2 + i % 12), "lr": str(0.1 / (1 + i % 5)), "optimizer": "ab"[i % 2]},
                "tags": {"team": f"team-{i % 4}", "stage": "dev"},
            }
        )
    return {"runs": rows, "base": BASE_TIME, "points": points, "key": CHART_KEY}


def seed_pack(root: Path, data: dict[str, Any]) -> dict[str, str]:
    from pack.store import Metric, Param, RunTag
    from pack.store.sql import Database, SqlTrackingStore

    db = Database(f"sqlite:///{root}/pack.db")
    store = SqlTrackingStore(db, str(root / "art"))
    experiment = store.create_experiment("bench")
    for run in data["runs"]:
        rid = store.create_run(experiment, user_id="bench", start_time=run["start"], run_name=run["name"]).info.run_id
        store.log_batch(
            rid,
            metrics=[Metric(k, v, run["start"], 0) for k, v in run["metrics"].items()],
            params=[Param(k, v) for k, v in run["params"].items()],
            tags=[RunTag(k, v) for k, v in run["tags"].items()],
        )
        store.update_run_info(rid, "FINISHED", run["end"], None)
    charts = store.create_experiment("bench-chart")
    long = store.create_run(charts, user_id="bench", start_time=data["base"], run_name="long").info.run_id
    n = data["points"]
    for begin in range(0, n, 20_000):
        store.log_batch(
            long,
            metrics=[
                Metric(CHART_KEY, 1 / (1 + s / 1000), data["base"] + s, s) for s in range(begin, min(n, begin + 20_000))
            ],
        )
    store.update_run_info(long, "FINISHED", data["base"] + n, None)
    db.dispose()
    return {"experiment": experiment, "chart_experiment": charts, "chart_run": long}


def seed_mlflow(root: Path, data: dict[str, Any]) -> dict[str, str]:
    spec_file = root / "spec.json"
    spec_file.write_text(json.dumps(data))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "MLFLOW_"))}
    done = subprocess.run(
        [str(mlflow_python()), "-c", MLFLOW_SEED, str(root / "mlflow.db"), str(spec_file)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=7200,
        check=False,
        env=env,
    )
    if done.returncode != 0:
        raise RuntimeError(f"seeding MLflow failed:\n{done.stderr[-3000:]}")
    ids: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return ids


def urls(kind: str, base: str, ids: dict[str, str]) -> tuple[str, str]:
    """(runs table, chart page) of a server."""
    if kind == "pack":
        return f"{base}/experiments/{ids['experiment']}", f"{base}/runs/{ids['chart_run']}?tab=charts"
    return (
        f"{base}/#/experiments/{ids['experiment']}/runs",
        f"{base}/#/experiments/{ids['chart_experiment']}/runs/{ids['chart_run']}/model-metrics",
    )


def quiet_until(page: Any, responses: list[Any], quiet: float = 1.0, cap: float = 15.0) -> None:
    """Wait until no response has arrived for ``quiet`` seconds (at most ``cap``): MLflow's pages poll on,
    so the network never goes idle there."""
    deadline = time.monotonic() + cap
    seen, still = len(responses), time.monotonic()
    while time.monotonic() < deadline:
        page.wait_for_timeout(100)
        if len(responses) != seen:
            seen, still = len(responses), time.monotonic()
        elif time.monotonic() - still >= quiet:
            return


def load(browser: Any, url: str, kind: str, newest: str, wait_for: str) -> dict[str, float]:
    """One cold load of ``url``: when the table and the chart appeared, and what was transferred."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        context.add_init_script(PROBE % (json.dumps(newest), json.dumps(CHART_DRAWN[kind])))
        page = context.new_page()
        responses: list[Any] = []
        page.on("response", lambda response: responses.append(response))  # noqa: PLW0108 - not a builtin for playwright
        page.goto(url, timeout=120_000)
        deadline = time.monotonic() + 120
        while not (page.evaluate("() => window.__bench") or {}).get(wait_for):  # the page's CSP forbids eval
            if time.monotonic() > deadline:
                raise RuntimeError(f"{kind}: {wait_for} did not appear at {url}")
            page.wait_for_timeout(50)
        quiet_until(page, responses)
        marks = page.evaluate("() => window.__bench")
        sent = 0
        code = 0
        for response in responses:
            try:
                sizes = response.request.sizes()
                sent += sizes["responseBodySize"] + sizes["responseHeadersSize"]
                if response.request.resource_type in ("script", "stylesheet", "document"):
                    code += len(response.body())
            except Exception:  # a response that never finished (an aborted poll): nothing was transferred
                continue
        return {
            "ms": float(marks[wait_for]),
            "sent": float(sent),
            "code": float(code),
            "requests": float(len(responses)),
        }
    finally:
        context.close()


def measure(quick: bool) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    runs, points, repeats = (200, 100_000, 2) if quick else (2000, 1_000_000, 5)
    data = spec(runs, points)
    newest = data["runs"][-1]["name"]
    results: dict[str, Any] = {"runs": runs, "points": points, "repeats": repeats}
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        roots = {kind: Path(tmp) / kind for kind in ("pack", "mlflow")}
        for root in roots.values():
            root.mkdir()
        ids = {"pack": seed_pack(roots["pack"], data), "mlflow": seed_mlflow(roots["mlflow"], data)}
        servers = {}
        try:
            for kind in ("pack", "mlflow"):
                port = free_port()
                process, _ = start(kind, roots[kind], port, {})
                servers[kind] = (process, f"http://127.0.0.1:{port}")
            samples: dict[str, dict[str, list[float]]] = {k: {} for k in servers}
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=os.environ.get("PACK_TEST_CHROMIUM", "/usr/bin/chromium"), args=CHROMIUM_FLAGS
                )
                try:
                    for kind, (_, base) in servers.items():  # one warm-up load each (server caches, not the browser's)
                        table_url, chart_url = urls(kind, base, ids[kind])
                        load(browser, table_url, kind, newest, "table")
                        load(browser, chart_url, kind, newest, "chart")
                    for _ in range(repeats):
                        for kind, (_, base) in servers.items():
                            table_url, chart_url = urls(kind, base, ids[kind])
                            table = load(browser, table_url, kind, newest, "table")
                            chart = load(browser, chart_url, kind, newest, "chart")
                            for key, value in (
                                ("table_ms", table["ms"]),
                                ("table_sent", table["sent"]),
                                ("table_code", table["code"]),
                                ("table_requests", table["requests"]),
                                ("chart_ms", chart["ms"]),
                                ("chart_sent", chart["sent"]),
                            ):
                                samples[kind].setdefault(key, []).append(value)
                finally:
                    browser.close()
        finally:
            for process, _ in servers.values():
                stop(process)
    for kind, values in samples.items():
        results[kind] = {key: statistics.median(v) for key, v in values.items()}
        results[kind]["table_ms_all"] = values["table_ms"]
        results[kind]["chart_ms_all"] = values["chart_ms"]
    results["load"] = os.getloadavg()[0]
    return results


def each(values: list[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


def report(results: dict[str, Any], quick: bool) -> str:
    pack, mlflow = results["pack"], results["mlflow"]
    rows = [
        (f"time to the runs table, {results['runs']:,} runs (ms)", "table_ms", lambda v: f"{v:,.0f}"),
        ("bytes transferred for the runs page (KB)", "table_sent", lambda v: f"{v / 1024:,.0f}"),
        ("JavaScript + CSS + HTML, uncompressed (KB)", "table_code", lambda v: f"{v / 1024:,.0f}"),
        ("requests for the runs page", "table_requests", lambda v: f"{v:.0f}"),
        (f"chart of a {results['points']:,}-point metric drawn (ms)", "chart_ms", lambda v: f"{v:,.0f}"),
        ("bytes transferred for the chart page (KB)", "chart_sent", lambda v: f"{v / 1024:,.0f}"),
    ]
    lines = [
        "## Web UI: pack ui vs mlflow ui",
        "",
        f"MLflow {MLFLOW_VERSION} (`mlflow server`, SQLite, 1 worker, job execution off) and `pack server`, both on "
        f"SQLite holding the same data, opened cold (new browser context) in the same headless Chromium, "
        f"alternating; median of {results['repeats']} loads each after one warm-up. "
        f"`python benchmarks/ui.py`. Load average while measuring: {results['load']:.1f} on {os.cpu_count()} CPUs."
        + (" **Quick run (sizes shrunk): not for comparison.**" if quick else ""),
        "",
        "| measure | mlflow ui | pack ui | mlflow / pack |",
        "|---|---:|---:|---:|",
    ]
    for label, key, show in rows:
        lines.append(f"| {label} | {show(mlflow[key])} | {show(pack[key])} | {mlflow[key] / pack[key]:.1f}x |")
    lines += [
        "",
        f"Every load (ms), runs table: pack {each(pack['table_ms_all'])}; MLflow {each(mlflow['table_ms_all'])}. "
        f"Chart: pack {each(pack['chart_ms_all'])}; MLflow {each(mlflow['chart_ms_all'])}.",
        "Goals (issue 13): time to table <= 1/5 of MLflow's, bytes <= 1/20 of MLflow's, a 1,000,000-point chart well "
        "under a second.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, two loads each (a smoke run)")
    args = parser.parse_args()
    results = measure(args.quick)
    print(json.dumps(results, indent=2))
    write_section("ui", report(results, args.quick))


if __name__ == "__main__":
    main()
