"""MLflow-style ``pack.pyfunc``: the generic model interface and custom Python models."""

from typing import Any

from pack.flavors.infer import infer_signature
from pack.flavors.mlmodel import MLModel
from pack.flavors.packaging import save_model as _save_model
from pack.flavors.pyfunc import PyFuncModel, load_model
from pack.flavors.python_model import PythonModel, PythonModelContext


def save_model(path: Any, *, python_model: Any, **kwargs: Any) -> MLModel:
    """Save a custom ``PythonModel`` (MLflow's ``mlflow.pyfunc.save_model(path, python_model=...)``)."""
    return _save_model(python_model, path, flavor="python_function", **kwargs)


__all__ = ["PyFuncModel", "PythonModel", "PythonModelContext", "infer_signature", "load_model", "save_model"]
