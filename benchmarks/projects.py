"""Projects: `pack run` vs `mlflow run` on the same projects, same machine, same run.

Scenarios (wall time of the whole command, median of the repeats):
- a trivial entry point with the current interpreter (``--env-manager local``): what the runner costs;
- the issue's example project (``examples/my_ml_project``: trains, logs metrics and the model) with
  ``--env-manager local``: pack's script imports pack, MLflow's the same script imports mlflow;
- a ``python_env.yaml`` project under ``--env-manager uv``: the first run builds the environment (in a
  new, empty environment root each time; uv's download cache is warmed first, so no network is timed),
  the second run finds it again.

MLflow runs from its own virtualenv (``devtools/mlflow_peer.py``), pack from this interpreter; each
tool records into its own SQLite database.

Run: python benchmarks/projects.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._results import write_section
from devtools import REPO
from devtools.cli import pack_command
from devtools.mlflow_peer import MLFLOW_VERSION, mlflow_python

TRIVIAL = """\
name: trivial
entry_points:
  main:
    parameters: {n: {type: int, default: 1}}
    command: 'python -c pass {n}'
"""
UV_PROJECT = "name: tiny\npython_env: python_env.yaml\nentry_points: {main: {command: 'python -c \"import six\"'}}\n"
PYTHON_ENV = (
    f"python: '{sys.version_info[0]}.{sys.version_info[1]}'\nbuild_dependencies: [pip]\ndependencies: [six==1.16.0]\n"
)


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{command[:4]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return elapsed


def median(repeats: int, measure: Callable[[int], float]) -> float:
    return statistics.median(measure(i) for i in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke test of the script)")
    repeats = 1 if parser.parse_args().quick else 5
    mlflow = mlflow_python()
    uv_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="pack-bench-projects-") as tmp:
        root = Path(tmp)
        trivial, uv_project, seed = root / "trivial", root / "uvproject", root / "my_ml_project"
        trivial.mkdir()
        (trivial / "MLproject").write_text(TRIVIAL)
        uv_project.mkdir()
        (uv_project / "MLproject").write_text(UV_PROJECT)
        (uv_project / "python_env.yaml").write_text(PYTHON_ENV)
        shutil.copytree(REPO / "examples" / "my_ml_project", seed)
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PACK_", "MLFLOW_", "VIRTUAL_ENV"))}
        path = f"{mlflow.parent}:{uv_dir}:{base.get('PATH', '')}"
        pack_env = {
            **base,
            "PACK_TRACKING_URI": f"sqlite:///{root}/pack.db",
            "PACK_DEFAULT_ARTIFACT_ROOT": f"{root}/pack",
        }
        ml_env = {
            **base,
            "MLFLOW_TRACKING_URI": f"sqlite:///{root}/mlflow.db",
            "PATH": path,
            "GIT_PYTHON_REFRESH": "quiet",
        }
        pack = [*pack_command(), "run"]
        ml = [str(mlflow), "-m", "mlflow", "run"]

        def both(
            args: list[str],
            cwd: Path,
            pack_extra: Callable[[int], dict[str, str]],
            ml_extra: Callable[[int], dict[str, str]],
        ) -> tuple[float, float]:
            ours = median(repeats, lambda i: timed([*pack, *args], cwd, {**pack_env, **pack_extra(i)}))
            theirs = median(repeats, lambda i: timed([*ml, *args], cwd, {**ml_env, **ml_extra(i)}))
            return ours, theirs

        none: Callable[[int], dict[str, str]] = lambda i: {}  # noqa: E731
        timed([*pack, ".", "--env-manager", "local"], trivial, pack_env)  # create both databases first
        timed([*ml, ".", "--env-manager", "local"], trivial, ml_env)
        rows = [
            ("trivial entry point, `--env-manager local`", *both([".", "--env-manager", "local"], trivial, none, none))
        ]
        seed_args = [".", "-P", "epochs=3", "--env-manager", "local"]
        rows.append(("example project (train, log metrics and model), `local`", *both(seed_args, seed, none, none)))
        timed([*pack, ".", "--env-manager", "uv"], uv_project, {**pack_env, "PACK_CACHE_DIR": f"{root}/warm"})
        fresh_pack = lambda i: {"PACK_CACHE_DIR": f"{root}/pack-envs-{i}"}  # noqa: E731
        fresh_ml = lambda i: {"MLFLOW_ENV_ROOT": f"{root}/mlflow-envs-{i}"}  # noqa: E731
        uv_args = [".", "--env-manager", "uv"]
        rows.append(
            (
                "`python_env.yaml` under `uv`, first run (builds the environment)",
                *both(uv_args, uv_project, fresh_pack, fresh_ml),
            )
        )
        again_pack = lambda i: {"PACK_CACHE_DIR": f"{root}/pack-envs-0"}  # noqa: E731
        again_ml = lambda i: {"MLFLOW_ENV_ROOT": f"{root}/mlflow-envs-0"}  # noqa: E731
        rows.append(
            (
                "`python_env.yaml` under `uv`, second run (environment reused)",
                *both(uv_args, uv_project, again_pack, again_ml),
            )
        )
    lines = [
        f"## Projects: `pack run` vs `mlflow run` (MLflow {MLFLOW_VERSION}), wall time of the command",
        "",
        f"Median of {repeats} run(s) each; `python benchmarks/projects.py`. Load average while measuring: "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs.",
        "",
        "| scenario | pack run | mlflow run | mlflow / pack |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {name} | {ours:.2f} s | {theirs:.2f} s | {theirs / ours:.1f}x |" for name, ours, theirs in rows]
    write_section("projects", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
