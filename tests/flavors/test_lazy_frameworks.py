"""Deep-learning frameworks are imported only when such a model is saved or loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FRAMEWORKS = ("torch", "tensorflow", "keras", "onnx", "onnxruntime", "skl2onnx")

# Imports pack, resolves every flavor (which imports every flavor module), saves and serves-side
# loads a custom model and a pickled scikit-learn model, then reports which frameworks got imported.
SCRIPT = """
import json, sys
import pack
after_import = sorted(m for m in FRAMEWORKS if m in sys.modules)
import numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
import pack.pyfunc
from pack.flavors.lookup import available_flavors, get_flavor
from pack.flavors.payloads import dumps_predictions, parse_json_request
for name in available_flavors():
    get_flavor(name)

class Doubler(pack.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input * 2

frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
pack.save_model(LogisticRegression().fit(frame, [0, 1, 0, 1]), sys.argv[1] + "/sk", input_example=frame,
                serialization_format="pickle")
pack.save_model(Doubler(), sys.argv[1] + "/custom", input_example=frame)
for name in ("sk", "custom"):
    model = pack.pyfunc.load_model(sys.argv[1] + "/" + name)
    body = b'{"dataframe_records": [{"a": 1.0, "b": 2.0}]}'
    data, params = parse_json_request(body, model.signature.inputs)
    dumps_predictions(model.predict(data, params))
after_serving = sorted(m for m in FRAMEWORKS if m in sys.modules)
print(json.dumps({"after_import": after_import, "after_serving": after_serving}))
"""


@pytest.mark.filterwarnings("ignore::pack.errors.UnsafeFormatWarning")
def test_import_and_sklearn_or_custom_models_never_import_deep_learning_frameworks(tmp_path):
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", f"FRAMEWORKS = {FRAMEWORKS!r}\n{SCRIPT}", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"after_import": [], "after_serving": []}


def test_a_skops_model_loads_and_predicts_without_torch_tensorflow_or_skops(tmp_path):
    """Where torch and TensorFlow are installed (``pack[all]``), a scikit-learn model still loads
    without them: pack reads skops files itself (``skops.io``'s import walks scikit-learn's packages and
    imports torch)."""
    pytest.importorskip("torch")
    from sklearn.ensemble import RandomForestClassifier

    import pack

    frame = __import__("pandas").DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    pack.save_model(RandomForestClassifier(n_estimators=3, random_state=0).fit(frame, [0, 1, 0, 1]), tmp_path / "m")
    script = (
        "import json, sys, pandas as pd, pack.pyfunc\n"
        f"model = pack.pyfunc.load_model({str(tmp_path / 'm')!r})\n"
        "print(model.predict(pd.DataFrame({'a': [1.0], 'b': [0.0]})).tolist())\n"
        "print(json.dumps(sorted(m for m in ('torch', 'tensorflow', 'skops') if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    predictions, imported = done.stdout.strip().splitlines()[-2:]
    assert predictions == "[1]"
    assert json.loads(imported) == []
