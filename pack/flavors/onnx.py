"""The ONNX flavor: a ``ModelProto`` or ``.onnx`` file, checked with ``onnx.checker``, run by onnxruntime.

Layout is MLflow's ``onnx`` section (``loader_module: mlflow.onnx``): ``model.onnx``; keys
``onnx_version``, ``data``, ``providers`` (pack writes ``[CPUExecutionProvider]``) and
``onnx_session_options``. Save options: ``providers``, ``onnx_session_options`` and
``output_names`` (the outputs pyfunc returns; one name gives a bare array).

Session, built at load:

* providers: ``model_config["providers"]``, else the section's, keeping those this onnxruntime build
  has (``CPUExecutionProvider`` when none is left).
* session options: the section's ``onnx_session_options`` (MLflow's keys ``intra_op_num_threads``,
  ``inter_op_num_threads``, ``execution_mode``, ``graph_optimization_level``,
  ``extra_session_config``), each overridable by the same key in ``model_config``.
* threads, unless set: ``intra_op_num_threads = usable CPUs // workers`` and
  ``inter_op_num_threads = 1``, where ``workers`` is ``model_config["workers"]``, else the
  ``PACK_SERVE_WORKERS`` environment variable, else 1. N serving processes on one machine thus
  share the CPUs instead of each starting one thread per core.

Predicting (``OnnxPredictor``): a dict of arrays by input name; one array or a DataFrame for a
single-input graph; for a multi-input graph a DataFrame's columns map to inputs by name (a rank-2
input gets its column as an ``(n, 1)`` tensor, skl2onnx's convention). Numeric inputs are cast to
the graph's element types. Returns a dict ``{output name: array}`` of every output (as MLflow), or
of the selected ``output_names``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pack._fs import safe_join
from pack.errors import FlavorError, InvalidInput, InvalidModel, MissingDependency, SchemaError
from pack.flavors import packaging
from pack.flavors.base import SavedFlavor, check_options
from pack.flavors.mlmodel import MLModel
from pack.flavors.schema import ModelSignature, Schema, TensorSpec
from pack.flavors.table import NumericTable
from pack.flavors.threads import declared_workers, threads_per_worker
from pack.types import Params

MODEL_FILE = "model.onnx"
CPU = "CPUExecutionProvider"
SESSION_KEYS = (
    "intra_op_num_threads",
    "inter_op_num_threads",
    "execution_mode",
    "graph_optimization_level",
    "extra_session_config",
)
_ORT_TYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(float16)": "float16",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(int16)": "int16",
    "tensor(int8)": "int8",
    "tensor(uint64)": "uint64",
    "tensor(uint32)": "uint32",
    "tensor(uint16)": "uint16",
    "tensor(uint8)": "uint8",
    "tensor(bool)": "bool",
    "tensor(string)": "object",
}


def _onnx() -> Any:
    try:
        import onnx  # lazy: optional dependency
    except ImportError:
        raise MissingDependency("onnx", "onnx") from None
    return onnx


def _ort() -> Any:
    try:
        import onnxruntime  # lazy: optional dependency
    except ImportError:
        raise MissingDependency("onnxruntime", "onnx") from None
    return onnxruntime


def check_model(model: Any) -> None:
    """Run ``onnx.checker`` on a ModelProto or a file path.

    Raises:
        FlavorError: the graph is not valid ONNX.
    """
    onnx = _onnx()
    try:
        onnx.checker.check_model(str(model) if isinstance(model, Path) else model)
    except onnx.checker.ValidationError as exc:
        raise FlavorError(f"the ONNX model is invalid: {str(exc).strip().splitlines()[0]}") from None


def graph_signature(model: Any) -> ModelSignature | None:
    """The tensors an ONNX graph declares: names, element types, shapes (symbolic dimensions as -1).

    None when an input is not a tensor of known rank; outputs are left out when one is not.
    """
    graph = model.graph
    initialisers = {init.name for init in graph.initializer}
    inputs = [_tensor_spec(value) for value in graph.input if value.name not in initialisers]
    if not inputs or any(spec is None for spec in inputs):
        return None
    outputs = [_tensor_spec(value) for value in graph.output]
    return ModelSignature(
        inputs=Schema(tuple(spec for spec in inputs if spec is not None)),
        outputs=None if any(spec is None for spec in outputs) else Schema(tuple(s for s in outputs if s is not None)),
    )


def _tensor_spec(value: Any) -> TensorSpec | None:
    onnx = _onnx()
    if value.type.WhichOneof("value") != "tensor_type" or not value.type.tensor_type.HasField("shape"):
        return None
    tensor = value.type.tensor_type
    try:
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type)
    except (KeyError, ValueError, TypeError):
        return None
    shape = tuple(dim.dim_value if dim.HasField("dim_value") and dim.dim_value > 0 else -1 for dim in tensor.shape.dim)
    return TensorSpec(dtype="object" if dtype.kind == "O" else dtype.name, shape=shape, name=value.name)


def session_options(saved: Mapping[str, Any], config: Mapping[str, Any]) -> Any:
    """``onnxruntime.SessionOptions`` from the MLmodel's options, the load config and the worker count.

    Raises:
        InvalidInput: an option has an unusable value.
    """
    ort = _ort()
    merged = {**{k: v for k, v in saved.items() if k in SESSION_KEYS}}
    merged.update({k: config[k] for k in SESSION_KEYS if config.get(k) is not None})
    options = ort.SessionOptions()
    try:
        workers = declared_workers(config) or 1
        options.intra_op_num_threads = int(merged.get("intra_op_num_threads") or threads_per_worker(workers))
        options.inter_op_num_threads = int(merged.get("inter_op_num_threads") or 1)
        mode = str(merged.get("execution_mode") or "sequential").upper()
        options.execution_mode = getattr(ort.ExecutionMode, f"ORT_{mode}")
        if merged.get("graph_optimization_level") is not None:
            options.graph_optimization_level = ort.GraphOptimizationLevel(int(merged["graph_optimization_level"]))
        for key, value in dict(merged.get("extra_session_config") or {}).items():
            options.add_session_config_entry(str(key), str(value))
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidInput(f"invalid onnxruntime session option: {exc}") from None
    return options


def usable_providers(requested: Any) -> list[Any]:
    """The requested providers this onnxruntime build has, in order (the CPU provider if none)."""
    available = set(_ort().get_available_providers())
    entries = [requested] if isinstance(requested, str) else list(requested or [])
    usable = [
        tuple(entry) if isinstance(entry, list) else entry
        for entry in entries
        if (entry if isinstance(entry, str) else entry[0]) in available
    ]
    return usable or [CPU]


class OnnxPredictor:
    """Feeds numpy/pandas data to an onnxruntime session by input name."""

    takes_tables = True  # a NumericTable feeds a single-input graph as its array

    def __init__(self, session: Any, output_names: Sequence[str] | None = None) -> None:
        self.session = session
        self._inputs = [(i.name, _ORT_TYPES.get(i.type), list(i.shape)) for i in session.get_inputs()]
        outputs = [o.name for o in session.get_outputs()]
        unknown = [name for name in output_names or () if name not in outputs]
        if unknown:
            raise InvalidModel(f"output_names {unknown} are not outputs of the graph ({outputs})")
        self._outputs = list(output_names or outputs)
        self._bare = output_names is not None and len(self._outputs) == 1

    @property
    def input_names(self) -> list[str]:
        """The graph's input names."""
        return [name for name, _, _ in self._inputs]

    @property
    def output_names(self) -> list[str]:
        """The outputs ``predict`` returns."""
        return list(self._outputs)

    def predict(self, data: Any, params: Params | None = None) -> Any:
        results = self.session.run(self._outputs, self._feeds(data))
        if self._bare:
            return results[0]
        return dict(zip(self._outputs, results, strict=True))

    def _feeds(self, data: Any) -> dict[str, Any]:
        names = self.input_names
        if isinstance(data, NumericTable):
            data = data.values if len(names) == 1 else data.to_frame()
        if isinstance(data, Mapping):
            values = {str(k): v for k, v in data.items()}
        elif hasattr(data, "columns") and len(names) > 1:
            values = {str(col): data[col].to_numpy() for col in data.columns}
        elif len(names) == 1:
            values = {names[0]: data}
        else:
            raise SchemaError(f"Model expects named inputs {names}; send a dict of arrays or a table.")
        missing = [name for name in names if name not in values]
        if missing:
            raise SchemaError(f"Model is missing inputs {missing}.")
        return {name: _feed(values[name], name, dtype, shape) for name, dtype, shape in self._inputs}


def _feed(value: Any, name: str, dtype: str | None, shape: list[Any]) -> Any:
    import numpy as np  # lazy: keeps the module light

    array = value.to_numpy() if hasattr(value, "to_numpy") else np.asarray(value)
    if len(shape) == 2 and array.ndim == 1 and (shape[1] == 1 or not isinstance(shape[1], int)):
        array = array.reshape(-1, 1)
    if dtype is None or array.dtype == dtype:
        return array
    if dtype == "object":
        if array.dtype.kind not in "OUS":
            raise SchemaError(f"Input {name!r}: expected strings, got dtype {array.dtype.name}.")
        return array.astype(object)
    if array.dtype.kind not in "biuf":
        raise SchemaError(f"Input {name!r}: expected dtype {dtype}, got {array.dtype.name}.")
    return array.astype(dtype)


class OnnxFlavor:
    """Implements ``pack.flavors.base.Flavor`` for ONNX."""

    name = "onnx"
    loader_modules = ("mlflow.onnx", "pack.flavors.onnx")
    extra = "onnx"

    def can_save(self, obj: Any) -> bool:
        onnx = sys.modules.get("onnx")
        return onnx is not None and isinstance(obj, onnx.ModelProto)

    def save(self, obj: Any, path: Path, options: Mapping[str, Any]) -> SavedFlavor:
        check_options(self.name, options, ("providers", "onnx_session_options", "output_names"))
        onnx = _onnx()
        if isinstance(obj, (str, os.PathLike)):
            obj = self.read_native(Path(obj))
        if not isinstance(obj, onnx.ModelProto):
            raise FlavorError(f"the onnx flavor saves a ModelProto or .onnx file, not {type(obj).__name__}")
        check_model(obj)
        onnx.save_model(obj, str(path / MODEL_FILE))
        session = dict(options.get("onnx_session_options") or {})
        unknown = sorted(set(session) - set(SESSION_KEYS))
        if unknown:
            raise InvalidInput(f"unknown onnx_session_options {unknown} (known: {', '.join(SESSION_KEYS)})")
        outputs = options.get("output_names")
        graph_outputs = [o.name for o in obj.graph.output]
        if outputs is not None and (not outputs or any(name not in graph_outputs for name in outputs)):
            raise InvalidInput(f"output_names must be outputs of the graph: {graph_outputs}")
        flavor_conf = {
            "onnx_version": onnx.__version__,
            "data": MODEL_FILE,
            "providers": list(options.get("providers") or [CPU]),
            "onnx_session_options": session or None,
        }
        pyfunc_conf: dict[str, Any] = {"loader_module": self.loader_modules[0], "data": MODEL_FILE}
        if outputs is not None:
            pyfunc_conf["output_names"] = list(outputs)
        return SavedFlavor(flavor_conf, pyfunc_conf, ["onnx", "onnxruntime", "numpy"], None)

    def native_signature(self, obj: Any, path: Path) -> ModelSignature | None:
        return graph_signature(_onnx().load(str(path / MODEL_FILE), load_external_data=False))

    def unsafe_content(self, path: Path, model: MLModel) -> list[str]:
        return []  # an ONNX graph holds no code

    def load(self, path: Path, model: MLModel, config: Mapping[str, Any]) -> Any:
        file = self._file(path, model)
        try:
            return _onnx().load(str(file))
        except Exception as exc:
            raise InvalidModel(f"cannot read {file.name}: {type(exc).__name__}: {exc}") from None

    def load_pyfunc(self, path: Path, model: MLModel, config: Mapping[str, Any]) -> OnnxPredictor:
        outputs = (model.pyfunc_conf or {}).get("output_names")
        if outputs is not None and not isinstance(outputs, list):
            raise InvalidModel("python_function output_names must be a list")
        return OnnxPredictor(self._session(path, model, config), outputs)

    def read_native(self, path: Path) -> Any:
        if path.suffix != ".onnx":
            raise FlavorError(f"{path.name}: not an ONNX file (expected .onnx)")
        onnx = _onnx()
        try:
            model = onnx.load(str(path))
        except Exception as exc:
            raise FlavorError(f"{path.name}: unreadable ONNX file ({type(exc).__name__}: {exc})") from None
        check_model(model)
        return model

    def _file(self, path: Path, model: MLModel) -> Path:
        conf = model.flavors.get(self.name) or model.flavor_conf("python_function")
        file = safe_join(path, str(conf.get("data") or MODEL_FILE))
        if not file.is_file():
            raise InvalidModel(f"model file {file.name} is missing")
        return file

    def _session(self, path: Path, model: MLModel, config: Mapping[str, Any]) -> Any:
        ort = _ort()
        conf = model.flavors.get(self.name) or model.flavor_conf("python_function")
        file = self._file(path, model)
        saved_options = conf.get("onnx_session_options") or {}
        if not isinstance(saved_options, Mapping):
            raise InvalidModel("onnx_session_options must be a mapping")
        options = session_options(saved_options, config)
        providers = usable_providers(config.get("providers") or conf.get("providers") or [CPU])
        try:
            return ort.InferenceSession(str(file), sess_options=options, providers=providers)
        except Exception as exc:
            raise InvalidModel(f"onnxruntime cannot load {file.name}: {type(exc).__name__}: {exc}") from None


def save_model(model: Any, path: Any, **kwargs: Any) -> MLModel:
    """``pack.save_model`` with the onnx flavor (MLflow's ``mlflow.onnx.save_model``)."""
    return packaging.save_model(model, path, flavor="onnx", **kwargs)


def load_model(model_uri: Any) -> Any:
    """The ``onnx.ModelProto`` (MLflow's ``mlflow.onnx.load_model``)."""
    return packaging.load_model(model_uri, flavor="onnx")


FLAVOR = OnnxFlavor()

__all__ = [
    "FLAVOR",
    "SESSION_KEYS",
    "OnnxFlavor",
    "OnnxPredictor",
    "check_model",
    "graph_signature",
    "load_model",
    "save_model",
    "session_options",
    "usable_providers",
]
