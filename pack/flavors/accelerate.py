"""Compiling a loaded scikit-learn tree ensemble to ONNX Runtime's tree kernel (``pack serve --accelerate``).

At load, the estimator is converted in memory with skl2onnx (the converter ``pack convert`` uses),
run by onnxruntime on the model's input example next to scikit-learn, and swapped in only when every
prediction matches: labels exactly, numbers within ``RTOL``/``ATOL``. Otherwise the model stays on
scikit-learn and ``accelerate`` says why. Nothing is written: the model directory is unchanged.

The verified graph (``CompiledGraph``) can be run elsewhere without scikit-learn: ``adopt`` puts it
behind a model's metadata and checks it again on the input example against the predictions
scikit-learn made where it was compiled (Spark's driver compiles once, its workers adopt).

Why onnxruntime (``benchmarks/tree_kernels.py``, the benchmark forest: 50 trees, depth 8, 10 features):
one row runs in about 4 us, close to TL2cgen's compiled C called straight through ctypes (about 3 us;
15 us through its Python API), both far below an HTTP request's cost; TL2cgen is 3-6x faster on 10,000-row
batches, but needs a C compiler and seconds of gcc at load, so onnxruntime, already pack's ``onnx``
extra, is the runtime used. Its session options hardly matter at one row (threads, graph
optimisation level and execution mode are all within noise).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pack.errors import FlavorError, MissingDependency, PackError
from pack.flavors.convert import ATOL, RTOL, compare_outputs, to_onnx
from pack.flavors.mlmodel import MLModel
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
    graph: CompiledGraph | None = None


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
    model: PyFuncModel, config: Mapping[str, Any], *, rtol: float = RTOL, atol: float = ATOL
) -> Acceleration:
    """``model`` with its tree ensemble compiled, when that is possible and verified; else ``model``.

    Args:
        model: a loaded model (only scikit-learn tree ensembles are compiled).
        config: load options (``workers`` sizes onnxruntime's threads, as for ONNX models).
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
        rows = data.to_frame() if isinstance(data, NumericTable) else data
        expected = model.predict_prepared(data)

        def compile_graph(double: bool) -> tuple[CompiledGraph, CompiledTrees, float]:
            onx, output = to_onnx(estimator, rows, _OUTPUTS[predict_fn], double=double)
            graph = CompiledGraph(onx.SerializeToString(), output, getattr(expected, "ndim", 0) == 1, expected)
            return (graph, *_verified(graph, config, data, rtol, atol))

        try:  # float64 sums a forest's votes as scikit-learn does; float32 where the converter has no float64
            graph, compiled, diff = compile_graph(double=True)
        except Exception:  # skl2onnx or onnxruntime refusing the float64 graph (onnxruntime's errors are bare)
            graph, compiled, diff = compile_graph(double=False)
    except (PackError, ImportError) as exc:
        return Acceleration(model, False, str(exc).splitlines()[0])
    fast = PyFuncModel(compiled, model.metadata, model.path)
    detail = f"{name} runs on onnxruntime's tree kernel (verified on {len(rows)} example rows, max abs diff {diff:.2g})"
    return Acceleration(fast, True, detail, graph)


def adopt(
    graph: CompiledGraph,
    metadata: MLModel,
    path: Path,
    config: Mapping[str, Any],
    *,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> PyFuncModel:
    """The model at ``path`` running ``graph`` (compiled elsewhere), without loading scikit-learn.

    The graph must answer the input example as scikit-learn did where it was compiled.

    Raises:
        FlavorError: the model has no input example, or the predictions differ.
        MissingDependency: onnxruntime is not installed.
    """
    unchecked = PyFuncModel(graph.predictor(config), metadata, path)
    example = unchecked.input_example()
    if example is None:
        raise FlavorError("the model has no input example to verify the compiled trees on")
    data, _ = unchecked.prepare(example[0])
    compiled, _ = _verified(graph, config, data, rtol, atol)
    return PyFuncModel(compiled, metadata, path)


def _verified(
    graph: CompiledGraph, config: Mapping[str, Any], data: Any, rtol: float, atol: float
) -> tuple[CompiledTrees, float]:
    """The graph's predictor, and how far its answers on ``data`` (the prepared example) are from
    scikit-learn's."""
    compiled = graph.predictor(config)
    return compiled, compare_outputs(graph.example_output, compiled.predict(data), rtol, atol)


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
    "TREE_ENSEMBLES",
    "Acceleration",
    "CompiledGraph",
    "CompiledTrees",
    "accelerate",
    "adopt",
    "compiled_session",
]
