"""Entry-point parameters: checked against their declared types before anything runs.

``int`` and ``float`` must parse as decimal numbers; ``uri`` needs a scheme; ``path`` must exist and is
passed to the command as an absolute path (a value given by the caller is relative to the caller's
directory, a default relative to the project), and a remote ``path`` (``s3://...``, any fsspec URL) is
downloaded first. Undeclared keys are passed on as ``--key value``, as MLflow does. The run records
each value as it was given, so ``pack run`` and ``mlflow run`` log the same params.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pack.errors import InvalidInput
from pack.projects.spec import EntryPoint, Parameter

_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class ResolvedParameters:
    """Parameters ready for a command: ``values`` substituted into the template, ``extras`` appended."""

    values: dict[str, str]
    extras: dict[str, str]
    logged: dict[str, str]
    """What the run records: every declared parameter, then the extras, as given (or defaulted)."""
    paths: dict[str, Path] = field(default_factory=dict)
    """The local files or directories that ``path`` parameters name."""


def parse_assignments(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["alpha=0.5", "name=a=b"]`` -> ``{"alpha": "0.5", "name": "a=b"}`` (``-P key=value`` options).

    Raises:
        InvalidInput: an item without ``=`` or with an empty key.
    """
    found: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"parameter {pair!r} must be KEY=VALUE")
        found[key] = value
    return found


def resolve_parameters(
    entry: EntryPoint,
    given: Mapping[str, Any],
    *,
    project_dir: Path,
    cwd: Path,
    download_dir: Callable[[], Path],
) -> ResolvedParameters:
    """Check ``given`` against ``entry``'s declarations and fill in the defaults.

    ``download_dir`` is called (once) when a remote ``path`` must be fetched.

    Raises:
        InvalidInput: a missing required parameter, a value of the wrong type, a bad extra key, a
            ``path`` that does not exist.
    """
    supplied = {str(k): _text(str(k), v) for k, v in given.items()}
    missing = [p.name for p in entry.parameters if p.required and p.name not in supplied]
    if missing:
        names = ", ".join(repr(n) for n in missing)
        flags = " ".join(f"-P {n}=VALUE" for n in missing)
        raise InvalidInput(f"entry point {entry.name!r} needs a value for {names} ({flags})")
    values: dict[str, str] = {}
    logged: dict[str, str] = {}
    paths: dict[str, Path] = {}
    for param in entry.parameters:
        from_caller = param.name in supplied
        raw = supplied[param.name] if from_caller else str(param.default)
        where = "" if from_caller else " (the default in MLproject)"
        values[param.name] = _checked(param, raw, where)
        logged[param.name] = raw
        if param.type == "path":
            local = _local_path(param, raw, cwd if from_caller else project_dir, download_dir)
            values[param.name] = str(local)
            paths[param.name] = local
    extras = {k: v for k, v in supplied.items() if entry.parameter(k) is None}
    for key in extras:
        if not _KEY.fullmatch(key):
            raise InvalidInput(f"parameter name {key!r} must be letters, digits, '_', '-' or '.'")
    return ResolvedParameters(values, extras, {**logged, **extras}, paths)


def _text(key: str, value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    if "\x00" in text or "\x00" in key:
        raise InvalidInput(f"parameter {key!r} contains a NUL character")
    return text


def _checked(param: Parameter, raw: str, where: str) -> str:
    kind = param.type
    if kind == "int" and not _INT.fullmatch(raw.strip()):
        raise InvalidInput(f"parameter {param.name!r} must be an int, got {raw!r}{where}")
    if kind == "float" and not _FLOAT.fullmatch(raw.strip()):
        raise InvalidInput(f"parameter {param.name!r} must be a float, got {raw!r}{where}")
    if kind == "uri" and not urlparse(raw).scheme:
        raise InvalidInput(f"parameter {param.name!r} must be a URI with a scheme (s3://, https://, ...), got {raw!r}")
    return raw


def _local_path(param: Parameter, raw: str, base: Path, download_dir: Callable[[], Path]) -> Path:
    scheme = urlparse(raw).scheme
    if scheme and scheme != "file" and len(scheme) > 1:  # one letter: a Windows drive
        return _download(param, raw, download_dir)
    path = Path(urlparse(raw).path if scheme == "file" else raw).expanduser()
    path = (path if path.is_absolute() else base / path).absolute()
    if not path.exists():
        raise InvalidInput(f"parameter {param.name!r}: no such file or directory {raw!r} ({path})")
    return path


def _download(param: Parameter, url: str, download_dir: Callable[[], Path]) -> Path:
    import fsspec

    try:
        fs, remote = fsspec.core.url_to_fs(url)
        if not fs.exists(remote):
            raise InvalidInput(f"parameter {param.name!r}: nothing at {url}")
        dest = download_dir() / param.name / (remote.rstrip("/").rsplit("/", 1)[-1] or "data")
        dest.parent.mkdir(parents=True, exist_ok=True)
        fs.get(remote, str(dest), recursive=fs.isdir(remote))
    except (ImportError, ValueError) as exc:
        raise InvalidInput(f"parameter {param.name!r}: cannot read {url}: {exc}") from None
    except OSError as exc:
        raise InvalidInput(f"parameter {param.name!r}: cannot download {url}: {exc}") from None
    return dest


__all__ = ["ResolvedParameters", "parse_assignments", "resolve_parameters"]
