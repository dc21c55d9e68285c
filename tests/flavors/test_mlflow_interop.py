"""Models cross between MLflow (its own virtualenv, a real install) and pack, both ways."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd
import pytest

import pack
import pack.pyfunc
from devtools import REPO
from devtools.mlflow_peer import run_mlflow
from pack.errors import UnsafeFormatWarning

pytestmark = pytest.mark.interop

MLFLOW_SAVES = textwrap.dedent(
    """
    import json
    import mlflow.pyfunc, mlflow.sklearn
    import numpy as np, pandas as pd
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.RandomState(0)
    X = pd.DataFrame(rng.rand(60, 4), columns=list("abcd"))
    y = (X["a"] + X["b"] > 1).astype(int)
    rf = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    mlflow.sklearn.save_model(
        rf, "skops", input_example=X.head(2), skops_trusted_types=["sklearn.tree._tree.Tree"]
    )
    mlflow.sklearn.save_model(rf, "pickle", serialization_format="pickle", input_example=X.head(2))
    mlflow.sklearn.save_model(rf, "cloudpickle", serialization_format="cloudpickle")
    with open("weights.json", "w") as f:
        json.dump({"w": 3.0}, f)

    class Custom(mlflow.pyfunc.PythonModel):
        def load_context(self, context):
            with open(context.artifacts["weights"]) as f:
                self.w = json.load(f)["w"]

        def predict(self, context, model_input, params=None):
            return model_input["a"] * self.w + (params or {}).get("shift", 0.0)

    mlflow.pyfunc.save_model("custom", python_model=Custom(), artifacts={"weights": "weights.json"},
                             input_example=(X.head(2), {"shift": 0.0}))
    X.head(10).to_csv("rows.csv", index=False)
    custom = mlflow.pyfunc.load_model("custom")
    expected = {
        "rf": rf.predict(X.head(10)).tolist(),
        "custom": custom.predict(X.head(10)).tolist(),
        "custom_shift": custom.predict(X.head(10), params={"shift": 1.5}).tolist(),
    }
    with open("expected.json", "w") as f:
        json.dump(expected, f)
    """
)


@pytest.fixture(scope="session")
def mlflow_models(tmp_path_factory, mlflow_python):
    workdir = tmp_path_factory.mktemp("mlflow-saved")
    run_mlflow(MLFLOW_SAVES, cwd=workdir)
    return workdir


@pytest.mark.parametrize("fmt", ["skops", "pickle", "cloudpickle"])
def test_mlflow_sklearn_models_predict_identically_in_pack(mlflow_models, fmt):
    rows = pd.read_csv(mlflow_models / "rows.csv")
    expected = json.loads((mlflow_models / "expected.json").read_text())["rf"]
    if fmt == "skops":
        model = pack.pyfunc.load_model(mlflow_models / fmt)
    else:
        with pytest.warns(UnsafeFormatWarning):
            model = pack.pyfunc.load_model(mlflow_models / fmt)
    assert model.predict(rows).tolist() == expected
    assert model.metadata.extra["mlflow_version"]  # MLflow's own keys are kept


def test_mlflow_custom_pyfunc_predicts_identically_in_pack(mlflow_models):
    rows = pd.read_csv(mlflow_models / "rows.csv")
    expected = json.loads((mlflow_models / "expected.json").read_text())
    with pytest.warns(UnsafeFormatWarning):
        model = pack.pyfunc.load_model(mlflow_models / "custom")
    assert model.predict(rows).tolist() == expected["custom"]
    assert model.predict(rows, {"shift": 1.5}).tolist() == expected["custom_shift"]


MLFLOW_LOADS = textwrap.dedent(
    """
    import json, sys
    import mlflow.pyfunc, mlflow.sklearn
    import pandas as pd

    rows = pd.read_csv("rows.csv")
    out = {
        "sklearn": mlflow.sklearn.load_model("pack_rf").predict(rows).tolist(),
        "pyfunc": mlflow.pyfunc.load_model("pack_rf").predict(rows).tolist(),
        "proba": mlflow.pyfunc.load_model("pack_proba").predict(rows).tolist(),
        "custom": mlflow.pyfunc.load_model("pack_custom").predict(rows).tolist(),
    }
    with open("mlflow_out.json", "w") as f:
        json.dump(out, f)
    """
)

PACK_CUSTOM = textwrap.dedent(
    """
    import pack.pyfunc

    class Shift(pack.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return model_input["f0"] + 100.0
    """
)


def test_pack_models_load_in_mlflow(tmp_path, mlflow_python, random_forest, classification_data, monkeypatch):
    frame, _ = classification_data
    rows = frame.head(12)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    pack.save_model(random_forest, tmp_path / "pack_rf", input_example=rows.head(2))
    pack.save_model(random_forest, tmp_path / "pack_proba", predict_fn="predict_proba", input_example=rows.head(2))
    (tmp_path / "pack_custom_code.py").write_text(PACK_CUSTOM)
    monkeypatch.syspath_prepend(str(tmp_path))
    from pack_custom_code import Shift

    pack.save_model(
        Shift(),
        tmp_path / "pack_custom",
        code_paths=[tmp_path / "pack_custom_code.py"],
        input_example=rows.head(2),
    )
    (tmp_path / "pack_custom_code.py").unlink()  # MLflow must find it in the model's code/ directory
    run_mlflow(MLFLOW_LOADS, cwd=tmp_path, extra_env={"PYTHONPATH": str(REPO)})
    out = json.loads((tmp_path / "mlflow_out.json").read_text())
    assert out["sklearn"] == out["pyfunc"] == random_forest.predict(rows).tolist()
    assert np.allclose(out["proba"], random_forest.predict_proba(rows))
    assert out["custom"] == (rows["f0"] + 100.0).tolist()
