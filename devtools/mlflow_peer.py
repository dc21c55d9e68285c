"""MLflow as a peer: its own virtualenv, created on first use and cached, never imported by pack.

The virtualenv lives under ``$PACK_CI_CACHE`` (default ``~/.cache/pack-ci``) and pins the same
scikit-learn and cloudpickle as the running interpreter, so models cross between the two. A second
virtualenv (``mlflow_python(DL_DISTRIBUTIONS)``) adds the deep-learning frameworks installed here, at
the same versions (torch without its local label: ``torch==2.13.0`` is the local CPU wheel).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import subprocess
import sys
import venv
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

MLFLOW_VERSION = os.environ.get("PACK_MLFLOW_VERSION", "3.17.2")
DL_DISTRIBUTIONS = ("torch", "tensorflow-cpu", "keras", "onnx", "onnxruntime", "skl2onnx")


def cache_dir() -> Path:
    """The CI cache directory."""
    return Path(os.environ.get("PACK_CI_CACHE", Path.home() / ".cache" / "pack-ci"))


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
    pins = _pins(extra)
    tag = "-".join(p.replace("==", "") for p in pins)
    digest = hashlib.sha256(tag.encode()).hexdigest()[:10]
    home = cache_dir() / f"mlflow-venv-py{sys.version_info.major}{sys.version_info.minor}-{digest}"
    python = home / "bin" / "python"
    marker = home / ".complete"
    if marker.is_file():
        return python
    cache_dir().mkdir(parents=True, exist_ok=True)
    with open(cache_dir() / ".mlflow-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.is_file():
            return python
        venv.EnvBuilder(with_pip=True, clear=True).create(home)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *pins],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        marker.write_text("\n".join(pins) + "\n")
    return python


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
