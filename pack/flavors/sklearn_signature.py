"""An input schema from what a fitted scikit-learn estimator carries, for models saved without an example.

* Fit on a DataFrame (``feature_names_in_``): one column per name. The type is what the estimator
  recorded where it recorded one: an encoder's categories (``OneHotEncoder``, ``OrdinalEncoder``,
  also inside a ``ColumnTransformer`` and pipelines) give ``string``, ``long`` or ``double``; every
  other column is ``double``.
* Fit on an array (``n_features_in_`` only): a ``float64`` tensor of shape ``(-1, n_features_in_)``.

Nothing is inferred for estimators that record neither (the model then has no signature).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from pack.flavors.schema import ColSpec, DataType, ModelSignature, Schema, TensorSpec


def estimator_signature(estimator: Any) -> ModelSignature | None:
    """The input signature a fitted estimator implies, or None when it records no input features."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        types = dict(_encoded_column_types(estimator))
        specs = tuple(ColSpec(types.get(str(name), DataType.double), name=str(name)) for name in names)
        return ModelSignature(inputs=Schema(specs))
    count = getattr(estimator, "n_features_in_", None)
    if isinstance(count, (int, np.integer)) and count > 0:
        return ModelSignature(inputs=Schema((TensorSpec(dtype="float64", shape=(-1, int(count))),)))
    return None


def _encoded_column_types(estimator: Any) -> Iterator[tuple[str, DataType]]:
    """``(column, type)`` for the input columns an encoder at the front of the model has categories for."""
    first = _first_step(estimator)
    transformers = getattr(first, "transformers_", None)
    if transformers is not None:  # a fitted ColumnTransformer
        for _name, transformer, columns in transformers:
            if isinstance(columns, (list, tuple, np.ndarray)) and all(isinstance(c, str) for c in columns):
                yield from _encoder_types(_encoder_of(transformer), [str(c) for c in columns])
        return
    names = getattr(first, "feature_names_in_", None)
    if names is not None:
        yield from _encoder_types(_encoder_of(first), [str(n) for n in names])


def _first_step(estimator: Any) -> Any:
    steps = getattr(estimator, "steps", None)
    while steps:
        estimator = steps[0][1]
        steps = getattr(estimator, "steps", None)
    return estimator


def _encoder_of(transformer: Any) -> Any:
    """The first step with ``categories_`` (an encoder, possibly after an imputer), or None."""
    for step in [transformer, *(s for _, s in getattr(transformer, "steps", None) or ())]:
        if getattr(step, "categories_", None) is not None:
            return step
    return None


def _encoder_types(encoder: Any, columns: list[str]) -> Iterator[tuple[str, DataType]]:
    categories = getattr(encoder, "categories_", None)
    if categories is None or len(categories) != len(columns):
        return
    for column, values in zip(columns, categories, strict=True):
        kind = np.asarray(values).dtype.kind
        if kind in "OUS":
            yield column, DataType.string
        elif kind in "iu":
            yield column, DataType.long
        elif kind == "b":
            yield column, DataType.boolean


__all__ = ["estimator_signature"]
