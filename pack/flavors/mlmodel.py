"""The ``MLmodel`` file: MLflow's YAML model descriptor, read and written losslessly.

Keys are sorted on write (as MLflow's ``yaml.safe_dump``). Keys pack does not know are kept in
``MLModel.extra`` and written back unchanged, so a model survives a round trip through pack.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from pack._version import __version__
from pack.errors import InvalidModel, NotFound
from pack.flavors.schema import ModelSignature, check_nesting

MLMODEL_FILE = "MLmodel"
PYFUNC = "python_function"

# The C loader/dumper (libyaml) is several times faster; both are the safe variants.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

MAX_NESTING = 64  # YAML levels; libyaml itself stops at 1000, which is still enough to exhaust Python's stack

_KNOWN = (
    "flavors",
    "model_uuid",
    "run_id",
    "artifact_path",
    "utc_time_created",
    "signature",
    "saved_input_example_info",
    "model_size_bytes",
    "metadata",
    "pack_version",
)


def utc_now_string() -> str:
    """A timestamp in MLflow's ``utc_time_created`` form (naive UTC)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass(frozen=True)
class MLModel:
    """The contents of an ``MLmodel`` file."""

    flavors: Mapping[str, Mapping[str, Any]]
    model_uuid: str = field(default_factory=lambda: uuid.uuid4().hex)
    utc_time_created: str = field(default_factory=utc_now_string)
    run_id: str | None = None
    artifact_path: str | None = None
    signature: ModelSignature | None = None
    saved_input_example_info: Mapping[str, Any] | None = None
    model_size_bytes: int | None = None
    metadata: Mapping[str, Any] | None = None
    pack_version: str | None = __version__
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def pyfunc_conf(self) -> Mapping[str, Any] | None:
        """The ``python_function`` flavor section, if any."""
        return self.flavors.get(PYFUNC)

    def flavor_conf(self, name: str) -> Mapping[str, Any]:
        """One flavor's section.

        Raises:
            InvalidModel: the model has no such flavor.
        """
        conf = self.flavors.get(name)
        if conf is None:
            raise InvalidModel(f"model has no {name!r} flavor (it has: {', '.join(self.flavors)})")
        return conf

    def evolve(self, **changes: Any) -> MLModel:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        out["flavors"] = {name: dict(conf) for name, conf in self.flavors.items()}
        out["model_uuid"] = self.model_uuid
        out["utc_time_created"] = self.utc_time_created
        for key in ("run_id", "artifact_path", "model_size_bytes", "pack_version"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.signature is not None:
            out["signature"] = self.signature.to_dict()
        if self.saved_input_example_info is not None:
            out["saved_input_example_info"] = dict(self.saved_input_example_info)
        if self.metadata is not None:
            out["metadata"] = dict(self.metadata)
        return out

    @classmethod
    def from_dict(cls, raw: Any) -> MLModel:
        """Build from parsed YAML, validating the keys pack relies on.

        Raises:
            InvalidModel: the document is not a usable MLmodel.
        """
        if not isinstance(raw, Mapping):
            raise InvalidModel("MLmodel must be a YAML mapping")
        check_nesting(raw, MAX_NESTING, "MLmodel")
        flavors = raw.get("flavors")
        if not isinstance(flavors, Mapping) or not flavors:
            raise InvalidModel("MLmodel has no 'flavors' section")
        for name, conf in flavors.items():
            if not isinstance(name, str) or not isinstance(conf, Mapping):
                raise InvalidModel(f"MLmodel flavor {name!r} must be a mapping")
        signature = raw.get("signature")
        example_info = raw.get("saved_input_example_info")
        if example_info is not None and not isinstance(example_info, Mapping):
            raise InvalidModel("saved_input_example_info must be a mapping")
        metadata = raw.get("metadata")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise InvalidModel("metadata must be a mapping")
        size = raw.get("model_size_bytes")
        return cls(
            flavors={name: dict(conf) for name, conf in flavors.items()},
            model_uuid=str(raw.get("model_uuid") or ""),
            utc_time_created=str(raw.get("utc_time_created") or ""),
            run_id=_optional_str(raw.get("run_id")),
            artifact_path=_optional_str(raw.get("artifact_path")),
            signature=ModelSignature.from_dict(signature) if signature is not None else None,
            saved_input_example_info=dict(example_info) if example_info is not None else None,
            model_size_bytes=int(size) if isinstance(size, int) else None,
            metadata=dict(metadata) if metadata is not None else None,
            pack_version=_optional_str(raw.get("pack_version")),
            extra={k: v for k, v in raw.items() if k not in _KNOWN},
        )

    def to_yaml(self) -> str:
        text: str = yaml.dump(self.to_dict(), Dumper=_Dumper, default_flow_style=False, sort_keys=True)
        return text

    @classmethod
    def from_yaml(cls, text: str) -> MLModel:
        try:
            raw = yaml.load(text, Loader=_Loader)
        except yaml.YAMLError as exc:
            raise InvalidModel(f"MLmodel is not valid YAML: {' '.join(str(exc).split())}") from None
        except RecursionError:
            raise InvalidModel(f"MLmodel is nested more than {MAX_NESTING} levels deep") from None
        return cls.from_dict(raw)

    def save(self, model_dir: Path) -> None:
        """Write ``model_dir/MLmodel``."""
        (Path(model_dir) / MLMODEL_FILE).write_text(self.to_yaml(), encoding="utf-8")

    @classmethod
    def load(cls, model_dir: Path) -> MLModel:
        """Read ``model_dir/MLmodel``.

        Raises:
            NotFound: there is no MLmodel file there.
            InvalidModel: the file is malformed.
        """
        path = Path(model_dir) / MLMODEL_FILE
        if not path.is_file():
            raise NotFound(f"no MLmodel file in {model_dir}: {_packaging_hint(Path(model_dir))}")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidModel(f"cannot read {path}: {exc}") from None
        return cls.from_yaml(text)


# Native model files by suffix, for the hint on a path that is not a model directory.
_NATIVE_FLAVORS = {
    ".pkl": "sklearn",
    ".pickle": "sklearn",
    ".joblib": "sklearn",
    ".skops": "sklearn",
    ".pt": "pytorch",
    ".pt2": "pytorch",
    ".pth": "pytorch",
    ".keras": "keras",
    ".h5": "keras",
    ".onnx": "onnx",
}


def _packaging_hint(path: Path) -> str:
    """How to turn what is at ``path`` (a native model file, or a folder holding one) into a model directory."""
    candidates = [path] if path.is_file() else sorted(p for p in path.glob("*") if p.is_file())
    if path.is_dir() and (path / "saved_model.pb").is_file():
        return f"it is a TensorFlow SavedModel; package it first: pack log-model tensorflow {path} --output DIR"
    for candidate in candidates:
        flavor = _NATIVE_FLAVORS.get(candidate.suffix.lower())
        if flavor is not None:
            return f"package {candidate} first: pack log-model {flavor} {candidate} --output DIR"
    return "a model directory holds one; package a native model file with: pack log-model FLAVOR FILE --output DIR"


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


__all__ = ["MLMODEL_FILE", "PYFUNC", "MLModel", "utc_now_string"]
