"""MLflow as a peer: its own virtualenv, created on first use and cached, never imported by pack.

The virtualenv lives under ``$PACK_CI_CACHE`` (default ``~/.cache/pack-ci``) and pins the same
scikit-learn and cloudpickle as the running interpreter, so models cross between the two. A second
virtualenv (``mlflow_python(DL_DISTRIBUTIONS)``) adds the deep-learning frameworks installed here, at
the same versions (torch without its local label: ``torch==2.13.0`` is the local CPU wheel).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from devtools.venvs import cached_venv

MLFLOW_VERSION = os.environ.get("PACK_MLFLOW_VERSION", "3.17.2")
DL_DISTRIBUTIONS = ("torch", "tensorflow-cpu", "keras", "onnx", "onnxruntime", "skl2onnx")


def _pins(extra: Sequence[str] = ()) -> list[str]:
    pins = [f"mlflow=={MLFLOW_VERSION}"]
    # Same versions as ours for what crosses the boundary; orjson so pack itself imports there.
    for dist in ("scikit-learn", "cloudpickle", "skops", "numpy", "orjson", *extra):
        with contextlib.suppress(metadata.PackageNotFoundError):
            pins.append(f"{dist}=={metadata.version(dist).split('+', 1)[0]}")
    return pins


def mlflow_python(extra: Sequence[str] = ()) -> Path:
    """The python of a virtualenv with MLflow (created and cached on first call).

    ``extra``: more distributions, pinned to the versions installed here (skipped if not installed).
    """
    return cached_venv("mlflow-venv", _pins(extra))


def run_mlflow(
    script: str,
    cwd: Path,
    *,
    timeout: float = 600,
    python: Path | None = None,
    args: Sequence[str] = (),
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a Python script (with ``args``) by MLflow's interpreter (or ``python``); raise if it fails."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(extra_env or {})
    env.update(
        MLFLOW_ALLOW_PICKLE_DESERIALIZATION="true",
        GIT_PYTHON_REFRESH="quiet",
        MLFLOW_TRACKING_URI=f"sqlite:///{cwd}/mlflow.db",
    )
    done = subprocess.run(
        [str(python or mlflow_python()), "-c", script, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"MLflow script failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done
