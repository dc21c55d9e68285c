"""The PyTorch flavor: ``torch.export`` programs by default, TorchScript or a pickled module on request.

Formats (``serialization_format``), in MLflow's layout (``data/`` beside the MLmodel, a ``pytorch``
section, ``loader_module: mlflow.pytorch``), so MLflow loads what pack saves and the other way round:

* ``pt2`` (default): ``data/model.pt2``, the module exported with ``torch.export`` on the input
  example (required), the batch dimension left dynamic. Loads without the model's class. Before
  loading, the archive is checked for pickled records (``torch_archive``); one that has any loads
  only after an ``UnsafeFormatWarning``.
* ``torchscript``: ``data/model.pth`` written by ``torch.jit.save`` (the module is scripted unless it
  is already a ``ScriptModule``). Loads without the model's class; MLflow reads it as its ``pickle``
  format, which recognises TorchScript archives. TorchScript is deprecated by PyTorch 2.10+.
* ``pickle``: ``data/model.pth`` + ``data/pickle_module_info.txt``, the whole module pickled with
  cloudpickle. Needs the class at load time and runs code from the file: loading warns with
  ``UnsafeFormatWarning``.

Loading: on the CPU unless ``model_config={"device": "cuda:0"}`` (or another torch device) asks.
When a worker count is declared (``model_config["workers"]`` or ``PACK_SERVE_WORKERS``), the
process's torch intra-op threads are set to ``usable CPUs // workers``.
Predicting: ``pack.flavors.torch_predictor.TorchPredictor``.
"""

from __future__ import annotations

import contextlib
import pickle
import sys
import types
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pack._fs import safe_join
from pack.errors import (
    FlavorError,
    InvalidInput,
    InvalidModel,
    UnsafeFormatWarning,
)
from pack.flavors import packaging
from pack.flavors.base import EXAMPLE_OPTION, SavedFlavor, check_options
from pack.flavors.environment import distributions_for_modules
from pack.flavors.mlmodel import MLModel
from pack.flavors.threads import declared_workers, threads_per_worker
from pack.flavors.torch_archive import pickled_records
from pack.flavors.torch_predictor import (
    TorchPredictor,
    float_dtype,
    to_tensors,
    torch_module,
    torch_requirement,
)

FORMATS = ("pt2", "torchscript", "pickle")
DATA_DIR = "data"
PT2_FILE = "model.pt2"
PTH_FILE = "model.pth"
PICKLE_INFO_FILE = "pickle_module_info.txt"
MLFLOW_PICKLE_MODULE = "mlflow.pytorch.pickle_module"
# pickle modules whose files the standard unpickler reads (MLflow's is cloudpickle + pickle.Unpickler)
_PICKLE_MODULES = (MLFLOW_PICKLE_MODULE, "cloudpickle", "pickle")
NATIVE_SUFFIXES = (".pt2", ".pt", ".pth")


class PyTorchFlavor:
    """Implements ``pack.flavors.base.Flavor`` for PyTorch."""

    name = "pytorch"
    loader_modules = ("mlflow.pytorch", "pack.flavors.pytorch")
    extra = "pytorch"
    uses_input_example = True

    def can_save(self, obj: Any) -> bool:
        torch = sys.modules.get("torch")
        if torch is None:
            return False
        return isinstance(obj, (torch.nn.Module, torch.export.ExportedProgram))

    def save(self, obj: Any, path: Path, options: Mapping[str, Any]) -> SavedFlavor:
        check_options(self.name, options, ("serialization_format", EXAMPLE_OPTION))
        torch = torch_module()
        is_program = isinstance(obj, torch.export.ExportedProgram)
        if not (is_program or isinstance(obj, torch.nn.Module)):
            raise FlavorError(f"the pytorch flavor saves torch.nn.Module objects, not {type(obj).__name__}")
        is_script = isinstance(obj, torch.jit.ScriptModule)
        default = "pt2" if is_program or not is_script else "torchscript"
        fmt = options.get("serialization_format") or default
        if fmt not in FORMATS:
            raise InvalidInput(f"serialization_format must be one of {', '.join(FORMATS)}, got {fmt!r}")
        if (is_program and fmt != "pt2") or (is_script and fmt == "pt2"):
            raise InvalidInput(f"a {type(obj).__name__} can only be saved as {default}")
        data = path / DATA_DIR
        data.mkdir()
        requirements = [torch_requirement(), "numpy"]
        if fmt == "pt2":
            program = obj if is_program else export(obj, options.get(EXAMPLE_OPTION))
            torch.export.save(program, data / PT2_FILE)
        else:
            (data / PICKLE_INFO_FILE).write_text(MLFLOW_PICKLE_MODULE, encoding="utf-8")
            if fmt == "torchscript":
                torch.jit.save(obj if is_script else _script(torch, obj), data / PTH_FILE)
            else:
                torch.save(obj, data / PTH_FILE, pickle_module=_cloudpickle_module())
                requirements += ["cloudpickle", *distributions_for_modules(_module_names(obj))]
        flavor_conf = {
            "model_data": DATA_DIR,
            "pytorch_version": str(torch.__version__),
            "serialization_format": fmt,
        }
        pyfunc_conf = {
            "loader_module": self.loader_modules[0],
            "data": DATA_DIR,
            "pickle_module_name": MLFLOW_PICKLE_MODULE,
            "model_config": {"device": None},
        }
        # predictor None: the signature is inferred from the files just written, which also checks them
        return SavedFlavor(flavor_conf, pyfunc_conf, requirements, predictor=None)

    def unsafe_content(self, path: Path, model: MLModel) -> list[str]:
        data, fmt = _data_and_format(path, model)
        if fmt == "pickle":
            return [f"{PTH_FILE} is a pickle file"]
        records = pickled_records(data / PT2_FILE) if fmt == "pt2" and (data / PT2_FILE).is_file() else []
        return [f"{PT2_FILE} holds pickled records ({', '.join(records[:3])})"] if records else []

    def load(self, path: Path, model: MLModel, config: Mapping[str, Any]) -> Any:
        return self._load(path, model, config)[0]

    def load_pyfunc(self, path: Path, model: MLModel, config: Mapping[str, Any]) -> TorchPredictor:
        workers = declared_workers(config)
        if workers is not None:  # a serving process: share the CPUs with the other workers
            torch_module().set_num_threads(threads_per_worker(workers))
        module, device, keyword_inputs = self._load(path, model, config)
        return TorchPredictor(module, device, keyword_inputs)

    def read_native(self, path: Path) -> Any:
        if path.suffix not in NATIVE_SUFFIXES:
            raise FlavorError(f"{path.name}: not a PyTorch model file (expected {', '.join(NATIVE_SUFFIXES)})")
        torch = torch_module()
        try:
            if path.suffix == ".pt2":
                return _load_program(torch, path, warn=True)
            if is_torchscript(path):
                return torch.jit.load(path, map_location="cpu")
            obj = _unpickle(torch, path, "cpu", warn=True)
        except (FlavorError, InvalidModel) as exc:
            raise FlavorError(str(exc)) from None
        except Warning:
            raise
        except Exception as exc:
            raise FlavorError(f"{path.name}: unreadable PyTorch file ({type(exc).__name__}: {exc})") from None
        if not isinstance(obj, torch.nn.Module):
            raise FlavorError(
                f"{path.name} holds a {type(obj).__name__}, not a module (a state_dict needs its model "
                "class: load it into the module and save the module)"
            )
        return obj

    def _load(self, path: Path, model: MLModel, config: Mapping[str, Any]) -> tuple[Any, Any, bool]:
        torch = torch_module()
        data, fmt = _data_and_format(path, model)
        defaults = (model.pyfunc_conf or {}).get("model_config") or {}
        device = device_for(config.get("device") or defaults.get("device") or "cpu")
        try:
            if fmt == "pt2":
                program = _load_program(torch, data / PT2_FILE)
                if device.type != "cpu":
                    program = torch.export.passes.move_to_device_pass(program, device)
                keyword_inputs = _exported_with_keywords(program)
                return program.module(), device, keyword_inputs
            if fmt == "torchscript":
                module = torch.jit.load(data / PTH_FILE, map_location=device)
            elif fmt == "pickle":
                module = _unpickle(torch, data / PTH_FILE, device, _pickle_module_name(data))
            else:
                raise InvalidModel(f"unknown pytorch serialization_format {fmt!r}")
        except (InvalidModel, InvalidInput, Warning):  # a warning raised as an error stops the load
            raise
        except Exception as exc:
            raise InvalidModel(f"cannot load the {fmt} PyTorch model: {type(exc).__name__}: {exc}") from None
        module.eval()
        return module, device, True


def _exported_with_keywords(program: Any) -> bool:
    """True when the program was exported on keyword inputs (a dict example)."""
    spec = program.call_spec.in_spec
    kwargs_spec = spec.child(1) if hasattr(spec, "child") else spec.children_specs[1]
    return bool(kwargs_spec.context)


def device_for(name: Any) -> Any:
    """A ``torch.device`` that exists on this machine.

    Raises:
        InvalidInput: the name is not a device, or the device is not available.
    """
    torch = torch_module()
    try:
        device = torch.device(str(name))
    except (RuntimeError, ValueError):
        raise InvalidInput(f"invalid torch device {name!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InvalidInput(f"device {name!r} is not available: this torch build or machine has no CUDA")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise InvalidInput(f"device {name!r} is not available on this machine")
    return device


def export(module: Any, example: Any) -> Any:
    """``torch.export`` the module on an example (array, dict of arrays or DataFrame), batch dim dynamic.

    Raises:
        InvalidInput: no example was given.
        FlavorError: torch.export cannot capture the module.
    """
    torch = torch_module()
    if example is None:
        raise InvalidInput(
            "the pt2 format exports the module on an input example: pass input_example=... "
            "(or serialization_format='torchscript' or 'pickle')"
        )
    tensors = to_tensors(example, float_dtype(module), "cpu")
    named = tensors if isinstance(tensors, dict) else {"input": tensors}
    if all(t.dim() >= 1 and t.shape[0] == 1 for t in named.values()):
        # torch.export turns a dimension of size 1 into a constant: export on two rows instead
        named = {name: torch.cat([t, t]) for name, t in named.items()}
    auto = torch.export.Dim.AUTO
    shapes = {name: ({0: auto} if t.dim() >= 1 else None) for name, t in named.items()}
    args: tuple[Any, ...]
    dynamic: Any
    if isinstance(tensors, dict):
        args, kwargs, dynamic = (), named, shapes
    else:
        args, kwargs, dynamic = (named["input"],), {}, (shapes["input"],)
    try:
        with _eval_mode(module):
            return torch.export.export(module, args, kwargs, dynamic_shapes=dynamic)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise FlavorError(
            f"torch.export cannot export this module ({type(exc).__name__}: {first}); pass "
            "serialization_format='torchscript' or 'pickle'"
        ) from exc


@contextlib.contextmanager
def _eval_mode(module: Any) -> Iterator[None]:
    """Export in inference mode without leaving the caller's module changed."""
    modes = {sub: sub.training for sub in module.modules()}
    module.eval()
    try:
        yield
    finally:
        for sub, training in modes.items():
            sub.training = training


def _script(torch: Any, module: Any) -> Any:
    try:
        with _eval_mode(module):
            return torch.jit.script(module)
    except Exception as exc:
        raise FlavorError(
            f"torch.jit.script cannot compile this module ({type(exc).__name__}); trace it yourself "
            "(torch.jit.trace) and save the ScriptModule, or use the default pt2 format"
        ) from exc


def _data_and_format(path: Path, model: MLModel) -> tuple[Path, str]:
    """The model's data directory and its serialization format (sniffed for MLflow's models)."""
    conf = model.flavors.get("pytorch") or model.flavor_conf("python_function")
    data = safe_join(path, str(conf.get("model_data") or conf.get("data") or DATA_DIR))
    return data, str(conf.get("serialization_format") or _sniff_format(data))


def _load_program(torch: Any, file: Path, *, warn: bool = False) -> Any:
    """Load a ``.pt2`` archive; ``warn`` for files outside a model directory (``pack.flavors.safety`` checks those)."""
    if not file.is_file():
        raise InvalidModel(f"model file {file.name} is missing")
    unsafe = pickled_records(file) if warn else []
    if unsafe:
        warnings.warn(
            f"{file.name} holds pickled records ({', '.join(unsafe[:3])}): loading it runs code from "
            "the file; load only models you trust",
            UnsafeFormatWarning,
            stacklevel=5,
        )
    return torch.export.load(file)


def is_torchscript(file: Path) -> bool:
    """True for a TorchScript archive (what ``torch.jit.save`` writes)."""
    try:
        with zipfile.ZipFile(file) as archive:
            return any(name.endswith("/constants.pkl") for name in archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def _sniff_format(data: Path) -> str:
    """The format of an MLflow-saved model, which does not record it."""
    if (data / PTH_FILE).is_file():
        return "torchscript" if is_torchscript(data / PTH_FILE) else "pickle"
    if (data / PT2_FILE).is_file():
        return "pt2"
    raise InvalidModel(f"no {PTH_FILE} or {PT2_FILE} in the model's {data.name}/ directory")


def _pickle_module_name(data: Path) -> str:
    info = data / PICKLE_INFO_FILE
    return info.read_text(encoding="utf-8").strip() if info.is_file() else "pickle"


def _unpickle(torch: Any, file: Path, device: Any, pickle_module: str = "pickle", *, warn: bool = False) -> Any:
    if not file.is_file():
        raise InvalidModel(f"model file {file.name} is missing")
    if pickle_module not in _PICKLE_MODULES:
        raise InvalidModel(
            f"{file.name} was pickled with {pickle_module!r}; pack reads only pickle and cloudpickle files"
        )
    if warn:
        warnings.warn(
            f"loading {file.name} with pickle: this runs code from the file; load only models you trust",
            UnsafeFormatWarning,
            stacklevel=5,
        )
    return torch.load(file, map_location=device, weights_only=False, pickle_module=pickle)


def _cloudpickle_module() -> types.ModuleType:
    """A ``pickle_module`` for ``torch.save`` that pickles with cloudpickle (classes by value)."""
    import cloudpickle  # lazy: only the pickle format needs it

    module = types.ModuleType("pack_torch_cloudpickle")
    module.Pickler = cloudpickle.CloudPickler  # type: ignore[attr-defined]
    module.Unpickler = pickle.Unpickler  # type: ignore[attr-defined]
    module.load = pickle.load  # type: ignore[attr-defined]
    module.dump = cloudpickle.dump  # type: ignore[attr-defined]
    return module


def _module_names(module: Any) -> set[str]:
    return {type(sub).__module__ for sub in module.modules()}


def save_model(model: Any, path: Any, **kwargs: Any) -> MLModel:
    """``pack.save_model`` with the pytorch flavor (MLflow's ``mlflow.pytorch.save_model``)."""
    return packaging.save_model(model, path, flavor="pytorch", **kwargs)


def load_model(model_uri: Any, *, device: str | None = None) -> Any:
    """Load the module (MLflow's ``mlflow.pytorch.load_model``); pt2 models give a ``GraphModule``."""
    return packaging.load_model(model_uri, flavor="pytorch", model_config={"device": device})


FLAVOR = PyTorchFlavor()

__all__ = [
    "FLAVOR",
    "FORMATS",
    "PyTorchFlavor",
    "device_for",
    "export",
    "is_torchscript",
    "load_model",
    "save_model",
]
