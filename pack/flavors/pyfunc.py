"""The generic model: ``load_model(uri).predict(data, params=None)`` for every flavor."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pack.errors import ModelError, PackError
from pack.flavors.enforce import enforce_input, enforce_params
from pack.flavors.examples import load_input_example
from pack.flavors.lookup import flavor_for_model
from pack.flavors.mlmodel import MLModel
from pack.flavors.safety import admit
from pack.flavors.schema import ModelSignature
from pack.flavors.table import NumericTable
from pack.types import Params, PathLike, Predictor
from pack.uris import resolve


class PyFuncModel:
    """A loaded model behind one interface: signature enforcement, then the flavor's predict."""

    def __init__(self, predictor: Predictor, model: MLModel, path: Path) -> None:
        self._predictor = predictor
        self._model = model
        self._path = path
        # A flavor's predictor that reads a NumericTable itself says so; others get a DataFrame.
        self._takes_tables = bool(getattr(predictor, "takes_tables", False))

    @property
    def metadata(self) -> MLModel:
        """The model's MLmodel."""
        return self._model

    @property
    def signature(self) -> ModelSignature | None:
        """The model's signature, if it has one."""
        return self._model.signature

    @property
    def path(self) -> Path:
        """The local model directory it was loaded from."""
        return self._path

    @property
    def predictor(self) -> Predictor:
        """The flavor's own predictor, without signature enforcement."""
        return self._predictor

    def input_example(self) -> tuple[Any, dict[str, Any] | None] | None:
        """The saved input example as ``(data, params)``, or None."""
        return load_input_example(self._path, self._model)

    def prepare(self, data: Any, params: Params | None = None) -> tuple[Any, dict[str, Any] | None]:
        """Enforce the signature on ``data`` and ``params`` without predicting.

        Raises:
            SchemaError: the input or params violate the signature.
        """
        signature = self._model.signature
        if signature is not None and signature.inputs is not None:
            data = enforce_input(signature.inputs, data)
        return data, enforce_params(signature.params if signature is not None else None, params)

    def predict_prepared(self, data: Any, params: Mapping[str, Any] | None = None) -> Any:
        """Predict on data that ``prepare`` already checked.

        Raises:
            ModelError: the model raised.
        """
        if isinstance(data, NumericTable) and not self._takes_tables:
            data = data.to_frame()
        try:
            return self._predictor.predict(data, params)
        except PackError:
            raise
        except Exception as exc:
            raise ModelError(f"{type(exc).__name__}: {exc}") from exc

    def predict(self, data: Any, params: Params | None = None) -> Any:
        """Predict after enforcing the signature.

        Raises:
            SchemaError: the input or params violate the signature.
            ModelError: the model raised.
        """
        prepared, checked = self.prepare(data, params)
        return self.predict_prepared(prepared, checked)

    def unwrap_python_model(self) -> Any:
        """The user's ``PythonModel`` instance (custom models only)."""
        inner = getattr(self._predictor, "python_model", None)
        if inner is None:
            raise PackError("this model is not a custom PythonModel")
        return inner

    def __repr__(self) -> str:
        flavors = ", ".join(name for name in self._model.flavors)
        return f"PyFuncModel(path={str(self._path)!r}, flavors=[{flavors}])"


def load_model(
    model_uri: PathLike,
    *,
    model_config: Mapping[str, Any] | None = None,
    safe_only: bool = False,
    mlmodel: MLModel | None = None,
) -> PyFuncModel:
    """Load any model as a ``PyFuncModel``.

    Args:
        model_uri: a path, ``file://``, ``models:/name/version|stage|latest``, ``models:/name@alias``
            or ``runs:/run_id/path``.
        model_config: flavor load options (e.g. ``trusted_types`` for skops, ``device`` for
            PyTorch, ``workers`` sharing the CPUs: default ``PACK_SERVE_WORKERS``); custom
            PythonModels receive it as ``context.model_config``.
        safe_only: refuse executable content (pickles, custom Python models, model code) before
            anything is deserialised; ``PACK_SAFE_ONLY=1`` turns this on for every load.
        mlmodel: the directory's MLmodel when the caller has already read it (a server reads it once).

    Raises:
        NotFound: nothing at the URI.
        InvalidModel: the model directory is malformed or no installed flavor loads it.
        UnsafeModel: ``safe_only`` and the model holds executable content.
    """
    path = resolve(model_uri).path
    model = mlmodel if mlmodel is not None else MLModel.load(path)
    flavor = flavor_for_model(model)
    admit(flavor, path, model, safe_only=safe_only)
    config = dict(model_config or {})
    if "workers" not in config:
        from pack.flavors.settings import LoadSettings  # lazy: pydantic only when the caller did not say

        workers = LoadSettings().serve_workers
        if workers is not None:
            config["workers"] = workers
    predictor = flavor.load_pyfunc(path, model, config)
    return PyFuncModel(predictor, model, path)


__all__ = ["PyFuncModel", "load_model"]
