"""Running a PyTorch module on numpy/pandas data: inputs to tensors, outputs back to numpy.

``TorchPredictor`` takes numpy arrays (one input), dicts of arrays (inputs by the name of
``forward``'s parameters), DataFrames of numeric columns (one input); floating inputs are cast to
the module's floating dtype; it runs under ``torch.inference_mode()`` and returns a numpy array, or a
dict of arrays when the module returns a dict or a tuple (``output_0``, ``output_1``, ...).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from pack.errors import MissingDependency, SchemaError
from pack.types import Params


def torch_module() -> Any:
    """The ``torch`` module, imported on first use."""
    try:
        import torch  # lazy: optional dependency
    except ImportError:
        raise MissingDependency("torch", "pytorch") from None
    return torch


def torch_requirement() -> str:
    """``torch==X.Y.Z`` for the running torch, without a local label (``+cpu`` is not on PyPI)."""
    return f"torch=={torch_module().__version__.split('+', 1)[0]}"


def float_dtype(module: Any) -> Any:
    """The dtype of the module's first floating parameter or buffer (float32 when it has none)."""
    torch = torch_module()
    for tensor in [*module.parameters(), *module.buffers()]:
        if tensor.is_floating_point():
            return tensor.dtype
    return torch.float32


def to_tensors(data: Any, dtype: Any, device: Any) -> Any:
    """A tensor, or a dict of tensors, from arrays, dicts of arrays, DataFrames or lists.

    Raises:
        SchemaError: the data is not numeric.
    """
    torch = torch_module()
    if isinstance(data, Mapping):
        return {str(name): _tensor(torch, value, dtype, device, str(name)) for name, value in data.items()}
    if hasattr(data, "to_numpy") and hasattr(data, "columns"):  # a DataFrame: one input of its columns
        data = data.to_numpy()
    return _tensor(torch, data, dtype, device, "input")


def _tensor(torch: Any, value: Any, dtype: Any, device: Any, name: str) -> Any:
    import numpy as np  # lazy: keeps the module light

    if isinstance(value, torch.Tensor):
        tensor = value
    else:
        array = value if isinstance(value, np.ndarray) else np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise SchemaError(f"Input {name!r}: PyTorch models take numeric arrays, got dtype {array.dtype.name}.")
        if not array.flags.writeable or not array.flags.c_contiguous:
            array = np.ascontiguousarray(array).copy()
        tensor = torch.from_numpy(array)
    if tensor.is_floating_point() and tensor.dtype != dtype:
        tensor = tensor.to(dtype)
    return tensor.to(device)


def to_numpy(output: Any) -> Any:
    """Tensors become numpy arrays; dicts and tuples of them become dicts of arrays."""
    torch = torch_module()
    if isinstance(output, torch.Tensor):
        tensor = output.detach().cpu()
        if tensor.dtype in (torch.bfloat16, torch.float16):
            tensor = tensor.float()
        return tensor.numpy()
    if isinstance(output, Mapping):
        return {str(name): to_numpy(value) for name, value in output.items()}
    if isinstance(output, (tuple, list)):
        fields = getattr(output, "_fields", None) or [f"output_{i}" for i in range(len(output))]
        return {str(name): to_numpy(value) for name, value in zip(fields, output, strict=True)}
    return output


class TorchPredictor:
    """Runs a loaded module under ``torch.inference_mode()`` on numpy/pandas input."""

    def __init__(self, module: Any, device: Any = "cpu", keyword_inputs: bool = True) -> None:
        self.module = module
        self.device = device
        self._dtype = float_dtype(module)
        self._keyword_inputs = keyword_inputs
        self._names = _forward_names(module)

    def predict(self, data: Any, params: Params | None = None) -> Any:
        torch = torch_module()
        inputs = to_tensors(data, self._dtype, self.device)
        extra = dict(params or {})
        with torch.inference_mode():
            if not isinstance(inputs, dict):
                output = self.module(inputs, **extra)
            elif self._keyword_inputs:
                output = self.module(**inputs, **extra)
            else:
                missing = [name for name in self._names if name not in inputs]
                if missing:
                    raise SchemaError(f"Model is missing inputs {missing}.")
                output = self.module(*(inputs[name] for name in self._names), **extra)
        return to_numpy(output)


def _forward_names(module: Any) -> list[str]:
    try:
        parameters = inspect.signature(module.forward).parameters.values()
    except (TypeError, ValueError, AttributeError):
        return []
    return [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


__all__ = ["TorchPredictor", "float_dtype", "to_numpy", "to_tensors", "torch_module", "torch_requirement"]
