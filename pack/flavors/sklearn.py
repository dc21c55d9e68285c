"""The scikit-learn flavor: any estimator or pipeline, saved with skops by default.

Formats: ``skops`` (default, safe: no code runs on load), ``pickle`` and ``cloudpickle`` (only when
asked; executable content: loading them warns with ``UnsafeFormatWarning``, or is refused under the
safe-only policy of ``pack.flavors.safety``). The MLmodel sections are MLflow's
(``loader_module: mlflow.sklearn``), so MLflow loads pack's sklearn models and vice versa.

skops trust policy on load: pack reads skops files itself (``pack.flavors.skops_files``: no
``skops.io`` import, so no torch either), and there classes from scikit-learn, numpy and scipy are
trusted (they are what the flavor already depends on) because that reader only restores them
(``__new__`` + ``__setstate__``) or calls constructors it checks (decision trees, losses, numpy
scalars and random generators), and every decision tree is checked after loading
(``pack.flavors.sklearn_trust``; compiled neighbour trees and distance metrics need explicit
trust); a plain function, or any type outside those packages, must be listed by the caller in
``model_config["trusted_types"]`` (or ``PACK_TRUSTED_TYPES`` at the CLI). A file
with a node type pack's reader does not implement is loaded by skops under skops' own default trust
plus that list: skops calls constructors and key types named in the file, so the wide policy would
let a crafted file run code. The file's own ``skops_trusted_types`` list is written for MLflow but
never trusted by pack: a crafted model could list anything there.
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pack._fs import safe_join
from pack.errors import FlavorError, InvalidInput, InvalidModel, MissingDependency
from pack.flavors import packaging, skops_files
from pack.flavors.base import SavedFlavor, check_options
from pack.flavors.environment import distributions_for_modules
from pack.flavors.mlmodel import MLModel
from pack.flavors.schema import ModelSignature
from pack.flavors.sklearn_signature import estimator_signature
from pack.flavors.sklearn_trust import TREE, TREE_PREDICTOR, check_trees, untrusted_types
from pack.flavors.table import NumericTable
from pack.types import Params

FORMATS = ("skops", "pickle", "cloudpickle")
PREDICT_FNS = (
    "predict",
    "predict_proba",
    "predict_log_proba",
    "decision_function",
    "score_samples",
    "transform",
)
_FILES = {"skops": "model.skops", "pickle": "model.pkl", "cloudpickle": "model.pkl"}
NATIVE_SUFFIXES = (".skops", ".pkl", ".pickle", ".joblib")


def _sklearn() -> Any:
    try:
        import sklearn  # lazy: optional dependency
    except ImportError:
        raise MissingDependency("scikit-learn", "sklearn") from None
    return sklearn


def _skops_io() -> Any:
    try:
        import skops.io  # lazy: optional dependency
    except ImportError:
        raise MissingDependency("skops", "sklearn") from None
    return skops.io


class SklearnPredictor:
    """Calls the estimator's chosen method; DataFrames (and tables) go in as arrays unless it was fit
    on names."""

    takes_tables = True

    def __init__(self, model: Any, predict_fn: str = "predict") -> None:
        method = getattr(model, predict_fn, None)
        if method is None:
            raise InvalidModel(f"{type(model).__name__} has no method {predict_fn!r}")
        self.model = model
        self.predict_fn = predict_fn
        self._method = method
        self._wants_names = hasattr(model, "feature_names_in_")

    def predict(self, data: Any, params: Params | None = None) -> Any:
        if isinstance(data, NumericTable):
            data = data.to_frame() if self._wants_names else data.values
        elif not self._wants_names and hasattr(data, "to_numpy") and hasattr(data, "columns"):
            data = data.to_numpy()
        return self._method(data)


class SklearnFlavor:
    """Implements ``pack.flavors.base.Flavor`` for scikit-learn."""

    name = "sklearn"
    loader_modules = ("mlflow.sklearn", "pack.flavors.sklearn")
    extra = "sklearn"

    def can_save(self, obj: Any) -> bool:
        if "sklearn" not in sys.modules:
            return False
        from sklearn.base import BaseEstimator  # lazy: optional dependency

        return isinstance(obj, BaseEstimator)

    def save(self, obj: Any, path: Path, options: Mapping[str, Any]) -> SavedFlavor:
        check_options(self.name, options, ("serialization_format", "predict_fn", "skops_trusted_types"))
        sklearn = _sklearn()
        fmt = options.get("serialization_format", "skops")
        predict_fn = options.get("predict_fn", "predict")
        if fmt not in FORMATS:
            raise InvalidInput(f"serialization_format must be one of {', '.join(FORMATS)}, got {fmt!r}")
        if predict_fn not in PREDICT_FNS or not hasattr(obj, predict_fn):
            raise InvalidInput(f"predict_fn {predict_fn!r} is not a method of {type(obj).__name__}")
        file = _FILES[fmt]
        requirements = ["scikit-learn", "numpy", "scipy", *distributions_for_modules(_modules_of(obj))]
        trusted: list[str] | None = None
        if fmt == "skops":
            sio = _skops_io()
            try:
                payload = sio.dumps(obj)
            except Exception as exc:
                raise FlavorError(
                    f"skops cannot serialise this model ({type(exc).__name__}: {exc}); custom functions "
                    "or classes must be importable, or pass serialization_format='cloudpickle'"
                ) from exc
            (path / file).write_bytes(payload)
            found = sio.get_untrusted_types(data=payload)
            refused = untrusted_types(found, options.get("skops_trusted_types") or ())
            if refused:
                raise FlavorError(
                    f"the model holds types pack does not trust by default: {refused}; if they are "
                    "safe, pass skops_trusted_types=[...] to save and trusted_types to load"
                )
            trusted = sorted(found) or None
            requirements.append("skops")
        else:
            dump: Any = pickle.dump
            if fmt == "cloudpickle":
                import cloudpickle  # lazy: only for this format

                dump = cloudpickle.dump
                requirements.append("cloudpickle")
            with open(path / file, "wb") as handle:
                dump(obj, handle, protocol=pickle.DEFAULT_PROTOCOL)
        flavor_conf = {
            "pickled_model": file,
            "serialization_format": fmt,
            "sklearn_version": sklearn.__version__,
            "skops_trusted_types": trusted,
        }
        pyfunc_conf = {"loader_module": self.loader_modules[0], "model_path": file, "predict_fn": predict_fn}
        return SavedFlavor(flavor_conf, pyfunc_conf, requirements, SklearnPredictor(obj, predict_fn))

    def native_signature(self, obj: Any, path: Path) -> ModelSignature | None:
        return estimator_signature(obj)

    def unsafe_content(self, path: Path, model: MLModel) -> list[str]:
        file, fmt, _ = _model_file(model)
        safe_join(path, file)  # a hostile path is refused before any warning
        return [] if fmt == "skops" else [f"{file} is a {fmt} file"]

    def load(self, path: Path, model: MLModel, config: Mapping[str, Any]) -> Any:
        file, fmt, _ = _model_file(model)
        return self._load_file(safe_join(path, file), fmt, config.get("trusted_types") or ())

    def load_pyfunc(self, path: Path, model: MLModel, config: Mapping[str, Any]) -> SklearnPredictor:
        predict_fn = str((model.pyfunc_conf or {}).get("predict_fn", "predict"))
        if predict_fn not in PREDICT_FNS:
            raise InvalidModel(f"unsupported predict_fn {predict_fn!r}")
        return SklearnPredictor(self.load(path, model, config), predict_fn)

    def read_native(self, path: Path) -> Any:
        if path.suffix not in NATIVE_SUFFIXES:
            raise FlavorError(f"{path.name}: not a scikit-learn model file (expected {', '.join(NATIVE_SUFFIXES)})")
        fmt = "skops" if path.suffix == ".skops" else "joblib" if path.suffix == ".joblib" else "pickle"
        try:
            obj = self._read(path, fmt, ())
        except (FlavorError, InvalidModel):
            raise
        except Exception as exc:
            raise FlavorError(f"{path.name}: cannot read a {fmt} file ({type(exc).__name__}: {exc})") from None
        if not self.can_save(obj):
            raise FlavorError(f"{path.name} holds a {type(obj).__name__}, not a scikit-learn estimator")
        return obj

    def _load_file(self, file: Path, fmt: str, trusted: Sequence[str]) -> Any:
        if not file.is_file():
            raise InvalidModel(f"model file {file.name} is missing")
        try:
            return self._read(file, fmt, trusted)
        except (FlavorError, InvalidModel):
            raise
        except Exception as exc:
            raise InvalidModel(f"cannot load {file.name} ({fmt}): {type(exc).__name__}: {exc}") from None

    def _read(self, file: Path, fmt: str, trusted: Sequence[str]) -> Any:
        _sklearn()
        if fmt == "skops":
            return _read_skops(file, trusted)
        if fmt == "joblib":
            import joblib  # lazy: ships with scikit-learn

            return joblib.load(file)
        with open(file, "rb") as handle:
            if fmt == "cloudpickle":
                import cloudpickle  # lazy: only for this format

                return cloudpickle.load(handle)
            return pickle.load(handle)


def _model_file(model: MLModel) -> tuple[str, str, Mapping[str, Any]]:
    """The model file, its serialization format and the section that names them.

    Raises:
        InvalidModel: the MLmodel names no file or an unknown format.
    """
    conf = model.flavors.get("sklearn")
    if conf is not None:
        file = conf.get("pickled_model")
        fmt = conf.get("serialization_format", "pickle")
    else:  # a python_function-only MLmodel (very old MLflow models)
        conf = model.flavor_conf("python_function")
        file = conf.get("model_path")
        fmt = "pickle"
    if not isinstance(file, str):
        raise InvalidModel("the sklearn flavor names no model file")
    if fmt not in FORMATS:
        raise InvalidModel(f"unknown sklearn serialization_format {fmt!r}")
    return file, fmt, conf


def _read_skops(file: Path, trusted: Sequence[str]) -> Any:
    """Load a skops file with pack's own reader (``pack.flavors.skops_files``: no ``skops.io`` import),
    then check its decision trees (``pack.flavors.sklearn_trust``).

    A file with a node type that reader does not implement is loaded by skops under skops' own default
    trust plus ``trusted``: pack's wider policy (any type of scikit-learn, numpy or scipy) holds only
    where pack's reader decides what gets called.
    """
    payload = file.read_bytes()

    def refuse(found: Sequence[str], policy: Any = untrusted_types) -> None:
        refused = policy(found, trusted)
        if refused:
            raise InvalidModel(
                f"{file.name} holds types that are not trusted: {refused}; if you trust the model's "
                "source, pass them as trusted_types (PACK_TRUSTED_TYPES for the CLI)"
            )

    try:
        model = skops_files.read(payload, refuse, functions=trusted)
    except skops_files.Unsupported:
        sio = _skops_io()
        checked = {TREE, TREE_PREDICTOR}  # skops distrusts them; pack checks every one after loading
        refuse(sio.get_untrusted_types(data=payload), lambda found, extra: sorted(set(found) - set(extra) - checked))
        trusted = [*trusted, *checked]
        model = sio.loads(payload, trusted=list(trusted))
    check_trees(model)
    return model


def _modules_of(obj: Any) -> set[str]:
    """Modules defining the classes inside an estimator (pipelines, wrapped models, ...)."""
    modules = {type(obj).__module__}
    get_params = getattr(obj, "get_params", None)
    if get_params is not None:
        try:
            params = get_params(deep=True)
        except Exception:
            params = {}
        for value in params.values():
            if hasattr(value, "fit") or hasattr(value, "predict") or hasattr(value, "transform"):
                modules.add(type(value).__module__)
    return modules


def save_model(model: Any, path: Any, **kwargs: Any) -> MLModel:
    """``pack.save_model`` with the sklearn flavor (MLflow's ``mlflow.sklearn.save_model``)."""
    return packaging.save_model(model, path, flavor="sklearn", **kwargs)


def load_model(model_uri: Any, *, trusted_types: Sequence[str] | None = None) -> Any:
    """Load the estimator (MLflow's ``mlflow.sklearn.load_model``)."""
    return packaging.load_model(model_uri, flavor="sklearn", model_config={"trusted_types": list(trusted_types or ())})


FLAVOR = SklearnFlavor()

__all__ = [
    "FLAVOR",
    "FORMATS",
    "PREDICT_FNS",
    "SklearnFlavor",
    "SklearnPredictor",
    "load_model",
    "save_model",
]
