"""Serving peers for benchmarks: MLServer and BentoML, each in its own cached virtualenv.

Each virtualenv pins the scikit-learn, numpy and joblib installed here, so a model saved with joblib
here loads there. Neither is ever imported by pack.
"""

from __future__ import annotations

import contextlib
import os
from importlib import metadata
from pathlib import Path

from devtools.venvs import cached_venv

MLSERVER_VERSION = os.environ.get("PACK_MLSERVER_VERSION", "1.7.1")
BENTOML_VERSION = os.environ.get("PACK_BENTOML_VERSION", "1.4.40")
SHARED = ("scikit-learn", "numpy", "scipy", "joblib")


def _pins() -> list[str]:
    pins = []
    for dist in SHARED:
        with contextlib.suppress(metadata.PackageNotFoundError):
            pins.append(f"{dist}=={metadata.version(dist).split('+', 1)[0]}")
    return pins


def mlserver_python() -> Path:
    """The python of a virtualenv with MLServer and its scikit-learn runtime.

    uvloop stays below 0.22: from 0.22 ``asyncio.get_event_loop()`` no longer makes a loop in a new
    process, and MLServer 1.7's inference processes die at start (``parallel_workers`` >= 1).
    """
    packages = [f"mlserver=={MLSERVER_VERSION}", f"mlserver-sklearn=={MLSERVER_VERSION}", "uvloop<0.22"]
    return cached_venv("mlserver-venv", [*packages, *_pins()])


def bentoml_python() -> Path:
    """The python of a virtualenv with BentoML."""
    return cached_venv("bentoml-venv", [f"bentoml=={BENTOML_VERSION}", *_pins()])


def clean_env(python: Path) -> dict[str, str]:
    """An environment that runs ``python``'s virtualenv, free of this one's Python settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    return env


__all__ = ["BENTOML_VERSION", "MLSERVER_VERSION", "bentoml_python", "clean_env", "mlserver_python"]
