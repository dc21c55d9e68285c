"""Shared type aliases and Protocols."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Protocol, Union, runtime_checkable

PathLike = Union[str, "os.PathLike[str]"]
JSONValue = Union[None, bool, int, float, str, list["JSONValue"], dict[str, "JSONValue"]]
Params = Mapping[str, Any]


@runtime_checkable
class Predictor(Protocol):
    """Anything that predicts: a loaded flavor, a pyfunc model, a batching wrapper."""

    def predict(self, data: Any, params: Params | None = None) -> Any:
        """Return predictions for ``data``; ``params`` are inference-time parameters."""
        ...


__all__ = ["JSONValue", "Params", "PathLike", "Predictor"]
