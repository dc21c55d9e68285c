"""Virtualenvs for peers and benchmarks, created once and cached under ``$PACK_CI_CACHE``."""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import venv
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from devtools import REPO


def cache_dir() -> Path:
    """The CI cache directory."""
    return Path(os.environ.get("PACK_CI_CACHE", Path.home() / ".cache" / "pack-ci"))


def cached_venv(prefix: str, requirements: Sequence[str], constraints: Sequence[str] = ()) -> Path:
    """The python of a virtualenv with ``requirements`` installed (made on first call, then reused).

    The directory is keyed by the requirements and constraints, so a change makes a new one.
    """
    key = "\n".join([*requirements, "--", *constraints])
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    home = cache_dir() / f"{prefix}-py{sys.version_info.major}{sys.version_info.minor}-{digest}"
    python = home / "bin" / "python"
    marker = home / ".complete"
    if marker.is_file():
        return python
    cache_dir().mkdir(parents=True, exist_ok=True)
    with open(cache_dir() / f".{prefix}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.is_file():
            return python
        venv.EnvBuilder(with_pip=True, clear=True).create(home)
        command = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements]
        if constraints:
            constraints_file = home / "constraints.txt"
            constraints_file.write_text("\n".join(constraints) + "\n")
            command += ["-c", str(constraints_file)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        marker.write_text(key + "\n")
    return python


def pack_serving_python(extras: Sequence[str] = ("sklearn", "onnx")) -> Path:
    """A virtualenv with pack and only ``extras`` (as a serving image has: no torch, no TensorFlow),
    at the versions installed here. pack itself is installed editable from this checkout."""
    pins = sorted(
        f"{dist.metadata['Name']}=={dist.version}"
        for dist in metadata.distributions()
        if dist.metadata["Name"] and dist.metadata["Name"].lower() != "pack" and "+" not in dist.version
    )
    spec = f"{REPO}[{','.join(extras)}]"
    return cached_venv("pack-serving-venv", ["-e", spec], pins)
