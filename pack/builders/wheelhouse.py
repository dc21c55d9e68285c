"""The wheelhouse: every wheel an image needs, downloaded on the host so the image build needs no network.

``pip download`` runs for the image's platform (Linux glibc, the model's Python) into a cache, first
offline from the cache alone and only when that cannot resolve against the index; the wheels the
resolution picked are then copied into the build context. pack itself goes in as a wheel built from the
running pack's source tree (cached by the source's content), or, when pack was installed from a wheel,
as ``pack==<version>`` from the index like any other requirement.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from pack._version import __version__
from pack.builders.base import ProgressCallback, report_to
from pack.errors import BuildError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

# Images are Debian bookworm (glibc 2.36) or newer: manylinux wheels up to that glibc fit.
TARGET_GLIBC_MINOR = 36


@dataclass(frozen=True)
class TargetPlatform:
    """The interpreter and machine the wheels are for."""

    python: str
    machine: str = platform.machine()

    def pip_args(self) -> list[str]:
        """``pip download`` options selecting wheels for this target only."""
        abi = "cp" + self.python.replace(".", "")
        tags = [f"manylinux_2_{minor}_{self.machine}" for minor in range(TARGET_GLIBC_MINOR, 16, -1)]
        tags += [f"manylinux2014_{self.machine}", "linux_" + self.machine]
        args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", self.python]
        args += ["--abi", abi, "--abi", "abi3", "--abi", "none"]
        for tag in tags:
            args += ["--platform", tag]
        return args

    def marker_environment(self) -> dict[str, str]:
        """The PEP 508 marker variables of this target (CPython on Linux), with no extra selected."""
        return {
            "python_version": self.python,
            "python_full_version": f"{self.python}.0",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "platform_machine": self.machine,
            "platform_system": "Linux",
            "sys_platform": "linux",
            "os_name": "posix",
            "extra": "",
        }


def requirement_name(line: str) -> str | None:
    """The canonical project name a requirement line is about (None for options, paths and files)."""
    requirement = parse_requirement(line)
    return None if requirement is None else canonicalize_name(requirement.name)


def host_constraints(exclude: set[str]) -> list[str]:
    """``name==version`` for pack's installed serving dependencies (recursively), minus ``exclude``.

    The image then runs the versions pack was tested with here; requirements the model pins itself
    (``exclude``) keep the model's versions.
    """
    pins: dict[str, str] = {}
    pending = ["pack"]
    while pending:
        name = pending.pop()
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for requirement in _parsed(dist.requires or []):
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue  # an extra's, or not for this platform: not installed as pack's dependency
            dep = canonicalize_name(requirement.name)
            if dep in pins or dep in exclude or dep == "pack" or (name == "pack" and dep in NOT_FOR_SERVING):
                continue
            try:
                pins[dep] = metadata.version(dep)
            except metadata.PackageNotFoundError:
                continue
            pending.append(dep)
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def pack_requirements(target: TargetPlatform, extra: str = "") -> list[str]:
    """pack's own runtime requirements on ``target`` (no extras), as its installed metadata declares them;
    with ``extra``, those that extra adds (markers dropped)."""
    environment = {**target.marker_environment(), "extra": extra}
    requires = _parsed(metadata.distribution("pack").requires or [])
    if not extra:
        return [str(r) for r in requires if r.marker is None or r.marker.evaluate(environment)]
    base = {**environment, "extra": ""}
    added = [r for r in requires if r.marker is not None and r.marker.evaluate(environment)]
    return [f"{r.name}{r.specifier}" for r in added if not r.marker or not r.marker.evaluate(base)]


# pack's requirements that ``pack serve`` never imports: the registry's database layer and migrations,
# Arrow (Parquet bodies need it; pandas reads Parquet only when it is there) and fsspec (artifact
# stores), rich (the CLI's tables). An image installs pack without them.
NOT_FOR_SERVING = frozenset({"sqlalchemy", "alembic", "pyarrow", "fsspec", "rich"})


def serving_requirements(target: TargetPlatform, extras: Sequence[str] = ()) -> list[str]:
    """pack's requirements on ``target`` that a scoring image needs (``pack_requirements`` minus
    ``NOT_FOR_SERVING``), plus those of ``extras`` (e.g. ``onnx`` for ``--accelerate``)."""
    lines = [line for line in pack_requirements(target) if requirement_name(line) not in NOT_FOR_SERVING]
    for extra in extras:
        lines += [line for line in pack_requirements(target, extra) if line not in lines]
    return lines


def parse_requirement(line: str) -> Requirement | None:
    """A requirement line (PEP 508) parsed, or None for pip options (``-r``, ``--index-url``), paths and files."""
    text = line.strip()
    if not text or text.startswith("-"):
        return None
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


def _parsed(lines: list[str]) -> list[Requirement]:
    return [requirement for line in lines if (requirement := parse_requirement(line)) is not None]


def source_root() -> Path | None:
    """The source tree the running pack comes from (an editable or in-tree run), if any."""
    root = Path(__file__).resolve().parents[2]
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text("utf-8")).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return root if project.get("name") == "pack" else None


def pack_wheel(cache: Path) -> Path | None:
    """A wheel of the running pack built from its source tree (cached by content), or None.

    None means pack was installed from a wheel: it is then fetched as ``pack==<version>``.

    Raises:
        BuildError: the wheel could not be built.
    """
    root = source_root()
    if root is None:
        return None
    key = _source_digest(root)
    home = cache / "pack-wheels" / key
    found = sorted(home.glob(f"pack-{__version__}-*.whl"))
    if found:
        return found[0]
    with tempfile.TemporaryDirectory(prefix="pack-wheel-") as tmp:
        _pip(["wheel", "--no-deps", "--quiet", "-w", tmp, str(root)], "build pack's wheel")
        wheels = sorted(Path(tmp).glob("pack-*.whl"))
        if not wheels:
            raise BuildError("pip wheel produced no pack wheel")
        home.mkdir(parents=True, exist_ok=True)
        target = home / wheels[0].name
        shutil.move(str(wheels[0]), target)
    return target


def fill_wheelhouse(
    dest: Path,
    *,
    requirements: list[str],
    constraints: list[str],
    target: TargetPlatform,
    cache: Path,
    local_wheels: list[Path],
    progress: ProgressCallback | None = None,
    no_deps: bool = False,
) -> list[str]:
    """Put into ``dest`` the wheels that install ``requirements`` on ``target``; return their names.

    ``local_wheels`` are wheel files given to pip directly (pack's own wheel). Downloads are cached
    in ``cache/wheels``; a warm cache resolves without touching the network. ``no_deps`` takes the
    requirements alone, without their dependencies. A resolution is remembered (``cache/resolutions``,
    keyed by the requirements, constraints and target): the same inputs then get the same wheels,
    copied from the cache without running pip (a new model version's context in a fraction of a second).

    Raises:
        BuildError: a requirement has no wheel for the target (or the index is unreachable).
    """
    report = report_to(progress)
    store = cache / "wheels"
    store.mkdir(parents=True, exist_ok=True)
    dest.mkdir(parents=True, exist_ok=True)
    key = _resolution_key(requirements, constraints, target, no_deps) if not local_wheels else None
    remembered = _remembered(cache, key)
    if remembered is not None:
        for name in remembered:
            shutil.copyfile(store / name, dest / name)
        report(f"wheelhouse: {len(remembered)} wheels (resolved before)")
        return remembered
    with tempfile.TemporaryDirectory(prefix="pack-reqs-") as tmp:
        req_file = Path(tmp, "requirements.txt")
        req_file.write_text("".join(f"{line}\n" for line in requirements), encoding="utf-8")
        con_file = Path(tmp, "constraints.txt")
        con_file.write_text("".join(f"{line}\n" for line in constraints), encoding="utf-8")
        common = [*target.pip_args(), "-r", str(req_file), "-c", str(con_file)]
        common += [str(wheel) for wheel in local_wheels]
        common += ["--no-deps"] if no_deps else []
        offline = ["download", "--no-index", "--find-links", str(store), "-d", str(dest), *common]
        report(f"resolving {len(requirements)} requirements for Python {target.python} ({target.machine})")
        if _run_pip(offline).returncode != 0:
            report("wheel cache incomplete: downloading from the package index")
            _pip(["download", "--quiet", "-d", str(store), *common], "download the image's wheels")
            shutil.rmtree(dest)
            dest.mkdir()
            _pip(offline, "collect the image's wheels")
    names = sorted(p.name for p in dest.iterdir() if p.suffix == ".whl")
    if key is not None:
        _remember(cache, key, names)
    report(f"wheelhouse: {len(names)} wheels")
    return names


def _resolution_key(requirements: list[str], constraints: list[str], target: TargetPlatform, no_deps: bool) -> str:
    text = "\n".join([*target.pip_args(), f"no-deps={no_deps}", "", *requirements, "", *constraints])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _remembered(cache: Path, key: str | None) -> list[str] | None:
    """The wheel names an earlier resolution of ``key`` picked, if every one is still in the cache."""
    if key is None:
        return None
    try:
        names = (cache / "resolutions" / f"{key}.txt").read_text(encoding="utf-8").split()
    except OSError:
        return None
    store = cache / "wheels"
    return names if names and all((store / name).is_file() for name in names) else None


def _remember(cache: Path, key: str, names: list[str]) -> None:
    home = cache / "resolutions"
    home.mkdir(parents=True, exist_ok=True)
    partial = home / f"{key}.{os.getpid()}.tmp"
    partial.write_text("".join(f"{name}\n" for name in names), encoding="utf-8")
    os.replace(partial, home / f"{key}.txt")


def _source_digest(root: Path) -> str:
    digest = hashlib.sha256()
    paths = [root / "pyproject.toml", root / "README.md"]
    for top in ("pack", "charts"):
        for dirpath, dirnames, filenames in os.walk(root / top):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            paths.extend(Path(dirpath, name) for name in sorted(filenames) if not name.endswith(".pyc"))
    for path in paths:
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _run_pip(args: list[str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    try:
        return subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise BuildError(f"cannot run pip: {exc}") from None


def _pip(args: list[str], what: str) -> None:
    done = _run_pip(args)
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("ERROR")] or lines[-1:]
        raise BuildError(f"pip could not {what}: {' '.join(errors)[:500] or 'no output'}")


__all__ = [
    "TARGET_GLIBC_MINOR",
    "TargetPlatform",
    "fill_wheelhouse",
    "host_constraints",
    "NOT_FOR_SERVING",
    "pack_requirements",
    "serving_requirements",
    "pack_wheel",
    "parse_requirement",
    "requirement_name",
    "source_root",
]
