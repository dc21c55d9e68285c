"""Input examples: ``input_example.json`` and ``serving_input_example.json`` (MLflow's layout).

An example is data, or a ``(data, params)`` tuple. DataFrames are stored in pandas ``split`` orient
without the index, arrays as nested lists (or an object of them), anything else as plain JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from pack._fs import safe_join
from pack.errors import InvalidInput, InvalidModel
from pack.flavors.mlmodel import MLModel
from pack.flavors.payloads import dumps, jsonable, parse_inputs, parse_split

EXAMPLE_FILE = "input_example.json"
SERVING_EXAMPLE_FILE = "serving_input_example.json"


def split_params(example: Any) -> tuple[Any, dict[str, Any] | None]:
    """Separate ``(data, params)`` tuples into their parts."""
    if isinstance(example, tuple):
        if len(example) != 2 or not isinstance(example[1], Mapping):
            raise InvalidInput("an input example tuple must be (data, params dict)")
        return example[0], dict(example[1])
    return example, None


def save_input_example(model_dir: Path, example: Any) -> dict[str, Any]:
    """Write the example files; return the ``saved_input_example_info`` mapping."""
    data, params = split_params(example)
    info: dict[str, Any] = {"artifact_path": EXAMPLE_FILE}
    if isinstance(data, pd.DataFrame):
        stored: Any = {"columns": [str(c) for c in data.columns], "data": jsonable(data.to_numpy().tolist())}
        serving: dict[str, Any] = {"dataframe_split": stored}
        info.update(type="dataframe", pandas_orient="split")
    elif isinstance(data, np.ndarray) or (
        isinstance(data, Mapping) and data and all(isinstance(v, np.ndarray) for v in data.values())
    ):
        stored = jsonable(data.tolist()) if isinstance(data, np.ndarray) else {k: v.tolist() for k, v in data.items()}
        serving = {"inputs": stored}
        info["type"] = "ndarray"
    else:
        stored = jsonable(data)
        serving = {"inputs": stored}
        info["type"] = "json_object"
    if params is not None:
        stored = {"inputs": stored, "params": jsonable(params)}
        serving["params"] = jsonable(params)
        info["params"] = "true"
    (model_dir / EXAMPLE_FILE).write_bytes(dumps(stored))
    (model_dir / SERVING_EXAMPLE_FILE).write_bytes(
        orjson.dumps(jsonable(serving), option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY)
    )
    info["serving_input_path"] = SERVING_EXAMPLE_FILE
    return info


def load_input_example(model_dir: Path, model: MLModel) -> tuple[Any, dict[str, Any] | None] | None:
    """Read the saved example back as ``(data, params)``, or None if the model has none.

    Raises:
        InvalidModel: the example file is missing or malformed.
    """
    info = model.saved_input_example_info
    if not info:
        return None
    path = safe_join(model_dir, str(info.get("artifact_path", EXAMPLE_FILE)))
    try:
        stored = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise InvalidModel(f"cannot read the input example {path.name}: {exc}") from None
    params = None
    if info.get("params"):
        if not isinstance(stored, Mapping) or "inputs" not in stored:
            raise InvalidModel("input example with params must hold 'inputs' and 'params'")
        stored, params = stored["inputs"], stored.get("params")
    schema = model.signature.inputs if model.signature is not None else None
    kind = info.get("type")
    try:
        if kind == "dataframe":
            return parse_split(stored, schema), params
        if kind == "ndarray":
            return parse_inputs(stored, schema if schema is not None and schema.is_tensor else None), params
    except InvalidInput as exc:
        raise InvalidModel(f"malformed input example: {exc}") from None
    return stored, params


def load_serving_example(model_dir: Path, model: MLModel) -> bytes | None:
    """The ``serving_input_example.json`` bytes (a ready ``/invocations`` body), if saved."""
    info = model.saved_input_example_info or {}
    name = info.get("serving_input_path")
    if not name:
        return None
    path = safe_join(model_dir, str(name))
    return path.read_bytes() if path.is_file() else None


__all__ = [
    "EXAMPLE_FILE",
    "SERVING_EXAMPLE_FILE",
    "load_input_example",
    "load_serving_example",
    "save_input_example",
    "split_params",
]
