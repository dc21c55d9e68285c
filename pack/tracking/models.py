"""``log_model`` and ``register_model``: a model saved through its flavor into a run, then registered."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pack._fs import safe_relpath
from pack.errors import AlreadyExists, InvalidInput
from pack.flavors.mlmodel import MLModel
from pack.flavors.packaging import save_model
from pack.flavors.schema import ModelSignature
from pack.registry.default import process_default
from pack.store.entities import ModelVersion
from pack.tracking import fluent
from pack.tracking.client import Client
from pack.types import PathLike

DEFAULT_NAME = "model"


@dataclass(frozen=True)
class ModelInfo:
    """What ``log_model`` logged (MLflow's ``ModelInfo``)."""

    artifact_path: str
    flavors: Mapping[str, Any]
    model_uri: str
    model_uuid: str
    run_id: str
    saved_input_example_info: Mapping[str, Any] | None
    signature: ModelSignature | None
    utc_time_created: str
    registered_model_version: int | None = None

    @property
    def name(self) -> str:
        """The model's name inside the run (MLflow 3's word for ``artifact_path``)."""
        return self.artifact_path


def log_model(
    model: Any,
    name: str | None = None,
    *,
    artifact_path: str | None = None,
    flavor: str | None = None,
    input_example: Any = None,
    signature: ModelSignature | None = None,
    registered_model_name: str | None = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    code_paths: Sequence[PathLike] | None = None,
    await_registration_for: int = 300,
    **flavor_options: Any,
) -> ModelInfo:
    """Save ``model`` through its flavor into the active run (started if none) under ``name``, and
    register it as ``registered_model_name`` when given.

    ``name`` (MLflow 3) and ``artifact_path`` (MLflow 2) are the same thing; pass either.

    Raises:
        InvalidInput: both names given and different, or a bad path or option.
        AlreadyExists: the run already has an artifact of that name.
        FlavorError: the flavor cannot save the object.
    """
    if name is not None and artifact_path is not None and name != artifact_path:
        raise InvalidInput(f"name={name!r} and artifact_path={artifact_path!r} differ; pass one")
    rel = safe_relpath(name or artifact_path or DEFAULT_NAME)
    if not rel:
        raise InvalidInput("the model needs a name inside the run")
    run = fluent.active_run() or fluent.start_run()
    run_id = run.info.run_id
    client = Client()
    _check_free(client, run_id, rel)
    with tempfile.TemporaryDirectory(prefix="pack-log-model-") as tmp:
        local = Path(tmp) / "model"
        mlmodel = save_model(
            model,
            local,
            flavor=flavor,
            input_example=input_example,
            signature=signature,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            metadata=metadata,
            code_paths=code_paths,
            run_id=run_id,
            artifact_path=rel,
            **flavor_options,
        )
        model_uri = log_model_dir(client, run_id, local, rel)
    version = None
    if registered_model_name is not None:
        version = register_model(model_uri, registered_model_name).version
    return ModelInfo(
        artifact_path=rel,
        flavors=mlmodel.flavors,
        model_uri=model_uri,
        model_uuid=mlmodel.model_uuid,
        run_id=run_id,
        saved_input_example_info=mlmodel.saved_input_example_info,
        signature=mlmodel.signature,
        utc_time_created=mlmodel.utc_time_created,
        registered_model_version=version,
    )


def log_model_dir(client: Client, run_id: str, model_dir: Path, name: str) -> str:
    """Copy a saved model directory into a run's artifacts under ``name``; its ``runs:/`` URI.

    The MLmodel's ``run_id`` and ``artifact_path`` are set to the run's.

    Raises:
        AlreadyExists: the run already has an artifact ``name``. InvalidModel: not a model directory.
    """
    rel = safe_relpath(name)
    if not rel:
        raise InvalidInput("the model needs a name inside the run")
    _check_free(client, run_id, rel)
    mlmodel = MLModel.load(model_dir)
    if mlmodel.run_id != run_id or mlmodel.artifact_path != rel:
        mlmodel.evolve(run_id=run_id, artifact_path=rel).save(model_dir)
    client.artifact_store(run_id).child(rel).put_tree(model_dir, fsync=False)
    return f"runs:/{run_id}/{rel}"


def _check_free(client: Client, run_id: str, rel: str) -> None:
    if client.artifact_store(run_id).child(rel).ls():
        raise AlreadyExists(f"run {run_id} already has an artifact {rel!r}")


def register_model(
    model_uri: str,
    name: str,
    await_registration_for: int = 300,
    *,
    tags: Mapping[str, Any] | None = None,
) -> ModelVersion:
    """Register the model at ``model_uri`` (``runs:/``, ``models:/``, a path or fsspec URL) as a new
    version of ``name``, creating the registered model if needed. Files are copied and checksummed;
    the returned version is READY (``await_registration_for`` is accepted for MLflow compatibility).
    """
    registry = process_default().services().registry
    return registry.register_model(str(model_uri), name, tags={str(k): str(v) for k, v in (tags or {}).items()})


__all__ = ["DEFAULT_NAME", "ModelInfo", "log_model", "log_model_dir", "register_model"]
