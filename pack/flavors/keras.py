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

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pack._fs import safe_join
from pack.errors import FlavorError
from pack.flavors import packaging
from pack.flavors.base import SavedFlavor, check_options
from pack.flavors.mlmodel import MLModel
from pack.flavors.tf_formats import (
    DATA_DIR,
    EXPORTED_DIR,
    KerasPredictor,
    SavedModelPredictor,
    is_keras_model,
    keras_module,
    keras_requirements,
    load_keras_file,
    load_saved_model,
    read_keras_native,
    write_keras_file,
)


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
            return load_saved_model(data / EXPORTED_DIR)
        return load_keras_file(data)

    def load_pyfunc(self, path: Path, model: MLModel, config: Mapping[str, Any]) -> Any:
        native = self.load(path, model, config)
        if model.flavor_conf(self.name).get("save_exported_model"):
            return SavedModelPredictor(native, config.get("signature_key", "serve"))
        return KerasPredictor(native)

    def read_native(self, path: Path) -> Any:
        return read_keras_native(path)


def save_model(model: Any, path: Any, **kwargs: Any) -> MLModel:
    """``pack.save_model`` with the keras flavor (MLflow's ``mlflow.keras.save_model``)."""
    return packaging.save_model(model, path, flavor="keras", **kwargs)


def load_model(model_uri: Any) -> Any:
    """The Keras model (MLflow's ``mlflow.keras.load_model``)."""
    return packaging.load_model(model_uri, flavor="keras")


FLAVOR = KerasFlavor()

__all__ = ["FLAVOR", "KerasFlavor", "load_model", "save_model"]
