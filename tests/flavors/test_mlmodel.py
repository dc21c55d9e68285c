from __future__ import annotations

import pytest

from pack.errors import InvalidModel, NotFound
from pack.flavors.mlmodel import MLModel
from pack.flavors.schema import ColSpec, DataType, ModelSignature, Schema

# MLflow 3.17.2's MLmodel for an sklearn model (research/mlflow.md section 1.6).
MLFLOW_MLMODEL = """\
artifact_path: /abs/mlruns/0/models/m-eafe/artifacts
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.skops
    predict_fn: predict
    python_version: 3.11.7
  sklearn:
    code: null
    pickled_model: model.skops
    serialization_format: skops
    sklearn_version: 1.9.1
    skops_trusted_types: null
is_signature_from_type_hint: false
mlflow_version: 3.17.2
model_id: m-eafe2c65af15438f859d3b69841565e4
model_size_bytes: 11544
model_uuid: m-eafe2c65af15438f859d3b69841565e4
prompts: null
run_id: da3b3de312a34c01a8b134e80041574c
saved_input_example_info:
  artifact_path: input_example.json
  pandas_orient: split
  serving_input_path: serving_input_example.json
  type: dataframe
signature:
  inputs: '[{"type": "double", "name": "sepal length (cm)", "required": true}]'
  outputs: '[{"type": "long", "required": true}]'
  params: null
type_hint_from_example: false
utc_time_created: '2026-11-29 12:17:07.716712'
"""


def test_reads_mlflow_file_and_keeps_unknown_keys():
    model = MLModel.from_yaml(MLFLOW_MLMODEL)
    assert model.pyfunc_conf["loader_module"] == "mlflow.sklearn"
    assert model.run_id == "da3b3de312a34c01a8b134e80041574c"
    assert model.signature.inputs.specs == (ColSpec(DataType.double, "sepal length (cm)"),)
    assert model.extra["mlflow_version"] == "3.17.2"
    assert model.extra["is_signature_from_type_hint"] is False
    again = MLModel.from_yaml(model.to_yaml())
    assert again == model
    assert again.to_dict() == model.to_dict()


def test_round_trip_is_byte_stable(tmp_path):
    model = MLModel(
        flavors={"python_function": {"loader_module": "mlflow.sklearn"}},
        signature=ModelSignature(inputs=Schema((ColSpec(DataType.long, "x"),))),
        metadata={"team": "fraud"},
        extra={"future_key": {"a": 1}},
    )
    model.save(tmp_path)
    text = (tmp_path / "MLmodel").read_text()
    assert MLModel.load(tmp_path).to_yaml() == text
    assert "pack_version:" in text and "future_key:" in text
    keys = [line.split(":")[0] for line in text.splitlines() if line and not line.startswith(" ")]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "mapping"),
        ("model_uuid: x\n", "flavors"),
        ("flavors: {}\n", "flavors"),
        ("flavors:\n  sklearn: 3\n", "mapping"),
        ("flavors: [\n", "YAML"),
        ("flavors:\n  x: {}\nsignature:\n  inputs: 'not json'\n", "JSON"),
        ('flavors:\n  x: {}\nsignature:\n  inputs: \'[{"type": "quaternion"}]\'\n', "unknown column type"),
        ('flavors:\n  x: {}\nsignature:\n  inputs: \'[{"type": "tensor"}]\'\n', "tensor"),
        ("flavors:\n  x: {}\nsaved_input_example_info: 3\n", "mapping"),
        ("!!python/object/apply:os.system ['true']\n", "YAML"),
    ],
)
def test_malformed_files_are_refused(text, message):
    with pytest.raises(InvalidModel, match=message):
        MLModel.from_yaml(text)


def test_missing_file(tmp_path):
    with pytest.raises(NotFound):
        MLModel.load(tmp_path)
