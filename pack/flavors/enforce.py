"""Signature enforcement at predict time: inputs (columns or tensors) and params.

Rules (MLflow's, made explicit): see ``enforce_columns`` and ``enforce_tensors`` for inputs. Params:
missing ones take their default, unknown ones are ignored with a warning, values convert only safely
(``int`` -> ``double``, ...); violations are one ``SchemaError`` listing them all.

Wire formats (JSON, CSV) carry no numeric widths; the serving codecs cast to the schema's dtypes
before enforcement, as MLflow's scoring server does.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from pack.errors import SchemaError, SchemaWarning
from pack.flavors.casts import Refused, cast_param
from pack.flavors.enforce_columns import enforce_columns
from pack.flavors.enforce_tensors import enforce_tensors
from pack.flavors.schema import ParamSchema, Schema


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
            result[spec.name] = cast_param(spec, given.pop(spec.name))
        except Refused as refused:
            invalid[spec.name] = refused.hint
    if given:
        warnings.warn(f"Ignoring params not in the model's signature: {sorted(given)}", SchemaWarning, stacklevel=3)
    if invalid:
        raise SchemaError(f"Invalid parameters found: {invalid}")
    return result


__all__ = ["enforce_input", "enforce_params"]
