"""The Keras 3 flavor: models saved in the ``.keras`` format (config JSON + weights, no pickle).

Layout is MLflow's ``keras`` section (``loader_module: mlflow.keras``): ``data/model.keras`` and
``data/keras_module.txt``; section keys ``data``, ``keras_version``, ``keras_backend``,
``save_exported_model``. MLflow's exported variant (``save_exported_model: true``, a SavedModel in
``data/model/``) loads too, through its ``serve`` signature. ``.keras`` files load with Keras'
``safe_mode`` (no lambda deserialisation); custom layers must be importable and registered
(``keras.saving.register_keras_serializable``), e.g. shipped with ``code_paths``.

Predicting (``KerasPredictor``): arrays, dicts of arrays keyed by input name, DataFrames (one input,
or one column per named input); a model with several outputs returns a dict keyed by output name.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pack._fs import safe_join
from pack.errors import FlavorError, InvalidModel, MissingDependency
from pack.flavors import packaging
from pack.flavors.base import SavedFlavor, check_options
from pack.flavors.environment import distributions_for_modules
from pack.flavors.mlmodel import MLModel
from pack.types import Params

DATA_DIR = "data"
MODEL_FILE = "model.keras"
MODULE_FILE = "keras_module.txt"
SAVE_FORMAT_FILE = "save_format.txt"
KERAS_FORMAT = "keras"
EXPORTED_DIR = "model"
NATIVE_SUFFIXES = (".keras", ".h5")


def keras_module() -> Any:
    """The ``keras`` module, imported on first use."""
    try:
        import keras  # lazy: optional dependency
    except ImportError:
        raise MissingDependency("keras", "tensorflow") from None
    return keras


def is_keras_model(obj: Any) -> bool:
    """True for a Keras model, without importing Keras when it is not loaded yet."""
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(obj, keras.Model)


def keras_requirements() -> list[str]:
    """keras, its backend's distribution and numpy."""
    keras = keras_module()
    backend = {"tensorflow": "tensorflow", "torch": "torch", "jax": "jax"}.get(keras.backend.backend())
    backend_dists = distributions_for_modules([backend]) if backend else []
    if backend == "torch":
        from pack.flavors.torch_predictor import torch_requirement

        backend_dists = [torch_requirement()]
    return ["keras", *backend_dists, "numpy"]


def write_keras_file(model: Any, path: Path, save_format: bool = False) -> dict[str, Any]:
    """Write ``data/model.keras`` and ``data/keras_module.txt``; return the section's version keys."""
    keras = keras_module()
    data = path / DATA_DIR
    data.mkdir()
    (data / MODULE_FILE).write_text("keras", encoding="utf-8")
    if save_format:  # read by mlflow.tensorflow: anything but "h5" means a .keras file
        (data / SAVE_FORMAT_FILE).write_text(KERAS_FORMAT, encoding="utf-8")
    try:
        model.save(str(data / MODEL_FILE))
    except Exception as exc:
        raise FlavorError(f"Keras cannot save this model: {type(exc).__name__}: {exc}") from exc
    return {"keras_version": keras.__version__, "keras_backend": keras.backend.backend()}


def load_keras_file(data: Path) -> Any:
    """Load ``model.keras`` (or MLflow's older ``model.h5``) from a model's data directory."""
    for name in (MODEL_FILE, "model.h5"):
        if (data / name).is_file():
            return load_keras_file_at(data / name)
    raise InvalidModel(f"no {MODEL_FILE} in the model's {data.name}/ directory")


def load_keras_file_at(file: Path) -> Any:
    """Load one ``.keras``/``.h5`` file in Keras' safe mode."""
    keras = keras_module()
    try:
        return keras.saving.load_model(str(file), compile=False, safe_mode=True)
    except Exception as exc:
        message = f"cannot load {file.name}: {type(exc).__name__}: {exc}".splitlines()[0]
        raise InvalidModel(f"{message} (custom layers must be importable and registered)") from None


class KerasPredictor:
    """Predicts with a Keras model in one batch; several outputs come back by name."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self._output_names = [str(name) for name in getattr(model, "output_names", None) or []]
        self._input_names = [str(t.name).split(":")[0] for t in getattr(model, "inputs", None) or []]

    def predict(self, data: Any, params: Params | None = None) -> Any:
        if isinstance(data, Mapping):
            inputs: Any = {str(k): _array(v) for k, v in data.items()}
        elif hasattr(data, "columns") and len(self._input_names) > 1:
            inputs = {str(col): data[col].to_numpy() for col in data.columns}
        else:
            inputs = _array(data)
        output = self.model.predict_on_batch(inputs)
        if isinstance(output, Mapping):
            return {str(k): v for k, v in output.items()}
        if isinstance(output, (list, tuple)):
            names = self._output_names
            if len(names) != len(output):
                names = [f"output_{i}" for i in range(len(output))]
            return dict(zip(names, output, strict=True))
        return output


def _array(value: Any) -> Any:
    import numpy as np  # lazy: keeps the module light

    return value.to_numpy() if hasattr(value, "to_numpy") else np.asarray(value)


class KerasFlavor:
    """Implements ``pack.flavors.base.Flavor`` for Keras 3."""

    name = "keras"
    loader_modules = ("mlflow.keras", "pack.flavors.keras")
    extra = "tensorflow"

    def can_save(self, obj: Any) -> bool:
        return is_keras_model(obj)

    def save(self, obj: Any, path: Path, options: Mapping[str, Any]) -> SavedFlavor:
        check_options(self.name, options, ())
        keras_module()
        if not is_keras_model(obj):
            raise FlavorError(f"the keras flavor saves keras.Model objects, not {type(obj).__name__}")
        versions = write_keras_file(obj, path)
        flavor_conf = {"data": DATA_DIR, **versions, "save_exported_model": False}
        pyfunc_conf = {"loader_module": self.loader_modules[0]}
        return SavedFlavor(flavor_conf, pyfunc_conf, keras_requirements(), KerasPredictor(obj))

    def unsafe_content(self, path: Path, model: MLModel) -> list[str]:
        return []  # a .keras file is config JSON and weights, loaded in Keras' safe_mode

    def load(self, path: Path, model: MLModel, config: Mapping[str, Any]) -> Any:
        conf = model.flavor_conf(self.name)
        data = safe_join(path, str(conf.get("data") or DATA_DIR))
        if conf.get("save_exported_model"):
            from pack.flavors.tensorflow import load_saved_model

            return load_saved_model(data / EXPORTED_DIR)
        return load_keras_file(data)

    def load_pyfunc(self, path: Path, model: MLModel, config: Mapping[str, Any]) -> Any:
        native = self.load(path, model, config)
        if model.flavor_conf(self.name).get("save_exported_model"):
            from pack.flavors.tensorflow import SavedModelPredictor

            return SavedModelPredictor(native, config.get("signature_key", "serve"))
        return KerasPredictor(native)

    def read_native(self, path: Path) -> Any:
        if path.suffix not in NATIVE_SUFFIXES:
            raise FlavorError(f"{path.name}: not a Keras model file (expected {', '.join(NATIVE_SUFFIXES)})")
        try:
            return load_keras_file_at(path)
        except InvalidModel as exc:
            raise FlavorError(str(exc)) from None


def save_model(model: Any, path: Any, **kwargs: Any) -> MLModel:
    """``pack.save_model`` with the keras flavor (MLflow's ``mlflow.keras.save_model``)."""
    return packaging.save_model(model, path, flavor="keras", **kwargs)


def load_model(model_uri: Any) -> Any:
    """The Keras model (MLflow's ``mlflow.keras.load_model``)."""
    return packaging.load_model(model_uri, flavor="keras")


FLAVOR = KerasFlavor()

__all__ = [
    "FLAVOR",
    "KerasFlavor",
    "KerasPredictor",
    "is_keras_model",
    "keras_requirements",
    "load_keras_file",
    "load_keras_file_at",
    "load_model",
    "save_model",
    "write_keras_file",
]
