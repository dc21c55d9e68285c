"""Saving a native model as a model directory, and loading the native object back."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pack._fs import atomic_dir, tree_size
from pack.errors import FlavorError, InvalidInput, PackError, UnsafeFormatWarning
from pack.flavors.base import EXAMPLE_OPTION, Flavor, SavedFlavor
from pack.flavors.code import copy_code_paths
from pack.flavors.environment import ENV_CONF, pin, python_version, write_environment
from pack.flavors.examples import save_input_example, split_params
from pack.flavors.infer import infer_signature
from pack.flavors.lookup import flavor_for_object, get_flavor, native_flavor
from pack.flavors.mlmodel import PYFUNC, MLModel
from pack.flavors.safety import admit
from pack.flavors.schema import ModelSignature
from pack.types import PathLike
from pack.uris import resolve


def save_model(
    model: Any,
    path: PathLike,
    *,
    flavor: str | None = None,
    input_example: Any = None,
    signature: ModelSignature | None = None,
    pip_requirements: Sequence[str] | None = None,
    extra_pip_requirements: Sequence[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    code_paths: Sequence[PathLike] | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    **flavor_options: Any,
) -> MLModel:
    """Save ``model`` as an MLflow-format model directory at ``path`` (written atomically).

    Args:
        model: the native object (an estimator, a ``PythonModel``, a torch module, ...).
        path: the directory to create; it must not exist or be empty.
        flavor: the flavor name; inferred from the object when None.
        input_example: example data, or ``(data, params)``; saved beside the model, and used to infer
            the signature (the model predicts on it) when ``signature`` is None. Without either, the
            flavor may declare the inputs from the object (an estimator's feature names, an ONNX graph).
        signature: an explicit signature.
        pip_requirements: replaces the inferred requirements.
        extra_pip_requirements: added to the inferred requirements.
        metadata: free-form mapping stored in the MLmodel.
        code_paths: files or directories copied into ``code/`` and put on ``sys.path`` at load.
        run_id, artifact_path: recorded in the MLmodel when saved into a run.
        **flavor_options: options of the chosen flavor (e.g. ``serialization_format``).

    Returns:
        The written MLmodel.

    Raises:
        AlreadyExists: ``path`` exists and is not empty.
        InvalidInput: bad options or example.
        FlavorError: the flavor cannot save the object.
    """
    chosen = get_flavor(flavor) if flavor else flavor_for_object(model)
    if pip_requirements is not None and extra_pip_requirements is not None:
        raise InvalidInput("pass pip_requirements or extra_pip_requirements, not both")
    options = dict(flavor_options)
    if getattr(chosen, "uses_input_example", False):
        options[EXAMPLE_OPTION] = split_params(input_example)[0] if input_example is not None else None
    with atomic_dir(Path(path)) as tmp:
        saved = chosen.save(model, tmp, options)
        code = copy_code_paths(code_paths, tmp)
        example_info = save_input_example(tmp, input_example) if input_example is not None else None
        pyfunc_conf = {
            **saved.pyfunc_conf,
            "python_version": python_version(),
            "env": dict(ENV_CONF),
            "code": code,
        }
        flavors: dict[str, Mapping[str, Any]] = {}
        if chosen.name == PYFUNC:
            flavors[PYFUNC] = {**saved.flavor_conf, **pyfunc_conf}
        else:
            flavors[chosen.name] = {**saved.flavor_conf, "code": code}
            flavors[PYFUNC] = pyfunc_conf
        mlmodel = MLModel(
            flavors=flavors,
            run_id=run_id,
            artifact_path=artifact_path,
            saved_input_example_info=example_info,
            metadata=dict(metadata) if metadata is not None else None,
        )
        if signature is None and input_example is not None:
            signature = _infer_from_example(chosen, saved, tmp, mlmodel, input_example)
        elif signature is None:  # no example: what the object itself declares (feature names, graph inputs)
            native_signature = getattr(chosen, "native_signature", None)
            signature = native_signature(model, tmp) if native_signature is not None else None
        requirements = (
            pin(pip_requirements)
            if pip_requirements is not None
            else pin([*saved.requirements, *(extra_pip_requirements or ())])
        )
        write_environment(tmp, requirements)
        mlmodel = mlmodel.evolve(signature=signature, model_size_bytes=tree_size(tmp))
        mlmodel.save(tmp)  # last: a directory with an MLmodel is complete
    return mlmodel


def _infer_from_example(
    flavor: Flavor, saved: SavedFlavor, tmp: Path, mlmodel: MLModel, example: Any
) -> ModelSignature:
    data, params = split_params(example)
    predictor = saved.predictor
    if predictor is None:  # the object is in memory, so its classes are importable without the model's code
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnsafeFormatWarning)  # we wrote these files a moment ago
            predictor = flavor.load_pyfunc(tmp, mlmodel, {})
    try:
        output = predictor.predict(data, params)
    except PackError:
        raise
    except Exception as exc:
        raise FlavorError(f"the model failed to predict on its input example: {type(exc).__name__}: {exc}") from exc
    return infer_signature(data, output, params)


def load_model(
    model_uri: PathLike,
    *,
    flavor: str | None = None,
    model_config: Mapping[str, Any] | None = None,
    safe_only: bool = False,
) -> Any:
    """Load the native object of a saved model (an estimator, a ``PythonModel``, ...).

    ``safe_only`` (or ``PACK_SAFE_ONLY=1``) refuses executable content, as in ``pack.pyfunc.load_model``.

    Raises:
        NotFound: nothing at the URI.
        InvalidModel: the model directory is malformed or has no such flavor.
        UnsafeModel: ``safe_only`` and the model holds executable content.
    """
    path = resolve(model_uri).path
    mlmodel = MLModel.load(path)
    chosen = native_flavor(mlmodel, flavor)
    admit(chosen, path, mlmodel, safe_only=safe_only)
    return chosen.load(path, mlmodel, dict(model_config or {}))


__all__ = ["load_model", "save_model"]
