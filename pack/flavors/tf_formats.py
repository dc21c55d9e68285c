"""The Keras and TensorFlow file formats, shared by the ``keras`` and ``tensorflow`` flavors.

* Keras: ``data/model.keras`` (config JSON + weights, no pickle; MLflow's older ``model.h5`` loads too)
  with ``data/keras_module.txt`` (and ``data/save_format.txt`` in MLflow's tensorflow layout), loaded
  in Keras' ``safe_mode``; ``KerasPredictor`` predicts with it.
* SavedModel: a graph plus variables (no pickle), loaded with ``tf.saved_model.load``;
  ``SavedModelPredictor`` predicts through a serving signature.

Both flavors import this module and neither imports the other.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pack.errors import FlavorError, InvalidInput, InvalidModel, MissingDependency, SchemaError
from pack.flavors.environment import distributions_for_modules
from pack.types import Params

DATA_DIR = "data"
MODEL_FILE = "model.keras"
MODULE_FILE = "keras_module.txt"
SAVE_FORMAT_FILE = "save_format.txt"
KERAS_FORMAT = "keras"
EXPORTED_DIR = "model"
NATIVE_SUFFIXES = (".keras", ".h5")
SAVED_MODEL_DIR = "tf2model"
SAVED_MODEL_FILE = "saved_model.pb"


# Keras ----------------------------------------------------------------------------------------------


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
            inputs: Any = {str(k): _keras_array(v) for k, v in data.items()}
        elif hasattr(data, "columns") and len(self._input_names) > 1:
            inputs = {str(col): data[col].to_numpy() for col in data.columns}
        else:
            inputs = _keras_array(data)
        output = self.model.predict_on_batch(inputs)
        if isinstance(output, Mapping):
            return {str(k): v for k, v in output.items()}
        if isinstance(output, (list, tuple)):
            names = self._output_names
            if len(names) != len(output):
                names = [f"output_{i}" for i in range(len(output))]
            return dict(zip(names, output, strict=True))
        return output


def _keras_array(value: Any) -> Any:
    import numpy as np  # lazy: keeps the module light

    return value.to_numpy() if hasattr(value, "to_numpy") else np.asarray(value)


def read_keras_native(path: Path) -> Any:
    """A ``.keras``/``.h5`` file given on the command line, loaded.

    Raises:
        FlavorError: not such a file, or Keras cannot load it.
    """
    if path.suffix not in NATIVE_SUFFIXES:
        raise FlavorError(f"{path.name}: not a Keras model file (expected {', '.join(NATIVE_SUFFIXES)})")
    try:
        return load_keras_file_at(path)
    except InvalidModel as exc:
        raise FlavorError(str(exc)) from None


# SavedModel -------------------------------------------------------------------------------------------


def tf_module() -> Any:
    """The ``tensorflow`` module, imported on first use."""
    try:
        import tensorflow  # lazy: optional dependency
    except ImportError:
        raise MissingDependency("tensorflow", "tensorflow") from None
    return tensorflow


def tensorflow_requirements() -> list[str]:
    """The installed TensorFlow distribution (``tensorflow-cpu`` or ``tensorflow``) and numpy."""
    return [*(distributions_for_modules(["tensorflow"]) or ["tensorflow"]), "numpy"]


def is_saved_model_dir(path: Path) -> bool:
    """True for a directory holding a SavedModel."""
    return path.is_dir() and (path / SAVED_MODEL_FILE).is_file()


class SavedModelPredictor:
    """Predicts with a loaded SavedModel through one of its signatures."""

    def __init__(self, loaded: Any, signature_key: str | None = None) -> None:
        self.model = loaded  # keeps the variables alive: signature functions hold weak references
        signatures = dict(getattr(loaded, "signatures", {}) or {})
        if signature_key is not None and signature_key not in signatures:
            raise InvalidInput(f"the SavedModel has no signature {signature_key!r} (it has: {', '.join(signatures)})")
        key = signature_key or ("serving_default" if "serving_default" in signatures else None)
        key = key or next(iter(signatures), None)
        self._fn = signatures[key] if key is not None else None
        if self._fn is None and not callable(loaded):
            raise InvalidModel("the SavedModel has no serving signature and is not callable")
        self._specs: dict[str, Any] = dict(self._fn.structured_input_signature[1]) if self._fn else {}

    @property
    def input_names(self) -> list[str]:
        """The signature's input names (empty when the model is called directly)."""
        return list(self._specs)

    def predict(self, data: Any, params: Params | None = None) -> Any:
        tf = tf_module()
        if self._fn is None:
            return _numpy(self.model(tf.convert_to_tensor(_array(data, "input"))))
        outputs = self._fn(**self._feeds(tf, data))
        arrays = {str(name): outputs[name].numpy() for name in sorted(outputs)}  # TF's order varies
        return next(iter(arrays.values())) if len(arrays) == 1 else arrays

    def _feeds(self, tf: Any, data: Any) -> dict[str, Any]:
        names = list(self._specs)
        if isinstance(data, Mapping):
            values = {str(k): v for k, v in data.items()}
        elif hasattr(data, "columns") and len(names) > 1:
            values = {str(col): data[col].to_numpy() for col in data.columns}
        elif len(names) == 1:
            values = {names[0]: data}
        else:
            raise SchemaError(f"Model expects named inputs {names}; send a dict of arrays.")
        missing = [name for name in names if name not in values]
        if missing:
            raise SchemaError(f"Model is missing inputs {missing}.")
        feeds = {}
        for name in names:
            array = _array(values[name], name)
            want = self._specs[name].dtype.as_numpy_dtype
            if array.dtype != want and array.dtype.kind in "biuf":
                array = array.astype(want)
            feeds[name] = tf.convert_to_tensor(array)
        return feeds


def _array(value: Any, name: str) -> Any:
    import numpy as np  # lazy: keeps the module light

    array = value.to_numpy() if hasattr(value, "to_numpy") else np.asarray(value)
    if array.dtype.kind == "O":
        raise SchemaError(f"Input {name!r}: expected a numeric or string tensor, got dtype object.")
    return array


def _numpy(output: Any) -> Any:
    if hasattr(output, "numpy"):
        return output.numpy()
    if isinstance(output, Mapping):
        return {str(name): _numpy(value) for name, value in output.items()}
    if isinstance(output, (tuple, list)):
        return {f"output_{i}": _numpy(value) for i, value in enumerate(output)}
    return output


def load_saved_model(directory: Path) -> Any:
    """``tf.saved_model.load`` with a clear error."""
    if not is_saved_model_dir(directory):
        raise InvalidModel(f"{directory.name}/ is not a SavedModel directory (no {SAVED_MODEL_FILE})")
    try:
        return tf_module().saved_model.load(str(directory))
    except Exception as exc:
        raise InvalidModel(f"cannot load the SavedModel: {type(exc).__name__}: {exc}") from None


__all__ = [
    "DATA_DIR",
    "EXPORTED_DIR",
    "KERAS_FORMAT",
    "KerasPredictor",
    "NATIVE_SUFFIXES",
    "SAVED_MODEL_DIR",
    "SAVED_MODEL_FILE",
    "SavedModelPredictor",
    "is_keras_model",
    "is_saved_model_dir",
    "keras_module",
    "keras_requirements",
    "load_keras_file",
    "load_keras_file_at",
    "load_saved_model",
    "read_keras_native",
    "tensorflow_requirements",
    "tf_module",
    "write_keras_file",
]
