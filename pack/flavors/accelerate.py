"""Compiling a loaded scikit-learn tree ensemble at load (``pack serve --accelerate``, ``spark_udf(accelerate=True)``).

Two runtimes, tried in the order asked: onnxruntime's tree kernel (the estimator converted in memory
with skl2onnx, the converter ``pack convert`` uses) and native code (``pack.flavors.native_trees``:
pack's forest kernel, or TL2cgen's code for gradient boosting, built by a C compiler). A compiled
model is run on the model's input example next to scikit-learn and swapped in only when every
prediction matches: labels exactly, numbers within ``RTOL``/``ATOL``. Otherwise the model stays on
scikit-learn and ``accelerate`` says why. Nothing is written to the model directory.

The verified result (``CompiledGraph`` or ``NativeLibrary``) can be run elsewhere without
scikit-learn: ``adopt`` puts it behind a model's metadata and checks it again on the input example
against the predictions scikit-learn made where it was compiled (Spark's driver compiles once, its
workers adopt). The server prefers onnxruntime (no compiler at start, as fast at one row); Spark
prefers native code (several times onnxruntime's rows/s on large batches, on one core).

Why onnxruntime first in the server (``benchmarks/tree_kernels.py``, the benchmark forest: 50 trees,
depth 8, 10 features): one row runs in about 4 us, close to native code (about 3-5 us), both far below
an HTTP request's cost; native code is about 2x faster on 10,000-row batches but needs a C compiler
where the model loads, which serving images do not have. onnxruntime's session options hardly matter
at one row (threads, graph optimisation level and execution mode are all within noise).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from pack.errors import FlavorError, MissingDependency, PackError
from pack.flavors.convert import ATOL, RTOL, compare_outputs, to_onnx
from pack.flavors.mlmodel import MLModel
from pack.flavors.native_trees import NativeLibrary, NativeTrees, compile_library
from pack.flavors.onnx import OnnxPredictor, session_options
from pack.flavors.pyfunc import PyFuncModel
from pack.flavors.table import NumericTable
from pack.types import Params

# Estimators whose trees onnxruntime's TreeEnsemble kernel runs (scikit-learn class names).
TREE_ENSEMBLES = frozenset(
    f"{kind}{task}"
    for kind in (
        "RandomForest",
        "ExtraTrees",
        "GradientBoosting",
        "HistGradientBoosting",
        "DecisionTree",
        "ExtraTree",
    )
    for task in ("Classifier", "Regressor")
)
_OUTPUTS = {"predict": None, "predict_proba": "probabilities"}
ONNXRUNTIME = "onnxruntime"
NATIVE = "native"
SERVER_RUNTIMES = (ONNXRUNTIME, NATIVE)
BATCH_RUNTIMES = (NATIVE, ONNXRUNTIME)


@dataclass(frozen=True)
class CompiledGraph:
    """A tree ensemble's ONNX graph and the evidence it was verified against.

    Attributes:
        onnx: the serialised ONNX model.
        output: the graph output that answers what the estimator's ``predict_fn`` answered.
        flat: scikit-learn answered a 1-D array (the graph's ``[n, 1]`` output is flattened).
        example_output: scikit-learn's predictions on the model's input example.
    """

    onnx: bytes
    output: str
    flat: bool
    example_output: Any
    runtime: ClassVar[str] = "onnxruntime's tree kernel"
    file_name: ClassVar[str] = "pack-compiled-trees.onnx"

    def payload(self) -> bytes:
        """The graph's bytes, to ship."""
        return self.onnx

    def shipped(self) -> CompiledGraph:
        """This graph's description without its bytes (which travel apart)."""
        return replace(self, onnx=b"")

    def located(self, directory: Path) -> CompiledGraph:
        """The graph shipped as ``directory / file_name``."""
        return replace(self, onnx=(directory / self.file_name).read_bytes())

    def predictor(self, config: Mapping[str, Any]) -> CompiledTrees:
        """The graph on an onnxruntime session sized by ``config`` (``workers``).

        Raises:
            MissingDependency: onnxruntime is not installed.
        """
        return CompiledTrees(OnnxPredictor(compiled_session(self.onnx, config), [self.output]), self.flat)


@dataclass(frozen=True)
class Acceleration:
    """The outcome: the model to serve, and either what it runs on now or why it was left alone."""

    model: PyFuncModel
    compiled: bool
    detail: str
    artifact: Compiled | None = None


Compiled = CompiledGraph | NativeLibrary  # what ``accelerate`` produces and ``adopt`` runs


class CompiledTrees:
    """A ``Predictor`` running the compiled graph on float64 rows (float32 where the converter has
    no float64 graph); answers in scikit-learn's shape.

    float64, as scikit-learn sums its trees: in float32 the sum of a forest's votes depends on
    onnxruntime's thread count, and exact ties (e.g. 25 of 50 trees) then break either way
    (measured: 611 of 200,000 labels differed with one thread, none in float64).
    """

    takes_tables = True

    def __init__(self, predictor: OnnxPredictor, flat: bool) -> None:
        self._predictor = predictor
        self._flat = flat
        double = predictor.session.get_inputs()[0].type == "tensor(double)"
        self._dtype = "float64" if double else "float32"

    def predict(self, data: Any, params: Params | None = None) -> Any:
        import numpy as np  # lazy: keeps the module light

        if isinstance(data, NumericTable):
            rows = data.values
        elif hasattr(data, "to_numpy"):
            rows = data.to_numpy()
        else:
            rows = np.asarray(data)
        out = self._predictor.predict(np.ascontiguousarray(rows, dtype=self._dtype))
        return out.reshape(-1) if self._flat and out.ndim == 2 and out.shape[1] == 1 else out


def accelerate(
    model: PyFuncModel,
    config: Mapping[str, Any],
    *,
    runtimes: Sequence[str] = SERVER_RUNTIMES,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> Acceleration:
    """``model`` with its tree ensemble compiled, when that is possible and verified; else ``model``.

    Args:
        model: a loaded model (only scikit-learn tree ensembles are compiled).
        config: load options (``workers`` sizes onnxruntime's threads, as for ONNX models).
        runtimes: ``"onnxruntime"`` and/or ``"native"``, the first that compiles and verifies wins.
        rtol, atol: how close numeric outputs must be on the example (labels must be equal).
    """
    estimator: Any = getattr(model.predictor, "model", None)
    name = type(estimator).__name__
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    if "sklearn" not in model.metadata.flavors or type(final).__name__ not in TREE_ENSEMBLES:
        return Acceleration(model, False, f"only scikit-learn tree ensembles are compiled, not {name}")
    predict_fn = str((model.metadata.pyfunc_conf or {}).get("predict_fn", "predict"))
    if predict_fn not in _OUTPUTS:
        return Acceleration(model, False, f"predict_fn {predict_fn!r} has no compiled equivalent")
    example = model.input_example()
    if example is None:
        return Acceleration(model, False, "the model has no input example to verify the compiled trees on")
    try:
        data, _ = model.prepare(example[0])
        expected = model.predict_prepared(data)
    except PackError as exc:
        return Acceleration(model, False, str(exc).splitlines()[0])
    rows = data.to_frame() if isinstance(data, NumericTable) else data

    def graph(double: bool) -> tuple[Compiled, CompiledTrees | NativeTrees, float]:
        onx, output = to_onnx(estimator, rows, _OUTPUTS[predict_fn], double=double)
        artifact = CompiledGraph(onx.SerializeToString(), output, getattr(expected, "ndim", 0) == 1, expected)
        return (artifact, *_verified(artifact, config, data, rtol, atol))

    def compile_on(runtime: str) -> tuple[Compiled, CompiledTrees | NativeTrees, float]:
        if runtime == NATIVE:
            library = _native(estimator, predict_fn, expected)
            return (library, *_verified(library, config, data, rtol, atol))
        try:  # float64 sums a forest's votes as scikit-learn does; float32 where the converter has no float64
            return graph(double=True)
        except Exception:  # skl2onnx or onnxruntime refusing the float64 graph (onnxruntime's errors are bare)
            return graph(double=False)

    reasons = []
    for runtime in runtimes:
        try:
            artifact, compiled, diff = compile_on(runtime)
        except (PackError, ImportError) as exc:
            reasons.append(str(exc).splitlines()[0])
            continue
        detail = f"{name} runs on {artifact.runtime} (verified on {len(rows)} example rows, max abs diff {diff:.2g})"
        return Acceleration(PyFuncModel(compiled, model.metadata, model.path), True, detail, artifact)
    return Acceleration(model, False, "; ".join(reasons) or "no runtime was asked for")


def _native(estimator: Any, predict_fn: str, expected: Any) -> NativeLibrary:
    if hasattr(estimator, "steps"):
        raise FlavorError("native code: only a bare tree ensemble is compiled, not a Pipeline")
    answer = (
        "probabilities" if predict_fn == "predict_proba" else "labels" if hasattr(estimator, "classes_") else "values"
    )
    return compile_library(estimator, answer, expected)


def adopt(
    artifact: Compiled,
    metadata: MLModel,
    path: Path,
    config: Mapping[str, Any],
    *,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> PyFuncModel:
    """The model at ``path`` running ``artifact`` (compiled elsewhere), without loading scikit-learn.

    The compiled trees must answer the input example as scikit-learn did where they were compiled.

    Raises:
        FlavorError: the model has no input example, the predictions differ, or the artifact cannot
            be loaded here.
        MissingDependency: onnxruntime is not installed (a graph).
    """
    unchecked = PyFuncModel(artifact.predictor(config), metadata, path)
    example = unchecked.input_example()
    if example is None:
        raise FlavorError("the model has no input example to verify the compiled trees on")
    data, _ = unchecked.prepare(example[0])
    compiled, _ = _verified(artifact, config, data, rtol, atol)
    return PyFuncModel(compiled, metadata, path)


def _verified(
    artifact: Compiled, config: Mapping[str, Any], data: Any, rtol: float, atol: float
) -> tuple[CompiledTrees | NativeTrees, float]:
    """The artifact's predictor, and how far its answers on ``data`` (the prepared example) are from
    scikit-learn's."""
    compiled = artifact.predictor(config)
    return compiled, compare_outputs(artifact.example_output, compiled.predict(data), rtol, atol)


def compiled_session(onx: bytes, config: Mapping[str, Any]) -> Any:
    """The onnxruntime session ``accelerate`` runs a converted graph in (``config`` as for ONNX models).

    Raises:
        MissingDependency: onnxruntime is not installed.
    """
    try:
        import onnxruntime  # lazy: optional dependency
    except ImportError:
        raise MissingDependency("onnxruntime", "onnx") from None

    options = session_options({}, config)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy threads between requests
    return onnxruntime.InferenceSession(onx, options, providers=["CPUExecutionProvider"])


__all__ = [
    "BATCH_RUNTIMES",
    "NATIVE",
    "ONNXRUNTIME",
    "SERVER_RUNTIMES",
    "TREE_ENSEMBLES",
    "Acceleration",
    "Compiled",
    "CompiledGraph",
    "CompiledTrees",
    "accelerate",
    "adopt",
    "compiled_session",
]
