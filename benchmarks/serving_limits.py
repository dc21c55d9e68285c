"""What the server's limits cost: memory per large request, and c=64 throughput before/after the limits.

* Memory: one 60 MB body (JSON ``dataframe_split``, then the same rows as CSV) to ``pack serve``; the
  peak resident memory it adds (``VmHWM`` from /proc, reset before each request) divided by the body
  size. Goal: under 3x for both.
* Throughput: the benchmark RandomForest, 1-row JSON bodies, ``wrk`` at 64 connections, against
  ``pack serve`` as it is and as it was before the limits (the commit ``BASELINE``, checked out into a
  temporary directory and run with the same Python). Goal: at most 3% fewer requests per second.

Both servers run one worker each, one at a time. Writes its section of ``benchmarks/RESULTS.md``.

Usage: python benchmarks/serving_limits.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._load import WRK_SCRIPT, Target, ensure_wrk, free_port, post, wrk  # noqa: E402
from benchmarks._results import write_section  # noqa: E402
from benchmarks._servers import train  # noqa: E402

BASELINE = "824527b"  # main before the server's limits (issue 9)
BODY_MB = 60


def _status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {key} for {pid}")


class Served:
    """``pack serve MODEL`` (from ``source``: this checkout, or the baseline's) on a free port."""

    def __init__(self, model: Path, source: Path, log: Path, *flags: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/invocations"
        env = {**os.environ, "PYTHONPATH": str(source)}
        command = [sys.executable, "-c", "from pack.cli.main import main; main()", "serve", str(model)]
        self._log = open(log, "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [*command, "-p", str(self.port), *flags], stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=source
        )
        deadline = time.monotonic() + 120
        body = b'{"inputs": [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]}'
        while post(self.url, body, timeout=2) != 200:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"pack serve did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)

    def peak_added(self, body: bytes, content_type: str) -> tuple[int, int]:
        """(status, bytes of resident memory the request added at its peak)."""
        import urllib.error
        import urllib.request

        pid = self.process.pid
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
        before = _status(pid, "VmRSS")
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                response.read()
                status = int(response.status)
        except urllib.error.HTTPError as error:
            status = int(error.code)
        return status, _status(pid, "VmHWM") - before

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(60)
        self._log.close()


def _bodies(frame: Any) -> tuple[bytes, bytes]:
    """A 60 MB JSON body and a 60 MB CSV body of the same kind of rows."""
    import orjson

    rows = frame.sample(2000, replace=True, random_state=3).to_numpy().tolist()
    count = int(BODY_MB * 2**20 / (len(orjson.dumps(rows)) / len(rows)))
    many = (rows * (count // len(rows) + 2))[: int(count * 1.2)]
    as_json = orjson.dumps({"dataframe_split": {"columns": list(frame.columns), "data": many[:count]}})
    text = ",".join(frame.columns) + "\n" + "".join(",".join(repr(v) for v in row) + "\n" for row in many)
    cut = text.encode()[: BODY_MB * 2**20]
    return as_json, cut[: cut.rindex(b"\n") + 1]


def _baseline_source(work: Path) -> Path:
    target = work / "baseline"
    target.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", BASELINE, "pack"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def run(quick: bool) -> dict[str, Any]:
    import orjson

    ensure_wrk()
    work = Path(tempfile.mkdtemp(prefix="pack-bench-limits-"))
    model, _, frame = train(work)
    baseline = _baseline_source(work)
    as_json, as_csv = _bodies(frame)
    results: dict[str, Any] = {"load_before": os.getloadavg()[0], "memory": {}, "throughput": {}}
    for name, source in (("pack", ROOT), ("before the limits", baseline)):
        server = Served(model, source, work / f"{name}.log", "--max-body-size", "128")
        try:
            for kind, body, content_type in (("JSON", as_json, "application/json"), ("CSV", as_csv, "text/csv")):
                status, added = server.peak_added(body, content_type)
                results["memory"][(name, kind)] = (status, len(body), added)
                print(f"{name} {kind}: {len(body) / 2**20:.0f} MB body, +{added / 2**20:.0f} MB peak ({status})")
        finally:
            server.stop()
    script = work / "post.lua"
    script.write_text(WRK_SCRIPT)
    small = work / "one.json"
    small.write_bytes(
        orjson.dumps({"dataframe_split": {"columns": list(frame.columns), "data": [frame.iloc[0].tolist()]}})
    )
    rounds, seconds = (2, 3.0) if quick else (5, 8.0)
    rates: dict[str, list[float]] = {"pack": [], "before the limits": []}
    sources = (("pack", ROOT), ("before the limits", baseline))
    servers = {name: Served(model, source, work / f"{name}-load.log") for name, source in sources}
    try:
        for server in servers.values():
            wrk(Target(server.url, small), script, 8, 1.0)
        for _ in range(rounds):  # alternate, so both see the same machine
            for name, server in servers.items():
                load = wrk(Target(server.url, small), script, 64, seconds)
                rates[name].append(load.rps)
    finally:
        for server in servers.values():
            server.stop()
    results["throughput"] = {name: statistics.median(values) for name, values in rates.items()}
    results["load_after"] = os.getloadavg()[0]
    return results


def report(results: dict[str, Any], quick: bool) -> str:
    lines = [
        "## Serving limits: memory per large request, throughput with the limits on",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `python benchmarks/serving_limits.py"
        f"{' --quick' if quick else ''}` on {os.cpu_count()} cores; load average {results['load_before']:.1f} before,"
        f' {results["load_after"]:.1f} after. The benchmark RandomForest, one worker; "before the limits" is'
        f" commit {BASELINE} run from the same Python.",
        "",
        "| body | server | size | peak memory added | ratio | status |",
        "|---|---|---|---|---|---|",
    ]
    for (name, kind), (status, size, added) in results["memory"].items():
        lines.append(
            f"| {kind} | {name} | {size / 2**20:.0f} MB | {added / 2**20:.0f} MB | {added / size:.1f}x | {status} |"
        )
    ours, before = results["throughput"]["pack"], results["throughput"]["before the limits"]
    lines += [
        "",
        "| 1 row, c=64 | req/s |",
        "|---|---|",
        f"| pack | {ours:,.0f} |",
        f"| before the limits | {before:,.0f} |",
        f"| ratio | {ours / before:.3f} |",
        "",
        "| goal | measured | |",
        "|---|---|---|",
    ]
    for kind in ("JSON", "CSV"):
        status, size, added = results["memory"][("pack", kind)]
        lines.append(
            f"| {kind} 60 MB body: peak < 3x the body | {added / size:.1f}x | "
            f"{'met' if added < 3 * size and status == 200 else 'not met'} |"
        )
    change = "lost" if ours < before else "gained"
    lines.append(
        f"| c=64 throughput: at most 3% lost | {abs(1 - ours / before) * 100:.1f}% {change} | "
        f"{'met' if ours >= 0.97 * before else 'not met'} |"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    results = run(args.quick)
    text = report(results, args.quick)
    print(text)
    write_section("serving_limits", text)


if __name__ == "__main__":
    main()
