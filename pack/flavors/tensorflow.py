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
from pack.errors import FlavorError, InvalidInput, InvalidModel
from pack.flavors import packaging
from pack.flavors.base import SavedFlavor, check_options
from pack.flavors.mlmodel import MLModel
from pack.flavors.tf_formats import (
    DATA_DIR,
    KERAS_FORMAT,
    NATIVE_SUFFIXES,
    SAVED_MODEL_DIR,
    SAVED_MODEL_FILE,
    KerasPredictor,
    SavedModelPredictor,
    is_keras_model,
    is_saved_model_dir,
    keras_requirements,
    load_keras_file,
    load_saved_model,
    read_keras_native,
    tensorflow_requirements,
    tf_module,
    write_keras_file,
)

MODEL_TYPES = ("tf2-module", "keras")


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
        if is_keras_model(obj):
            if options.get("signatures") is not None:
                raise InvalidInput("signatures apply to tf.Module objects, not Keras models")
            conf = write_keras_file(obj, path, save_format=True)
            flavor_conf = {
                "data": DATA_DIR,
                "model_type": "keras",
                "keras_version": conf["keras_version"],
                "save_format": KERAS_FORMAT,
            }
            pyfunc_conf = {"loader_module": self.loader_modules[0], "data": DATA_DIR}
            return SavedFlavor(flavor_conf, pyfunc_conf, keras_requirements(), None)
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
            return load_keras_file(safe_join(path, str(conf.get("data") or "data")))
        return load_saved_model(safe_join(path, str(conf.get("saved_model_dir") or SAVED_MODEL_DIR)))

    def load_pyfunc(self, path: Path, model: MLModel, config: Mapping[str, Any]) -> Any:
        native = self.load(path, model, config)
        if _model_type(model.flavor_conf(self.name)) == "keras":
            return KerasPredictor(native)
        return SavedModelPredictor(native, config.get("signature_key"))

    def read_native(self, path: Path) -> Any:
        if is_saved_model_dir(path):
            load_saved_model(path)  # refuses what TensorFlow cannot load
            return path
        if path.suffix in NATIVE_SUFFIXES:
            return read_keras_native(path)
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

__all__ = ["FLAVOR", "TensorFlowFlavor", "load_model", "save_model"]
