"""A project's Python environment as data: from ``python_env.yaml``, or from the pip part of ``conda.yaml``.

``python_env.yaml`` (MLflow's format)::

    python: "3.11"
    build_dependencies: [pip, setuptools, wheel]
    dependencies: [-r requirements.txt, scikit-learn==1.5.2]

A ``conda.yaml`` read for a virtualenv keeps its Python version (``python=3.11``) and its ``pip:``
section; every other conda package is left out and named in ``skipped``.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pack.errors import InvalidInput
from pack.projects.spec import read_mapping

_CONDA_PYTHON = re.compile(r"python\s*==?\s*([0-9]+(?:\.[0-9]+){0,2})")
_FILE_OPTIONS = {"-r": True, "--requirement": True, "-c": True, "--constraint": True}


@dataclass(frozen=True)
class PythonEnv:
    """A Python version (None: the running one's) and what to install, in order."""

    python: str | None = None
    build_dependencies: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    """Conda packages of a ``conda.yaml`` that a virtualenv cannot install (left out)."""


def read_python_env(path: Path) -> PythonEnv:
    """Parse a ``python_env.yaml``.

    Raises:
        InvalidInput: not a mapping, or a field of the wrong shape.
    """
    document = read_mapping(path)
    return PythonEnv(
        _version(document.get("python"), path),
        _strings(document.get("build_dependencies"), "build_dependencies", path),
        _strings(document.get("dependencies"), "dependencies", path),
    )


def python_env_from_conda(path: Path) -> PythonEnv:
    """The virtualenv equivalent of a ``conda.yaml``: its Python version and ``pip:`` packages.

    Raises:
        InvalidInput: a malformed ``dependencies`` list.
    """
    document = read_mapping(path)
    dependencies = document.get("dependencies") or []
    if not isinstance(dependencies, list):
        raise InvalidInput(f"{path.name}: 'dependencies' must be a list")
    python: str | None = None
    pip: list[str] = []
    skipped: list[str] = []
    for item in dependencies:
        if isinstance(item, dict) and set(item) == {"pip"}:
            pip.extend(_strings(item["pip"], "pip", path))
        elif isinstance(item, str):
            spec = item.strip()
            name = re.split(r"[\s=<>!~]", spec, maxsplit=1)[0].split("::")[-1].lower()
            if name == "python":  # an exact version is kept; a range means "the running Python"
                match = _CONDA_PYTHON.match(spec)
                python = match.group(1) if match else None
            elif name != "pip":
                skipped.append(spec)
        else:
            raise InvalidInput(f"{path.name}: dependencies must be package strings or a {{pip: [...]}} list")
    return PythonEnv(python, (), tuple(pip), tuple(skipped))


def install_arguments(lines: tuple[str, ...]) -> list[str]:
    """Requirement lines as installer arguments: options (``-r file``) split into words, specifiers whole."""
    args: list[str] = []
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        args.extend(shlex.split(text) if text.startswith("-") else [text])
    return args


def spec_digest(env: PythonEnv, project_dir: Path, *extra: str) -> str:
    """A hash of everything that decides the environment's contents, including the text of the
    requirement and constraint files its lines name (followed recursively)."""
    digest = hashlib.sha256()
    for part in (env.python or "", *env.build_dependencies, "--", *env.dependencies, "--", *extra):
        digest.update(part.encode() + b"\0")
    _digest_files(install_arguments(env.dependencies), project_dir, digest, depth=0)
    return digest.hexdigest()


def _digest_files(args: list[str], base: Path, digest: Any, depth: int) -> None:
    if depth > 8:
        return
    for option, name in itertools.pairwise(args):
        if option not in _FILE_OPTIONS:
            continue
        path = (base / name).resolve()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
        _digest_files(install_arguments(tuple(text.splitlines())), path.parent, digest, depth + 1)


def _version(value: Any, path: Path) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        raise InvalidInput(f"{path.name}: quote the Python version ('{value}' reads as a number: write \"3.10\")")
    text = str(value).strip()
    if not re.fullmatch(r"[0-9]+(\.[0-9]+){0,2}", text):
        raise InvalidInput(f'{path.name}: \'python\' must be a version such as "3.11" or "3.11.7", got {text!r}')
    return text


def _strings(value: Any, field: str, path: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise InvalidInput(f"{path.name}: '{field}' must be a list of requirement strings")
    return tuple(str(v) for v in value)


__all__ = ["PythonEnv", "install_arguments", "python_env_from_conda", "read_python_env", "spec_digest"]
