"""The TensorFlow flavor: ``tf.Module`` objects and SavedModel directories (and Keras models on request).

Layouts are MLflow's ``tensorflow`` section (``loader_module: mlflow.tensorflow``):

* ``model_type: tf2-module``: ``tf2model/`` written by ``tf.saved_model.save`` (a ``tf.Module``), or a
  copy of an existing SavedModel directory (``pack.save_model("exported/", ..., flavor="tensorflow")``
  or ``pack log-model tensorflow exported/``, e.g. what Keras' ``model.export`` writes).
* ``model_type: keras``: ``data/model.keras`` (+ ``keras_module.txt``, ``save_format.txt``), what
  ``mlflow.tensorflow.save_model`` writes for a Keras model; pack writes it for a Keras model saved
  with ``flavor="tensorflow"`` (the ``keras`` flavor is the default for Keras models).

A SavedModel is a graph plus variables (no pickle); it predicts through its serving signature
(``serving_default`` unless ``model_config["signature_key"]`` names another), inputs by name, cast to
the signature's dtypes; one output comes back as an array, several as a dict of arrays in name
order. A SavedModel without signatures is called directly (``module(tensor)``), as MLflow does.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pack._fs import copy_into, safe_join
from pack.errors import FlavorError, InvalidInput, InvalidModel, MissingDependency, SchemaError
from pack.flavors import packaging
from pack.flavors.base import SavedFlavor, check_options
from pack.flavors.environment import distributions_for_modules
from pack.flavors.mlmodel import MLModel
from pack.types import Params

SAVED_MODEL_DIR = "tf2model"
SAVED_MODEL_FILE = "saved_model.pb"
MODEL_TYPES = ("tf2-module", "keras")


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


class TensorFlowFlavor:
    """Implements ``pack.flavors.base.Flavor`` for TensorFlow."""

    name = "tensorflow"
    loader_modules = ("mlflow.tensorflow", "pack.flavors.tensorflow")
    extra = "tensorflow"
    reads_directories = True

    def can_save(self, obj: Any) -> bool:
        tf = sys.modules.get("tensorflow")
        if tf is None:
            return False
        keras = sys.modules.get("keras")
        if keras is not None and isinstance(obj, keras.Model):
            return False  # the keras flavor saves Keras models
        return isinstance(obj, tf.Module)

    def save(self, obj: Any, path: Path, options: Mapping[str, Any]) -> SavedFlavor:
        check_options(self.name, options, ("signatures",))
        tf = tf_module()
        from pack.flavors import keras as keras_flavor

        if keras_flavor.is_keras_model(obj):
            if options.get("signatures") is not None:
                raise InvalidInput("signatures apply to tf.Module objects, not Keras models")
            conf = keras_flavor.write_keras_file(obj, path, save_format=True)
            flavor_conf = {
                "data": keras_flavor.DATA_DIR,
                "model_type": "keras",
                "keras_version": conf["keras_version"],
                "save_format": keras_flavor.KERAS_FORMAT,
            }
            pyfunc_conf = {"loader_module": self.loader_modules[0], "data": keras_flavor.DATA_DIR}
            return SavedFlavor(flavor_conf, pyfunc_conf, keras_flavor.keras_requirements(), None)
        target = path / SAVED_MODEL_DIR
        if isinstance(obj, (str, os.PathLike)):
            source = Path(obj)
            if not is_saved_model_dir(source):
                raise InvalidInput(f"{source} is not a SavedModel directory (no {SAVED_MODEL_FILE})")
            copy_into(source, target)
        elif isinstance(obj, tf.Module):
            try:
                tf.saved_model.save(obj, str(target), signatures=options.get("signatures"))
            except Exception as exc:
                raise FlavorError(f"tf.saved_model.save failed: {type(exc).__name__}: {exc}".splitlines()[0]) from exc
        else:
            raise FlavorError(
                f"the tensorflow flavor saves tf.Module objects, Keras models or SavedModel "
                f"directories, not {type(obj).__name__}"
            )
        flavor_conf = {"saved_model_dir": SAVED_MODEL_DIR, "model_type": "tf2-module"}
        pyfunc_conf = {"loader_module": self.loader_modules[0]}
        return SavedFlavor(flavor_conf, pyfunc_conf, tensorflow_requirements(), None)

    def unsafe_content(self, path: Path, model: MLModel) -> list[str]:
        return []  # a SavedModel is a graph and variables, no pickle

    def load(self, path: Path, model: MLModel, config: Mapping[str, Any]) -> Any:
        conf = model.flavor_conf(self.name)
        if _model_type(conf) == "keras":
            from pack.flavors import keras as keras_flavor

            return keras_flavor.load_keras_file(safe_join(path, str(conf.get("data") or "data")))
        return load_saved_model(safe_join(path, str(conf.get("saved_model_dir") or SAVED_MODEL_DIR)))

    def load_pyfunc(self, path: Path, model: MLModel, config: Mapping[str, Any]) -> Any:
        native = self.load(path, model, config)
        if _model_type(model.flavor_conf(self.name)) == "keras":
            from pack.flavors import keras as keras_flavor

            return keras_flavor.KerasPredictor(native)
        return SavedModelPredictor(native, config.get("signature_key"))

    def read_native(self, path: Path) -> Any:
        if is_saved_model_dir(path):
            load_saved_model(path)  # refuses what TensorFlow cannot load
            return path
        if path.suffix in (".keras", ".h5"):
            from pack.flavors import keras as keras_flavor

            return keras_flavor.FLAVOR.read_native(path)
        raise FlavorError(f"{path.name}: not a SavedModel directory or a .keras file")


def _model_type(conf: Mapping[str, Any]) -> str:
    model_type = conf.get("model_type") or ("tf2-module" if "saved_model_dir" in conf else "keras")
    if model_type not in MODEL_TYPES:
        raise InvalidModel(f"unsupported tensorflow model_type {model_type!r} (pack loads {MODEL_TYPES})")
    return str(model_type)


def save_model(model: Any, path: Any, **kwargs: Any) -> MLModel:
    """``pack.save_model`` with the tensorflow flavor (MLflow's ``mlflow.tensorflow.save_model``)."""
    return packaging.save_model(model, path, flavor="tensorflow", **kwargs)


def load_model(model_uri: Any) -> Any:
    """The loaded SavedModel or Keras model (MLflow's ``mlflow.tensorflow.load_model``)."""
    return packaging.load_model(model_uri, flavor="tensorflow")


FLAVOR = TensorFlowFlavor()

__all__ = [
    "FLAVOR",
    "SavedModelPredictor",
    "TensorFlowFlavor",
    "is_saved_model_dir",
    "load_model",
    "load_saved_model",
    "save_model",
    "tensorflow_requirements",
    "tf_module",
]
