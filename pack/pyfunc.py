"""MLflow-style ``pack.pyfunc``: the generic model interface and custom Python models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pack.errors import InvalidInput, MissingDependency
from pack.flavors.infer import infer_signature
from pack.flavors.mlmodel import MLModel
from pack.flavors.packaging import save_model as _save_model
from pack.flavors.pyfunc import PyFuncModel, load_model
from pack.flavors.python_model import PythonModel, PythonModelContext

if TYPE_CHECKING:
    from pack.spark import ModelUDF
    from pack.tracking.models import ModelInfo


def save_model(path: Any, *, python_model: Any, **kwargs: Any) -> MLModel:
    """Save a custom ``PythonModel`` (MLflow's ``mlflow.pyfunc.save_model(path, python_model=...)``)."""
    return _save_model(python_model, path, flavor="python_function", **kwargs)


def log_model(
    name: str | None = None,
    python_model: Any = None,
    *,
    artifact_path: str | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Save a custom ``PythonModel`` into the active run (MLflow's ``mlflow.pyfunc.log_model``).

    Takes ``name`` (MLflow 3) or ``artifact_path`` (MLflow 2), ``artifacts={...}`` and
    ``pack.log_model``'s options (``input_example``, ``registered_model_name``, ...).
    """
    from pack.tracking.models import log_model as log  # lazy: the tracking store only when logging

    if python_model is None:
        raise InvalidInput("pass python_model=... (a PythonModel instance)")
    return log(python_model, name, artifact_path=artifact_path, flavor="python_function", **kwargs)


def spark_udf(
    spark: Any,
    model_uri: Any,
    result_type: Any = None,
    *,
    env_manager: str | None = None,
    params: dict[str, Any] | None = None,
    extra_env: dict[str, str] | None = None,
    model_config: dict[str, Any] | None = None,
    accelerate: bool = False,
    safe_only: bool | None = None,
) -> ModelUDF:
    """A Spark pandas UDF that scores the model (MLflow's ``mlflow.pyfunc.spark_udf``).

    ``df.withColumn("prediction", udf())`` scores the signature's input columns; ``accelerate=True``
    runs scikit-learn tree ensembles on onnxruntime (compiled once, verified); ``safe_only=True``
    refuses executable content on the driver and in executors. See ``pack.spark.spark_udf`` for
    arguments and errors. Needs ``pip install 'pack[spark]'``.
    """
    try:
        from pack.spark import spark_udf as make  # lazy: pyspark only when used
    except ModuleNotFoundError as exc:
        if exc.name not in ("pyspark", "py4j"):
            raise
        raise MissingDependency("pyspark", "spark") from None
    return make(
        spark,
        model_uri,
        result_type,
        env_manager=env_manager,
        params=params,
        extra_env=extra_env,
        model_config=model_config,
        accelerate=accelerate,
        safe_only=safe_only,
    )


__all__ = [
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "infer_signature",
    "load_model",
    "log_model",
    "save_model",
    "spark_udf",
]
