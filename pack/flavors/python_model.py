"""Custom Python models: subclass ``PythonModel``, save it, serve it like any other model.

The instance is serialised with cloudpickle (``python_model.pkl``, MLflow's layout with
``loader_module: mlflow.pyfunc.model``), so loading it runs code: pack warns with
``UnsafeFormatWarning`` each time, or refuses it under the safe-only policy (``pack.flavors.safety``).
Files named in ``artifacts`` are copied into ``artifacts/`` and handed back through
``context.artifacts``; ``code_paths`` become importable (``pack.flavors.code``).
"""

from __future__ import annotations

import inspect
import pickle
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pack._fs import copy_into, safe_join, safe_relpath
from pack.errors import FlavorError, InvalidInput, InvalidModel
from pack.flavors.base import SavedFlavor, check_options
from pack.flavors.environment import distributions_for_modules
from pack.flavors.mlmodel import MLModel
from pack.types import Params
from pack.uris import scheme_of

MODEL_FILE = "python_model.pkl"
_NO_TYPE_HINTS = SimpleNamespace(input=None, output=None)
ARTIFACTS_DIR = "artifacts"


@dataclass(frozen=True)
class PythonModelContext:
    """What ``load_context`` and ``predict`` receive: artifact paths and the load-time config."""

    artifacts: Mapping[str, str] = field(default_factory=dict)
    model_config: Mapping[str, Any] = field(default_factory=dict)


class PythonModel:
    """Base class for custom models.

    Override ``predict(context, model_input, params=None)``; override ``load_context(context)`` to
    load artifacts once, when the model is loaded.
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Called once after loading, before any predict."""

    def predict(self, context: PythonModelContext, model_input: Any, params: Params | None = None) -> Any:
        """Return predictions for ``model_input``."""
        raise NotImplementedError

    @property
    def predict_type_hints(self) -> Any:
        """Read by MLflow's custom-model loader; pack models declare no input/output type hints."""
        return _NO_TYPE_HINTS


class PythonModelPredictor:
    """Adapts a loaded ``PythonModel`` to ``predict(data, params)``."""

    def __init__(self, python_model: Any, context: PythonModelContext) -> None:
        self.python_model = python_model
        self.context = context
        parameters = inspect.signature(python_model.predict).parameters
        self._takes_context = "context" in parameters or len(parameters) >= 3
        self._takes_params = "params" in parameters

    def predict(self, data: Any, params: Params | None = None) -> Any:
        kwargs = {"params": params} if self._takes_params else {}
        if self._takes_context:
            return self.python_model.predict(self.context, data, **kwargs)
        return self.python_model.predict(data, **kwargs)


class PythonModelFlavor:
    """Implements ``pack.flavors.base.Flavor`` for ``PythonModel`` subclasses."""

    name = "python_function"
    loader_modules = ("mlflow.pyfunc.model", "pack.flavors.python_model")
    extra = "sklearn"

    def can_save(self, obj: Any) -> bool:
        return isinstance(obj, PythonModel) or _is_mlflow_python_model(obj)

    def save(self, obj: Any, path: Path, options: Mapping[str, Any]) -> SavedFlavor:
        check_options(self.name, options, ("artifacts",))
        import cloudpickle  # lazy: only custom models need it

        if not callable(getattr(obj, "predict", None)):
            raise InvalidInput(f"{type(obj).__name__} has no predict method")
        artifacts_conf: dict[str, dict[str, str]] = {}
        for name, source in dict(options.get("artifacts") or {}).items():
            source_path = Path(source)
            if not source_path.exists():
                raise InvalidInput(f"artifact {name!r}: {source} does not exist")
            relative = f"{ARTIFACTS_DIR}/{safe_relpath(str(name), allow_empty=False, error=InvalidModel)}"
            copy_into(source_path, path / relative)
            # MLflow's "uri" says where the artifact came from: a URI as given, never a path of this machine
            origin = str(source) if scheme_of(str(source)) not in ("", "file") else source_path.name
            artifacts_conf[str(name)] = {"path": relative, "uri": origin}
        try:
            with open(path / MODEL_FILE, "wb") as handle:
                cloudpickle.dump(obj, handle)
        except Exception as exc:
            raise FlavorError(f"cannot serialise the model with cloudpickle: {type(exc).__name__}: {exc}") from exc
        conf: dict[str, Any] = {
            "loader_module": self.loader_modules[0],
            "python_model": MODEL_FILE,
            "cloudpickle_version": cloudpickle.__version__,
            "streamable": False,
        }
        if artifacts_conf:
            conf["artifacts"] = artifacts_conf
        requirements = [
            "cloudpickle",
            "numpy",
            "pandas",
            *distributions_for_modules(_imported_modules(type(obj))),
        ]
        return SavedFlavor(flavor_conf={}, pyfunc_conf=conf, requirements=requirements, predictor=None)

    def unsafe_content(self, path: Path, model: MLModel) -> list[str]:
        file = _checked_files(path, model.flavor_conf(self.name))[0]  # a hostile MLmodel fails before a warning
        return [f"{file.name} is a cloudpickle file (a custom Python model)"]

    def load(self, path: Path, model: MLModel, config: Mapping[str, Any]) -> Any:
        return self.load_pyfunc(path, model, config).python_model

    def load_pyfunc(self, path: Path, model: MLModel, config: Mapping[str, Any]) -> PythonModelPredictor:
        model_file, artifacts = _checked_files(path, model.flavor_conf(self.name))
        try:
            with open(model_file, "rb") as handle:
                python_model = _MlflowAwareUnpickler(handle).load()
        except Exception as exc:
            raise InvalidModel(f"cannot unpickle {model_file.name}: {type(exc).__name__}: {exc}") from None
        context = PythonModelContext(artifacts=artifacts, model_config=dict(config))
        if hasattr(python_model, "load_context"):
            python_model.load_context(context)
        return PythonModelPredictor(python_model, context)

    def read_native(self, path: Path) -> Any:
        if path.suffix not in (".pkl", ".pickle"):
            raise FlavorError(f"{path.name}: a custom model must be a cloudpickle file (.pkl)")
        import cloudpickle  # lazy: only custom models need it

        try:
            with open(path, "rb") as handle:
                obj = cloudpickle.load(handle)
        except Exception as exc:
            raise FlavorError(f"{path.name}: cannot read a cloudpickle file ({type(exc).__name__}: {exc})") from None
        if not self.can_save(obj):
            raise FlavorError(f"{path.name} holds a {type(obj).__name__}, not a PythonModel")
        return obj


def _checked_files(path: Path, conf: Mapping[str, Any]) -> tuple[Path, dict[str, str]]:
    """The model file and the artifact paths a custom model's section names, all inside ``path``.

    Raises:
        InvalidModel: a path leaves the model directory, a file is missing, or the layout is unsupported.
    """
    if "model_code_path" in conf:
        raise InvalidModel("MLflow models-from-code are not supported; save the model as a PythonModel")
    file = conf.get("python_model")
    if not isinstance(file, str):
        raise InvalidModel("the python_function flavor names no python_model file")
    model_file = safe_join(path, file)
    if not model_file.is_file():
        raise InvalidModel(f"model file {file} is missing")
    artifacts = {}
    for name, entry in dict(conf.get("artifacts") or {}).items():
        relative = entry.get("path") if isinstance(entry, Mapping) else None
        if not isinstance(relative, str):
            raise InvalidModel(f"artifact {name!r} has no path")
        artifacts[str(name)] = str(safe_join(path, relative))
    if file.endswith((".gz", ".bz2", ".lzma", ".xz")) or conf.get("python_model_compression"):
        raise InvalidModel("compressed python_model files are not supported")
    return model_file, artifacts


class _MlflowAwareUnpickler(pickle.Unpickler):
    """Unpickles custom models; MLflow's PythonModel base classes map to pack's when MLflow is absent."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return super().find_class(module, name)
        except ModuleNotFoundError:
            alias = _MLFLOW_ALIASES.get((module, name))
            if alias is None:
                raise
            return alias


def _is_mlflow_python_model(obj: Any) -> bool:
    return any(
        cls.__module__.startswith("mlflow.pyfunc") and cls.__name__ == "PythonModel" for cls in type(obj).__mro__
    )


def _imported_modules(cls: type) -> set[str]:
    """Top-level modules imported by the module defining ``cls`` (for requirement capture)."""
    module = sys.modules.get(cls.__module__)
    names = {cls.__module__}
    if module is None:
        return names
    for value in vars(module).values():
        owner = getattr(value, "__module__", None) if not inspect.ismodule(value) else value.__name__
        if isinstance(owner, str):
            names.add(owner)
    return names


class _InertState:
    """Stands in for MLflow bookkeeping objects pickled inside custom models (e.g. type hints)."""

    def __setstate__(self, state: Any) -> None:
        self.__dict__["state"] = state


_MLFLOW_ALIASES: dict[tuple[str, str], type] = {
    **{
        (module, name): cls
        for module in ("mlflow.pyfunc", "mlflow.pyfunc.model")
        for name, cls in (("PythonModel", PythonModel), ("PythonModelContext", PythonModelContext))
    },
    ("mlflow.models.signature", "_TypeHints"): _InertState,
}

FLAVOR = PythonModelFlavor()

__all__ = ["FLAVOR", "PythonModel", "PythonModelContext", "PythonModelFlavor", "PythonModelPredictor"]
