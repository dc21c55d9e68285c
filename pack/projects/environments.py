"""Environments a project's command runs in, created once and reused: keyed by a hash of their spec.

- ``local``: the running interpreter (``python`` is this Python, whatever ``PATH`` says).
- ``virtualenv``: ``python -m venv`` + pip, from ``python_env.yaml`` (or a ``conda.yaml``'s pip part).
- ``uv``: the same spec built by uv (``uv venv`` + ``uv pip install``): much faster, and uv can fetch
  a Python version that is not installed.
- ``conda``: ``conda env create`` (or mamba) from ``conda.yaml``, when conda is on ``PATH``.

Environments live in ``<cache>/envs/<manager>-<hash>``; a marker file says one is complete, and a lock
makes concurrent runs of the same spec build it once. A failed build leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shlex
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from pack.errors import InvalidInput, ProjectError
from pack.projects.cache import exclusive
from pack.projects.envspec import PythonEnv, install_arguments, python_env_from_conda, read_python_env, spec_digest
from pack.projects.interpreters import find_interpreter
from pack.projects.process import Step
from pack.projects.spec import EnvKind, Project

ENV_MANAGERS = ("local", "virtualenv", "uv", "conda")
_MARKER = ".pack-env.json"
logger = logging.getLogger("pack.projects")


@dataclass(frozen=True)
class Environment:
    """Where the command runs: ``bin_dirs`` go first on ``PATH``; ``variables`` are set for it."""

    manager: str
    name: str
    bin_dirs: tuple[Path, ...]
    variables: dict[str, str]
    reused: bool
    seconds: float

    def apply(self, environ: dict[str, str]) -> dict[str, str]:
        """``environ`` with this environment's ``PATH`` and variables."""
        path = [str(d) for d in self.bin_dirs] + ([environ["PATH"]] if environ.get("PATH") else [])
        return {**environ, **self.variables, "PATH": ":".join(path)}


def uv_executable() -> str | None:
    """The uv binary: on ``PATH``, beside this interpreter, or from the ``uv`` Python package."""
    found = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if found:
        return found
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found,unused-ignore]

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return None


def conda_executable() -> str | None:
    """mamba, or conda, when one is on ``PATH``."""
    return shutil.which("mamba") or shutil.which("conda")


def choose_manager(requested: str | None, project: Project) -> str:
    """The environment manager for ``project`` (``requested``, or the default for what it declares).

    Defaults: ``docker_env`` runs in its image; ``python_env`` with uv when it is installed, else
    virtualenv; ``conda_env`` with conda; no declared environment with the running interpreter.

    Raises:
        InvalidInput: an unknown manager, one that does not fit the project, or one not installed here.
    """
    if requested is not None and requested not in ENV_MANAGERS:
        raise InvalidInput(f"unknown environment manager {requested!r} (use {', '.join(ENV_MANAGERS)})")
    kind = project.env_kind
    if kind is EnvKind.DOCKER:
        if requested not in (None, "local"):
            raise InvalidInput("this project runs in its docker_env image; --env-manager does not apply to it")
        return "docker"
    if requested is None:
        requested = {
            EnvKind.PYTHON: "uv" if uv_executable() else "virtualenv",
            EnvKind.CONDA: "conda",
            EnvKind.NONE: "local",
        }[kind]
    if requested == "uv" and uv_executable() is None:
        raise InvalidInput("uv is not installed: pip install uv (or use --env-manager virtualenv)")
    if requested == "conda":
        if kind is EnvKind.PYTHON:
            raise InvalidInput("a python_env project cannot run under conda: use --env-manager uv or virtualenv")
        if kind is EnvKind.NONE:
            raise InvalidInput("--env-manager conda needs a conda.yaml (conda_env) in the project")
        if conda_executable() is None:
            raise InvalidInput(
                "this project's environment is a conda.yaml and neither conda nor mamba is installed: install one, "
                "or run it with --env-manager uv (its Python version and pip packages; conda-only packages are "
                "skipped) or --env-manager local (the current interpreter)"
            )
    return requested


def python_env_of(project: Project) -> PythonEnv:
    """The spec a virtualenv is built from: python_env.yaml, a conda.yaml's pip part, or nothing."""
    if project.env_file is None:
        return PythonEnv()
    if project.env_kind is EnvKind.CONDA:
        return python_env_from_conda(project.env_file)
    return read_python_env(project.env_file)


@dataclass(frozen=True)
class EnvironmentPlan:
    """An environment worked out from the project's spec (nothing built yet): where it lives and how
    to build it."""

    manager: str
    home: Path
    steps: tuple[tuple[str, ...], ...]
    cwd: Path
    variables: dict[str, str]
    details: dict[str, object]

    @property
    def name(self) -> str:
        """``<manager>-<hash of the spec>`` (``local`` for the running interpreter)."""
        return "local" if self.manager == "local" else self.home.name


def plan_environment(manager: str, project: Project, *, envs_dir: Path) -> EnvironmentPlan:
    """Read the project's environment spec and find what it needs (a Python, conda), building nothing.

    Raises:
        InvalidInput: a malformed spec, or a Python that is not installed (virtualenv).
    """
    if manager == "local":
        shim = envs_dir / f"local-{hashlib.sha256(sys.executable.encode()).hexdigest()[:16]}"
        return EnvironmentPlan("local", shim, (), project.directory, {}, {})
    if manager == "conda":
        return _plan_conda(project, envs_dir)
    spec = python_env_of(project)
    if spec.skipped:
        logger.warning("conda-only packages left out of the %s environment: %s", manager, ", ".join(spec.skipped))
    found = find_interpreter(spec.python)
    if found is None and manager == "virtualenv":
        raise InvalidInput(
            f"Python {spec.python} is not installed here: install it (e.g. pyenv install {spec.python}) "
            "or use --env-manager uv, which can download it"
        )
    if found is not None and not found.exact:
        logger.warning("Python %s was asked for; using %s (%s)", spec.python, found.version, found.path)
    python = str(found.path) if found else str(spec.python)
    key = spec_digest(spec, project.directory, manager, python, found.version if found else "")
    home = envs_dir / f"{manager}-{key[:16]}"
    steps = (_uv_steps if manager == "uv" else _venv_steps)(python, home, spec)
    details: dict[str, object] = {"python": python, "dependencies": list(spec.dependencies)}
    return EnvironmentPlan(manager, home, steps, project.directory, {"VIRTUAL_ENV": str(home)}, details)


def prepare(plan: EnvironmentPlan, *, step: Step) -> Environment:
    """Build the planned environment, or find it built (a marker file says it is complete).

    Raises:
        ProjectError: a build step failed (its output is in the run's log); nothing is left behind.
    """
    if plan.manager == "local":
        return _local(plan.home)
    start = time.monotonic()
    home = plan.home
    marker = home / _MARKER
    reused = marker.is_file()
    if not reused:
        with exclusive(home.with_name(f".{home.name}.lock")):
            reused = marker.is_file()
            if not reused:
                logger.info("creating the %s environment %s", plan.manager, plan.name)
                shutil.rmtree(home, ignore_errors=True)
                try:
                    for argv in plan.steps:
                        step(argv, plan.cwd)
                    if not (home / "bin").is_dir():
                        raise ProjectError(f"the {plan.manager} environment {plan.name} has no bin directory")
                except BaseException:
                    shutil.rmtree(home, ignore_errors=True)
                    raise
                summary = {"manager": plan.manager, **plan.details}
                marker.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    seconds = time.monotonic() - start
    verb = "reusing" if reused else "created"
    logger.info("%s the %s environment %s (%.1f s)", verb, plan.manager, plan.name, seconds)
    return Environment(plan.manager, plan.name, (home / "bin",), plan.variables, reused, seconds)


def _plan_conda(project: Project, envs_dir: Path) -> EnvironmentPlan:
    exe, conda_file = conda_executable(), project.env_file
    if exe is None or conda_file is None:
        raise InvalidInput("--env-manager conda needs conda (or mamba) and a conda.yaml")
    key = hashlib.sha256(conda_file.read_bytes() + b"\0" + Path(exe).name.encode()).hexdigest()
    home = envs_dir / f"conda-{key[:16]}"
    create = (exe, "env", "create", "--quiet", "--yes", "--prefix", str(home), "--file", str(conda_file))
    details: dict[str, object] = {"conda_file": str(conda_file)}
    return EnvironmentPlan("conda", home, (create,), conda_file.parent, {"CONDA_PREFIX": str(home)}, details)


def _venv_steps(python: str, home: Path, spec: PythonEnv) -> tuple[tuple[str, ...], ...]:
    pip = (str(home / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check")
    steps: list[tuple[str, ...]] = [(python, "-m", "venv", str(home))]
    if spec.build_dependencies:
        steps.append((*pip, "--upgrade", *install_arguments(spec.build_dependencies)))
    if spec.dependencies:
        steps.append((*pip, *install_arguments(spec.dependencies)))
    return tuple(steps)


def _uv_steps(python: str, home: Path, spec: PythonEnv) -> tuple[tuple[str, ...], ...]:
    uv = str(uv_executable())
    pip = (uv, "pip", "install", "--python", str(home / "bin" / "python"))
    steps: list[tuple[str, ...]] = [(uv, "venv", "--quiet", "--python", python, str(home))]
    if spec.build_dependencies:
        steps.append((*pip, *install_arguments(spec.build_dependencies)))
    if spec.dependencies:
        steps.append((*pip, *install_arguments(spec.dependencies)))
    return tuple(steps)


def _local(home: Path) -> Environment:
    """The running interpreter, as ``python``/``python3`` first on ``PATH`` (through a small shim)."""
    executable = Path(sys.executable)
    shim = home / "bin"
    if not (shim / "python").is_file():
        shim.mkdir(parents=True, exist_ok=True)
        for name in ("python", "python3"):
            tmp = shim / f".{name}.{uuid.uuid4().hex}"
            tmp.write_text(f'#!/bin/sh\nexec {shlex.quote(str(executable))} "$@"\n', encoding="utf-8")
            tmp.chmod(0o755)
            tmp.replace(shim / name)
    return Environment("local", "local", (shim, executable.parent), {}, True, 0.0)


__all__ = [
    "ENV_MANAGERS",
    "Environment",
    "EnvironmentPlan",
    "choose_manager",
    "conda_executable",
    "plan_environment",
    "prepare",
    "uv_executable",
]
