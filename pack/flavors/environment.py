"""The model's environment: pinned ``requirements.txt``, ``python_env.yaml`` and ``conda.yaml``.

Requirements come from what the flavor knows it needs plus the distributions that provide the
modules the model's objects are defined in: no subprocess, no import capture, milliseconds.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import metadata
from pathlib import Path

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

REQUIREMENTS_FILE = "requirements.txt"
PYTHON_ENV_FILE = "python_env.yaml"
CONDA_FILE = "conda.yaml"
ENV_CONF = {"conda": CONDA_FILE, "virtualenv": PYTHON_ENV_FILE}

_NEVER = {"pack", "pip", "setuptools", "wheel"}


def python_version() -> str:
    """The running interpreter's version, e.g. ``3.11.7``."""
    return platform.python_version()


@cache
def _module_distributions() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


def distributions_for_modules(modules: Iterable[str]) -> list[str]:
    """Distribution names providing the top-level packages of ``modules`` (stdlib and pack excluded)."""
    found: set[str] = set()
    stdlib = sys.stdlib_module_names
    for module in modules:
        top = module.split(".", 1)[0]
        if not top or top in stdlib or top == "__main__" or top.startswith("_"):
            continue
        for dist in _module_distributions().get(top, []):
            if dist.lower() not in _NEVER:
                found.add(dist)
    return sorted(found)


def pin(distributions: Iterable[str]) -> list[str]:
    """``name==version`` for each bare name of an installed distribution; requirements with a version
    specifier, extras, a URL or a marker (and lines that are no requirement) pass unchanged. The first
    entry for a project wins."""
    pinned: dict[str, str] = {}
    for entry in distributions:
        text = entry.strip()
        if not text:
            continue
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            pinned.setdefault(text.lower(), text)
            continue
        key = canonicalize_name(requirement.name)
        if requirement.specifier or requirement.extras or requirement.url or requirement.marker:
            pinned.setdefault(key, text)
            continue
        try:
            pinned.setdefault(key, f"{requirement.name}=={metadata.version(requirement.name)}")
        except metadata.PackageNotFoundError:
            pinned.setdefault(key, text)
    return sorted(pinned.values(), key=str.lower)


def _installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def write_environment(model_dir: Path, requirements: Sequence[str], python: str | None = None) -> None:
    """Write ``requirements.txt``, ``python_env.yaml`` and ``conda.yaml`` into ``model_dir``."""
    python = python or python_version()
    (model_dir / REQUIREMENTS_FILE).write_text("".join(f"{req}\n" for req in requirements), encoding="utf-8")
    build = [
        f"{name}=={version}" if (version := _installed_version(name)) else name
        for name in ("pip", "setuptools", "wheel")
    ]
    python_env = {"python": python, "build_dependencies": build, "dependencies": [f"-r {REQUIREMENTS_FILE}"]}
    (model_dir / PYTHON_ENV_FILE).write_text(yaml.safe_dump(python_env, sort_keys=False), encoding="utf-8")
    pip_version = _installed_version("pip")
    conda = {
        "channels": ["conda-forge"],
        "dependencies": [
            f"python={python}",
            f"pip<={pip_version}" if pip_version else "pip",
            {"pip": list(requirements)},
        ],
        "name": "pack-env",
    }
    (model_dir / CONDA_FILE).write_text(yaml.safe_dump(conda, sort_keys=False), encoding="utf-8")


def read_requirements(model_dir: Path) -> list[str]:
    """The requirement lines of a model directory (comments and blanks dropped)."""
    path = model_dir / REQUIREMENTS_FILE
    if not path.is_file():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


__all__ = [
    "CONDA_FILE",
    "ENV_CONF",
    "PYTHON_ENV_FILE",
    "REQUIREMENTS_FILE",
    "distributions_for_modules",
    "pin",
    "python_version",
    "read_requirements",
    "write_environment",
]
