"""Signature enforcement at predict time: inputs (columns or tensors) and params.

Rules (MLflow's, made explicit): see ``enforce_columns`` and ``enforce_tensors`` for inputs. Params:
missing ones take their default, unknown ones are ignored with a warning, values convert only safely
(``int`` -> ``double``, ...); violations are one ``SchemaError`` listing them all.

Wire formats (JSON, CSV) carry no numeric widths; the serving codecs cast to the schema's dtypes
before enforcement, as MLflow's scoring server does.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from pack.errors import SchemaError, SchemaWarning
from pack.flavors.casts import INT32, Refused
from pack.flavors.enforce_columns import enforce_columns
from pack.flavors.enforce_tensors import enforce_tensors
from pack.flavors.schema import DataType, ParamSchema, ParamSpec, Schema


def enforce_input(schema: Schema, data: Any) -> Any:
    """Check and convert ``data`` to what ``schema`` describes.

    Column schemas return a DataFrame with exactly the schema's (present) columns in order (a
    ``NumericTable`` that already matches stays one); tensor schemas return an ndarray or a dict of
    ndarrays, matching the input's container.

    Raises:
        SchemaError: the data violates the schema.
    """
    if schema.is_tensor:
        return enforce_tensors(schema, data)
    return enforce_columns(schema, data)


def enforce_params(schema: ParamSchema | None, params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Validate ``params`` against ``schema`` and fill in defaults.

    Raises:
        SchemaError: one or more params have invalid values (all are listed).
    """
    if schema is None:
        if params:
            warnings.warn(
                f"The model has no params schema; ignoring params {sorted(params)}",
                SchemaWarning,
                stacklevel=3,
            )
        return None
    given = dict(params or {})
    result: dict[str, Any] = {}
    invalid: dict[str, str] = {}
    for spec in schema:
        if spec.name not in given:
            result[spec.name] = spec.default
            continue
        try:
            result[spec.name] = _convert_param(spec, given.pop(spec.name))
        except Refused as refused:
            invalid[spec.name] = refused.hint
    if given:
        warnings.warn(f"Ignoring params not in the model's signature: {sorted(given)}", SchemaWarning, stacklevel=3)
    if invalid:
        raise SchemaError(f"Invalid parameters found: {invalid}")
    return result


def _convert_param(spec: ParamSpec, value: Any) -> Any:
    if spec.shape is None:
        if isinstance(value, (list, tuple, np.ndarray)):
            raise Refused(f"expected a scalar {spec.type.value}, got a list")
        return _convert_scalar(spec.type, value)
    if not isinstance(value, (list, tuple, np.ndarray)):
        raise Refused(f"expected a list of {spec.type.value}, got {type(value).__name__}")
    return [_convert_scalar(spec.type, item) for item in value]


def _convert_scalar(kind: DataType, value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    ok: Any
    if kind is DataType.boolean:
        ok = isinstance(value, bool)
    elif kind in (DataType.integer, DataType.long):
        ok = isinstance(value, int) and not isinstance(value, bool)
        if ok and kind is DataType.integer and not INT32.min <= value <= INT32.max:
            raise Refused(f"value {value} does not fit in integer")
    elif kind in (DataType.float, DataType.double):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif kind is DataType.string:
        ok = isinstance(value, str)
    elif kind is DataType.binary:
        if isinstance(value, str):
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise Refused("expected base64-encoded binary") from None
        ok = isinstance(value, bytes)
    else:  # datetime
        if isinstance(value, str):
            try:
                return dt.datetime.fromisoformat(value)
            except ValueError:
                raise Refused(f"expected an ISO-8601 datetime, got {value!r}") from None
        ok = isinstance(value, dt.datetime)
    if not ok:
        raise Refused(f"expected {kind.value}, got {type(value).__name__} {value!r}")
    return value


__all__ = ["enforce_input", "enforce_params"]
