from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import pack
import pack.pyfunc
from pack.errors import FlavorError, InvalidModel, ModelError, SchemaError, UnsafeFormatWarning
from pack.flavors.mlmodel import MLModel

MODULE = textwrap.dedent(
    """
    import json
    import pack.pyfunc

    class Scaler(pack.pyfunc.PythonModel):
        def load_context(self, context):
            with open(context.artifacts["weights"]) as f:
                self.weights = json.load(f)
            self.offset = context.model_config.get("offset", 0.0)

        def predict(self, context, model_input, params=None):
            factor = (params or {}).get("factor", 1.0)
            out = model_input["x"] * self.weights["scale"] * factor + self.offset
            if (out < 0).any():
                raise ValueError("negative output")
            return out
    """
)


@pytest.fixture
def scaler_module(tmp_path, monkeypatch):
    source = tmp_path / "src" / "scaler_model.py"
    source.parent.mkdir()
    source.write_text(MODULE)
    (tmp_path / "weights.json").write_text('{"scale": 2.0}')
    monkeypatch.syspath_prepend(str(source.parent))
    import scaler_model

    yield source, tmp_path / "weights.json", scaler_model
    sys.modules.pop("scaler_model", None)


def test_custom_model_with_artifacts_code_and_params(tmp_path, scaler_module):
    source, weights, module = scaler_module
    example = (pd.DataFrame({"x": [1.0, 2.0]}), {"factor": 1.0})
    saved = pack.pyfunc.save_model(
        tmp_path / "m",
        python_model=module.Scaler(),
        artifacts={"weights": str(weights)},
        code_paths=[source],
        input_example=example,
    )
    conf = saved.flavors["python_function"]
    assert conf["loader_module"] == "mlflow.pyfunc.model"
    assert conf["artifacts"] == {"weights": {"path": "artifacts/weights", "uri": "weights.json"}}
    assert conf["code"] == "code"
    assert [p.name for p in saved.signature.params] == ["factor"]
    with pytest.warns(UnsafeFormatWarning):
        model = pack.pyfunc.load_model(tmp_path / "m", model_config={"offset": 1.0})
    assert model.predict(pd.DataFrame({"x": [1.0, 3.0]})).tolist() == [3.0, 7.0]
    assert model.predict({"x": [1.0]}, {"factor": 10}).tolist() == [21.0]
    with pytest.raises(SchemaError, match="Invalid parameters"):
        model.predict({"x": [1.0]}, {"factor": "big"})
    with pytest.raises(ModelError, match="ValueError: negative output"):
        model.predict({"x": [-5.0]})
    assert isinstance(model.unwrap_python_model(), module.Scaler)


def test_loads_in_a_fresh_process_from_its_code_path(tmp_path, scaler_module):
    source, weights, module = scaler_module
    pack.pyfunc.save_model(
        tmp_path / "m", python_model=module.Scaler(), artifacts={"weights": str(weights)}, code_paths=[source]
    )
    weights.unlink()  # the model must use its own copy
    script = (
        "import sys, warnings, pandas as pd, pack.pyfunc; warnings.simplefilter('ignore'); "
        "m = pack.pyfunc.load_model(sys.argv[1]); print(m.predict(pd.DataFrame({'x': [1.5]})).tolist())"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "m")], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[3.0]"


class Echo(pack.pyfunc.PythonModel):
    def predict(self, model_input, params=None):  # MLflow 3 style: no context
        return np.asarray(model_input) + (params or {}).get("add", 0)


def test_predict_without_context_and_tensor_signature(tmp_path):
    pack.save_model(Echo(), tmp_path / "m", input_example=(np.zeros((2, 3), dtype=np.float32), {"add": 1}))
    with pytest.warns(UnsafeFormatWarning):
        model = pack.pyfunc.load_model(tmp_path / "m")
    assert model.signature.inputs.is_tensor
    assert model.predict(np.ones((1, 3), dtype=np.float32), {"add": 2}).tolist() == [[3.0, 3.0, 3.0]]
    with pytest.raises(SchemaError, match=r"expected shape \(-1, 3\), got \(1, 4\)"):
        model.predict(np.ones((1, 4), dtype=np.float32))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("python_model", "../outside.pkl", "escapes"),
        ("artifacts", {"w": {"path": "../../etc/passwd"}}, "escapes"),
        ("model_code_path", "model.py", "models-from-code"),
        ("python_model", None, "names no python_model"),
    ],
)
def test_hostile_custom_model_is_refused(tmp_path, key, value, message):
    pack.save_model(Echo(), tmp_path / "m")
    mlmodel = MLModel.load(tmp_path / "m")
    conf = dict(mlmodel.flavors["python_function"])
    conf[key] = value
    mlmodel.evolve(flavors={"python_function": conf}).save(tmp_path / "m")
    with pytest.raises(InvalidModel, match=message):
        pack.pyfunc.load_model(tmp_path / "m")


def test_objects_without_a_flavor_are_refused(tmp_path):
    with pytest.raises(FlavorError, match="no flavor can save"):
        pack.save_model(object(), tmp_path / "m")
    assert not (tmp_path / "m").exists()
