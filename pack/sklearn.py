"""MLflow-style ``pack.sklearn``: save, log and load scikit-learn models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pack.flavors.sklearn import load_model, save_model

if TYPE_CHECKING:
    from pack.tracking.models import ModelInfo


def log_model(sk_model: Any, name: str | None = None, *, artifact_path: str | None = None, **kwargs: Any) -> ModelInfo:
    """Save an estimator into the active run (MLflow's ``mlflow.sklearn.log_model``).

    Takes ``name`` (MLflow 3) or ``artifact_path`` (MLflow 2), plus ``pack.log_model``'s options:
    ``input_example``, ``signature``, ``registered_model_name``, ``serialization_format``, ...
    """
    from pack.tracking.models import log_model as log  # lazy: the tracking store only when logging

    return log(sk_model, name, artifact_path=artifact_path, flavor="sklearn", **kwargs)


__all__ = ["load_model", "log_model", "save_model"]
