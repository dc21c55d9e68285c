"""The MLproject file, read as MLflow reads it: name, one environment, entry points with typed parameters.

::

    name: my_ml_project
    conda_env: conda.yaml            # or python_env: python_env.yaml, or docker_env: {image: ...}
    entry_points:
      main:
        parameters:
          data_path: {type: str, default: "data.csv"}
          epochs: {type: int, default: 10}
          alpha: float               # a bare type: required
        command: "python train.py --data_path {data_path} --epochs {epochs}"

A directory without an MLproject file is a project too: its entry points are its ``.py`` and ``.sh``
files (``-e train.py`` runs ``python train.py``), and its environment is ``python_env.yaml`` or
``conda.yaml`` when one is there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from pack.errors import InvalidInput, NotFound

MLPROJECT = "MLproject"
PYTHON_ENV_FILE = "python_env.yaml"
CONDA_ENV_FILE = "conda.yaml"
PARAM_TYPES = ("float", "int", "str", "string", "path", "uri")
"""Parameter types checked before a run; any other type name is taken as ``string`` (as MLflow does)."""
_SCRIPTS = {".py": "python", ".sh": "bash"}


class EnvKind(str, Enum):
    """What a project declares its environment with."""

    NONE = "none"
    PYTHON = "python_env"
    CONDA = "conda_env"
    DOCKER = "docker_env"


@dataclass(frozen=True)
class Parameter:
    """One declared parameter of an entry point; ``default`` None means required."""

    name: str
    type: str = "string"
    default: str | None = None

    @property
    def required(self) -> bool:
        """No default: the caller must pass it."""
        return self.default is None


@dataclass(frozen=True)
class EntryPoint:
    """A named command template and its parameters, in declaration order."""

    name: str
    command: str
    parameters: tuple[Parameter, ...] = ()

    def parameter(self, name: str) -> Parameter | None:
        """The declared parameter called ``name``, or None."""
        return next((p for p in self.parameters if p.name == name), None)


@dataclass(frozen=True)
class DockerEnv:
    """``docker_env``: the image, extra ``-v`` volumes, and environment (copied names or NAME/value pairs)."""

    image: str
    volumes: tuple[str, ...] = ()
    environment: tuple[str | tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Project:
    """A project directory and what its MLproject file (if any) declares."""

    directory: Path
    name: str | None = None
    env_kind: EnvKind = EnvKind.NONE
    env_file: Path | None = None
    docker: DockerEnv | None = None
    entry_points: Mapping[str, EntryPoint] = field(default_factory=dict)
    has_mlproject: bool = False

    def entry_point(self, name: str) -> EntryPoint:
        """The entry point ``name``, or a ``.py``/``.sh`` file of the project run as a script.

        Raises:
            InvalidInput: neither an entry point nor a script inside the project.
        """
        if name in self.entry_points:
            return self.entry_points[name]
        suffix = Path(name).suffix
        if suffix in _SCRIPTS:
            script = (self.directory / name).resolve()
            if not script.is_relative_to(self.directory.resolve()):
                raise InvalidInput(f"entry point {name!r} is outside the project")
            if not script.is_file():
                raise InvalidInput(f"entry point {name!r}: no such file in {self.directory}")
            return EntryPoint(name, f"{_SCRIPTS[suffix]} {_quote_template(name)}")
        known = ", ".join(sorted(self.entry_points)) or "none"
        raise InvalidInput(
            f"no entry point {name!r} (entry points: {known}); a .py or .sh file of the project runs as -e FILE"
        )


def load_project(directory: Path) -> Project:
    """Read the project in ``directory`` (its MLproject file, found case-insensitively, if any).

    Raises:
        NotFound: no such directory. InvalidInput: a malformed MLproject or a missing environment file.
    """
    if not directory.is_dir():
        raise NotFound(f"no project directory at {directory}")
    mlproject = next((p for p in sorted(directory.iterdir()) if p.name.lower() == MLPROJECT.lower()), None)
    if mlproject is None:
        kind, env_file = _default_env(directory)
        return Project(directory, env_kind=kind, env_file=env_file)
    document = read_mapping(mlproject)
    name = document.get("name")
    if name is not None and not isinstance(name, str):
        raise InvalidInput("MLproject: 'name' must be a string")
    declared = [kind for kind in (EnvKind.PYTHON, EnvKind.CONDA, EnvKind.DOCKER) if document.get(kind.value)]
    if len(declared) > 1:
        raise InvalidInput(
            f"MLproject declares several environments ({', '.join(k.value for k in declared)}): keep one"
        )
    entry_points = _entry_points(document.get("entry_points"))
    if not declared:
        kind, env_file = _default_env(directory)
        return Project(directory, name, kind, env_file, None, entry_points, True)
    kind = declared[0]
    if kind is EnvKind.DOCKER:
        return Project(directory, name, kind, None, _docker_env(document[kind.value]), entry_points, True)
    value = document[kind.value]
    if not isinstance(value, str):
        raise InvalidInput(f"MLproject: '{kind.value}' must name a file of the project")
    env_file = (directory / value).resolve()
    if not env_file.is_relative_to(directory.resolve()):
        raise InvalidInput(f"MLproject: '{kind.value}' {value!r} is outside the project")
    if not env_file.is_file():
        raise InvalidInput(f"MLproject: {kind.value} file {value!r} not found in {directory}")
    return Project(directory, name, kind, env_file, None, entry_points, True)


def read_mapping(path: Path) -> dict[str, Any]:
    """A YAML file that must hold a mapping (an empty file is an empty one).

    Raises:
        InvalidInput: not valid YAML, nested too deeply, or not a mapping.
    """
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path.name} is not valid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise InvalidInput(f"{path.name} is nested too deeply") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise InvalidInput(f"{path.name} must be a mapping of keys")
    return document


def _default_env(directory: Path) -> tuple[EnvKind, Path | None]:
    for kind, name in ((EnvKind.PYTHON, PYTHON_ENV_FILE), (EnvKind.CONDA, CONDA_ENV_FILE)):
        if (directory / name).is_file():
            return kind, (directory / name).resolve()
    return EnvKind.NONE, None


def _entry_points(section: Any) -> dict[str, EntryPoint]:
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise InvalidInput("MLproject: 'entry_points' must map names to {parameters, command}")
    found: dict[str, EntryPoint] = {}
    for name, body in section.items():
        if not isinstance(body, dict) or not isinstance(body.get("command"), str) or not body["command"].strip():
            raise InvalidInput(f"MLproject: entry point {name!r} needs a 'command' string")
        params = body.get("parameters") or {}
        if not isinstance(params, dict):
            raise InvalidInput(f"MLproject: parameters of entry point {name!r} must be a mapping")
        found[str(name)] = EntryPoint(
            str(name), body["command"], tuple(_parameter(str(k), v, str(name)) for k, v in params.items())
        )
    return found


def _parameter(name: str, value: Any, entry: str) -> Parameter:
    if isinstance(value, dict):
        kind = value.get("type", "string")
        default = value.get("default")
        if not isinstance(kind, str):
            raise InvalidInput(f"MLproject: parameter {name!r} of {entry!r}: 'type' must be a string")
        return Parameter(name, kind, None if default is None else _scalar(default, name, entry))
    if isinstance(value, str):  # MLflow: a bare string is the type (``alpha: float``), and required
        return Parameter(name, value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):  # a bare default (``epochs: 10``)
        return Parameter(name, "int" if isinstance(value, int) else "float", str(value))
    raise InvalidInput(f"MLproject: parameter {name!r} of {entry!r} must be a type name or {{type, default}}")


def _scalar(value: Any, name: str, entry: str) -> str:
    if isinstance(value, (dict, list)):
        raise InvalidInput(f"MLproject: the default of parameter {name!r} of {entry!r} must be a single value")
    return str(value)


def _docker_env(section: Any) -> DockerEnv:
    if not isinstance(section, dict) or not isinstance(section.get("image"), str) or not section["image"]:
        raise InvalidInput("MLproject: docker_env needs an 'image'")
    volumes = section.get("volumes") or []
    if not isinstance(volumes, list) or not all(isinstance(v, str) for v in volumes):
        raise InvalidInput("MLproject: docker_env volumes must be a list of strings such as '/data:/data'")
    environment: list[str | tuple[str, str]] = []
    for item in section.get("environment") or []:
        if isinstance(item, str):
            environment.append(item)
        elif isinstance(item, list) and len(item) == 2 and all(isinstance(v, str) for v in item):
            environment.append((item[0], item[1]))
        else:
            raise InvalidInput(
                "MLproject: docker_env environment entries are names to copy from the host or [NAME, value] pairs"
            )
    return DockerEnv(section["image"], tuple(volumes), tuple(environment))


def _quote_template(text: str) -> str:
    """``text`` as one shell word of a command template (braces doubled for ``str.format``)."""
    import shlex

    return shlex.quote(text).replace("{", "{{").replace("}", "}}")


__all__ = [
    "CONDA_ENV_FILE",
    "MLPROJECT",
    "PARAM_TYPES",
    "PYTHON_ENV_FILE",
    "DockerEnv",
    "EntryPoint",
    "EnvKind",
    "Parameter",
    "Project",
    "load_project",
    "read_mapping",
]
