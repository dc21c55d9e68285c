from __future__ import annotations

import json

import pytest

from pack.errors import InvalidModel
from pack.flavors.schema import ColSpec, DataType, ModelSignature, ParamSchema, ParamSpec, Schema, TensorSpec


def test_column_schema_json_is_mlflows():
    schema = Schema((ColSpec(DataType.double, "x"), ColSpec(DataType.string, "s", required=False)))
    assert json.loads(schema.to_json()) == [
        {"type": "double", "name": "x", "required": True},
        {"type": "string", "name": "s", "required": False},
    ]
    assert Schema.from_json(schema.to_json()) == schema


def test_tensor_and_param_json():
    tensor = Schema((TensorSpec("float32", (-1, 28, 28), "image"),))
    assert json.loads(tensor.to_json()) == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 28, 28]}, "name": "image"}
    ]
    params = ParamSchema((ParamSpec("t", DataType.double, 0.5), ParamSpec("stops", DataType.string, ["a"], (-1,))))
    assert json.loads(params.to_json())[0] == {"name": "t", "default": 0.5, "shape": None, "type": "double"}
    signature = ModelSignature(inputs=tensor, params=params)
    assert ModelSignature.from_dict(signature.to_dict()) == signature


def test_composite_types_survive_a_round_trip():
    raw = [
        {"type": "array", "items": {"type": "string"}, "name": "tags", "required": True},
        {"type": "map", "values": {"type": "long"}, "name": "counts", "required": False},
    ]
    schema = Schema.from_json(json.dumps(raw))
    assert [spec.type_name for spec in schema] == ["array", "map"]
    assert json.loads(schema.to_json()) == raw


@pytest.mark.parametrize(
    "raw",
    [
        [
            {"type": "double", "name": "a"},
            {"type": "tensor", "tensor-spec": {"dtype": "f", "shape": [1]}, "name": "b"},
        ],
        [{"type": "double", "name": "a"}, {"type": "double", "name": "a"}],
        [{"type": "double", "name": "a"}, {"type": "double"}],
        [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-2]}}],
        {"type": "double"},
    ],
)
def test_invalid_schemas_are_refused(raw):
    with pytest.raises(InvalidModel):
        Schema.from_json(json.dumps(raw))


def test_invalid_param_schema():
    with pytest.raises(InvalidModel, match="shape"):
        ParamSchema.from_json('[{"name": "t", "type": "double", "default": 1, "shape": [2]}]')
    with pytest.raises(InvalidModel, match="param type"):
        ParamSchema.from_json('[{"name": "t", "type": "complex", "default": 1}]')
