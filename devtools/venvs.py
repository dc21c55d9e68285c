"""Virtualenvs for peers and benchmarks, created once and cached under ``$PACK_CI_CACHE``."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
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


def cached_venv(
    prefix: str, requirements: Sequence[str], constraints: Sequence[str] = (), then: Sequence[str] = ()
) -> Path:
    """The python of a virtualenv with ``requirements`` installed (made on first call, then reused).

    ``then``: arguments of a second ``pip install`` run after the first (e.g. a package without its
    dependencies). The directory is keyed by all of these, so a change makes a new one.
    """
    key = "\n".join([*requirements, "--", *constraints, "--", *then])
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    home = cache_dir() / f"{prefix}-py{sys.version_info.major}{sys.version_info.minor}-{digest}"
    python = home / "bin" / "python"
    marker = home / ".complete"
    if marker.is_file():
        marker.touch()  # last use, for _prune
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
        if then:
            subprocess.run([*command[:5], *then], check=True, stdout=subprocess.DEVNULL)
        marker.write_text(key + "\n")
        _prune(prefix)
    return python


def _prune(prefix: str, keep: int = 3) -> None:
    """Remove all but the ``keep`` most recently used virtualenvs of ``prefix`` (keys change with pins)."""
    homes = [home for home in cache_dir().glob(f"{prefix}-py*") if (home / ".complete").is_file()]
    homes.sort(key=lambda home: (home / ".complete").stat().st_mtime, reverse=True)
    for stale in homes[keep:]:
        shutil.rmtree(stale, ignore_errors=True)


def pack_serving_python(
    extras: Sequence[str] = ("sklearn", "onnx"), also: Sequence[str] = (), prefix: str = "pack-serving-venv"
) -> Path:
    """A virtualenv with what a serving image holds: the dependencies ``pack serve`` needs (the images'
    set, ``pack.builders.wheelhouse.serving_requirements``: no pyarrow, SQLAlchemy or Alembic), those
    of ``extras`` (no torch, no TensorFlow), at the versions installed here, and pack itself, editable
    from this checkout without its other dependencies. ``also``: more requirements (e.g. a benchmark's
    candidates), under their own ``prefix`` so they do not prune the plain serving virtualenvs."""
    from pack.builders.wheelhouse import TargetPlatform, serving_requirements

    pins = sorted(
        f"{dist.metadata['Name']}=={dist.version}"
        for dist in metadata.distributions()
        if dist.metadata["Name"] and dist.metadata["Name"].lower() != "pack" and "+" not in dist.version
    )
    wanted = [f'extra == "{extra}"' for extra in extras]
    extra_requirements = [
        line.split(";", 1)[0].strip()
        for line in metadata.requires("pack") or []
        if any(marker in line.replace("'", '"') for marker in wanted)
    ]
    here = TargetPlatform(f"{sys.version_info.major}.{sys.version_info.minor}")
    requirements = [*serving_requirements(here), *extra_requirements, *also]
    return cached_venv(prefix, requirements, pins, then=["--no-deps", "-e", str(REPO)])
