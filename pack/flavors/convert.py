"""Converting a saved scikit-learn model to ONNX (skl2onnx), verified before anything is written.

``convert_to_onnx(model_uri, output)`` loads the model and its input example (or the one given),
converts the estimator with skl2onnx, runs both on the example, and writes the ONNX model directory
only when every prediction matches: numbers within ``rtol``/``atol`` (``numpy.allclose``; the
graph computes in float32 where scikit-learn uses float64), labels exactly. The new directory keeps
the original's input signature (clients send the same payloads) and returns the output the original's
``predict_fn`` returned (``label`` for ``predict``, ``probabilities`` for ``predict_proba``). Its
MLmodel ``metadata.converted_from`` records the source model and the check. The graph keeps only
that output, so any ONNX runtime (MLflow's ``mlflow.onnx`` too) returns what the original did.

Graph inputs: a table of numeric columns becomes one float tensor ``input`` of shape ``(-1, n)``;
a table with string columns becomes one ``(-1, 1)`` input per column, named after it.

The result (``Conversion``) names the new directory; registering it as a version of a registered
model is a separate step on that path (the registry resolves and copies directories).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pack.errors import FlavorError, InvalidInput, InvalidModel, MissingDependency
from pack.flavors.mlmodel import MLModel
from pack.flavors.onnx import OnnxPredictor
from pack.flavors.packaging import save_model
from pack.flavors.pyfunc import load_model
from pack.types import PathLike
from pack.uris import scheme_of

RTOL = 1e-4
ATOL = 1e-5
_OUTPUT_FOR = {"predict": None, "predict_proba": "probabilities", "transform": None}


@dataclass(frozen=True)
class Conversion:
    """What ``convert_to_onnx`` wrote (``path``) and how closely it matched the original (``source``)."""

    path: Path
    model: MLModel
    source: str
    rows_checked: int
    max_abs_diff: float
    rtol: float
    atol: float


def convert_to_onnx(
    model_uri: PathLike,
    output: PathLike,
    *,
    input_example: Any = None,
    rtol: float = RTOL,
    atol: float = ATOL,
    target_opset: int | None = None,
    model_config: Mapping[str, Any] | None = None,
    source: str | None = None,
) -> Conversion:
    """Convert a saved scikit-learn model to an ONNX model directory at ``output``.

    Args:
        model_uri: the scikit-learn model (path or URI).
        output: the new model directory (must not exist or be empty).
        input_example: data to verify on; default: the model's saved input example.
        rtol, atol: the tolerance for numeric outputs.
        target_opset: the ONNX opset (default: skl2onnx's latest supported).
        model_config: load options for the source model (e.g. skops ``trusted_types``).
        source: what to record as the source (e.g. ``models:/forest/3`` when ``model_uri`` is the
            verified local copy of that version); default: ``model_uri`` when it is a URI, else the
            directory's name (no path of this machine goes into the new model).

    Raises:
        InvalidInput: the model is not a scikit-learn model, or there is no example to verify on.
        FlavorError: skl2onnx cannot convert it, or the converted model's predictions differ.
        MissingDependency: skl2onnx, onnx or onnxruntime is not installed.
    """
    original = load_model(model_uri, model_config=model_config)
    if "sklearn" not in original.metadata.flavors:
        flavors = ", ".join(original.metadata.flavors)
        raise InvalidInput(f"only scikit-learn models convert to ONNX (this model has: {flavors})")
    if input_example is None:
        saved = original.input_example()
        if saved is None:
            raise InvalidInput("the model has no input example to verify the conversion on: pass one (--input-example)")
        input_example = saved[0]
    predict_fn = str((original.metadata.pyfunc_conf or {}).get("predict_fn", "predict"))
    if predict_fn not in _OUTPUT_FOR:
        raise InvalidInput(f"predict_fn {predict_fn!r} has no ONNX equivalent (use predict or predict_proba)")
    data, _ = original.prepare(input_example)
    expected = original.predict_prepared(data)
    estimator = getattr(original.predictor, "model", None)
    onx, wanted = to_onnx(estimator, data, _OUTPUT_FOR[predict_fn], target_opset)
    converted = OnnxPredictor(_session(onx), [wanted]).predict(data)
    try:
        diff = compare_outputs(expected, converted, rtol, atol)
    except FlavorError as exc:
        raise FlavorError(f"{exc}; nothing was written") from None
    if source is None:
        given = os.fspath(model_uri)
        source = given if scheme_of(given) not in ("", "file") else original.path.name
    metadata = {
        "converted_from": {
            "source": source,  # an exact version (models:/forest/3), a run URI or a directory name
            "model_uuid": original.metadata.model_uuid,
            "predict_fn": predict_fn,
            "rows_checked": len(data),
            "max_abs_diff": diff,
            "rtol": rtol,
            "atol": atol,
        }
    }
    written = save_model(
        onx,
        output,
        flavor="onnx",
        input_example=input_example,
        signature=original.signature,
        metadata=metadata,
        output_names=[wanted],
    )
    return Conversion(Path(output).absolute(), written, source, len(data), diff, rtol, atol)


def _skl2onnx() -> Any:
    try:
        import skl2onnx  # lazy: optional dependency
    except ImportError:
        raise MissingDependency("skl2onnx", "onnx") from None
    return skl2onnx


def initial_types(data: Any, *, double: bool = False) -> list[tuple[str, Any]]:
    """skl2onnx input declarations for a table or array like ``data`` (numbers as float32, or float64
    with ``double``)."""
    import numpy as np  # lazy: keeps the module light
    from skl2onnx.common.data_types import (  # lazy: optional dependency
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )

    if double:
        FloatTensorType = DoubleTensorType

    if not hasattr(data, "columns"):
        array = np.asarray(data)
        if array.ndim != 2 or array.dtype.kind not in "biuf":
            raise InvalidInput("the example must be a table or a 2-D numeric array")
        return [("input", FloatTensorType([None, array.shape[1]]))]
    kinds = [data[col].dtype.kind if isinstance(data[col].dtype, np.dtype) else "O" for col in data.columns]
    if all(kind in "biuf" for kind in kinds):
        return [("input", FloatTensorType([None, len(kinds)]))]
    types: list[tuple[str, Any]] = []
    for col, kind in zip(data.columns, kinds, strict=True):
        tensor = FloatTensorType if kind == "f" else Int64TensorType if kind in "biu" else StringTensorType
        types.append((str(col), tensor([None, 1])))
    return types


def to_onnx(
    estimator: Any, data: Any, output: str | None, target_opset: int | None = None, *, double: bool = False
) -> tuple[Any, str]:
    """The ONNX graph of ``estimator`` for inputs like ``data``, keeping only the output ``output``
    (None: the first), and that output's name; ``double`` takes and computes float64.

    Raises:
        FlavorError: skl2onnx cannot convert the estimator, or the graph lacks the output.
        MissingDependency: skl2onnx is not installed.
    """
    onx = _convert(estimator, data, target_opset, double)
    graph_outputs = [o.name for o in onx.graph.output]
    wanted = output or graph_outputs[0]
    if wanted not in graph_outputs:
        raise FlavorError(f"the ONNX graph has no {wanted!r} output (it has: {graph_outputs})")
    kept = [entry for entry in onx.graph.output if entry.name == wanted]
    del onx.graph.output[:]  # the graph answers what the original answered, for MLflow's loader too
    onx.graph.output.extend(kept)
    return onx, wanted


def _convert(estimator: Any, data: Any, target_opset: int | None, double: bool = False) -> Any:
    skl2onnx = _skl2onnx()
    from sklearn.base import is_classifier  # lazy: optional dependency

    if estimator is None:
        raise InvalidModel("the scikit-learn model did not load as an estimator")
    options = {"zipmap": False} if is_classifier(estimator) else None
    try:
        return skl2onnx.convert_sklearn(
            estimator, initial_types=initial_types(data, double=double), options=options, target_opset=target_opset
        )
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise FlavorError(f"skl2onnx cannot convert {type(estimator).__name__}: {message}") from exc


def _session(onx: Any) -> Any:
    try:
        import onnxruntime  # lazy: optional dependency
    except ImportError:
        raise MissingDependency("onnxruntime", "onnx") from None
    return onnxruntime.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])


def compare_outputs(expected: Any, converted: Any, rtol: float, atol: float) -> float:
    """The largest absolute difference between two models' outputs on the same rows.

    Raises:
        FlavorError: a label differs, a number is out of tolerance, or the shapes differ.
    """
    import numpy as np  # lazy: keeps the module light

    want = np.asarray(expected)
    got = np.asarray(converted)
    if got.shape != want.shape and got.size == want.size:
        got = got.reshape(want.shape)
    if got.shape != want.shape:
        raise FlavorError(f"the ONNX model returns shape {got.shape}, the original {want.shape}")
    if want.dtype.kind == "f" or got.dtype.kind == "f":
        diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
        worst = float(diff.max()) if diff.size else 0.0
        bad = ~np.isclose(got, want, rtol=rtol, atol=atol)
        if bad.any():
            raise FlavorError(
                f"the ONNX model's predictions differ on {int(bad.sum())} of {want.size} values "
                f"(max abs diff {worst:.3g}; rtol={rtol}, atol={atol})"
            )
        return worst
    numeric = want.dtype.kind in "biu" and got.dtype.kind in "biu"  # bool labels come back as 0/1
    mismatched = int((want != got).sum() if numeric else (want.astype(str) != got.astype(str)).sum())
    if mismatched:
        raise FlavorError(f"the ONNX model predicts a different label for {mismatched} of {want.size} example rows")
    return 0.0


__all__ = ["ATOL", "RTOL", "Conversion", "compare_outputs", "convert_to_onnx", "initial_types", "to_onnx"]
