from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import pack
import pack.pyfunc
import pack.sklearn
from pack.errors import AlreadyExists, FlavorError, InvalidInput, InvalidModel, UnsafeFormatWarning
from pack.flavors.mlmodel import MLModel


@pytest.mark.parametrize("fmt", ["skops", "pickle", "cloudpickle"])
def test_round_trip_every_format(tmp_path, random_forest, classification_data, fmt):
    frame, _ = classification_data
    saved = pack.sklearn.save_model(
        random_forest, tmp_path / "m", serialization_format=fmt, input_example=frame.head(3)
    )
    assert saved.flavors["sklearn"]["serialization_format"] == fmt
    assert saved.flavors["python_function"]["loader_module"] == "mlflow.sklearn"
    expected = random_forest.predict(frame)
    if fmt == "skops":
        model = pack.pyfunc.load_model(tmp_path / "m")
        native = pack.sklearn.load_model(tmp_path / "m")
    else:
        with pytest.warns(UnsafeFormatWarning, match="runs code from the model"):
            model = pack.pyfunc.load_model(tmp_path / "m")
        with pytest.warns(UnsafeFormatWarning):
            native = pack.sklearn.load_model(tmp_path / "m")
    assert np.array_equal(native.predict(frame), expected)
    for data in (
        frame,
        frame.to_numpy(),
        {c: frame[c].to_numpy() for c in frame},
        frame.to_dict(orient="records"),
    ):
        assert np.array_equal(model.predict(data), expected)


def test_files_and_requirements(tmp_path, random_forest, classification_data):
    frame, _ = classification_data
    pack.save_model(random_forest, tmp_path / "m", input_example=frame.head(2))
    names = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert names == [
        "MLmodel",
        "conda.yaml",
        "input_example.json",
        "model.skops",
        "python_env.yaml",
        "requirements.txt",
        "serving_input_example.json",
    ]
    import sklearn
    import skops

    requirements = (tmp_path / "m" / "requirements.txt").read_text().split()
    assert f"scikit-learn=={sklearn.__version__}" in requirements
    assert f"skops=={skops.__version__}" in requirements
    assert all("==" in line for line in requirements)
    mlmodel = MLModel.load(tmp_path / "m")
    assert mlmodel.flavors["sklearn"]["skops_trusted_types"] == ["sklearn.tree._tree.Tree"]
    assert mlmodel.signature.inputs.names == list(frame.columns)
    assert mlmodel.model_size_bytes > 0
    example = pack.pyfunc.load_model(tmp_path / "m").input_example()
    assert example[0].equals(frame.head(2)) and example[1] is None


def test_predict_fn_and_numpy_fitted_model(tmp_path, classification_data):
    frame, labels = classification_data
    model = LogisticRegression().fit(frame.to_numpy(), labels)  # no feature names
    pack.sklearn.save_model(model, tmp_path / "m", predict_fn="predict_proba", input_example=frame.head(2))
    loaded = pack.pyfunc.load_model(tmp_path / "m")
    assert np.allclose(loaded.predict(frame), model.predict_proba(frame.to_numpy()))
    assert loaded.signature.outputs.is_tensor


def test_pipeline_with_strings(tmp_path):
    frame = pd.DataFrame({"city": ["a", "b", "a", "c"] * 10, "size": np.arange(40, dtype=float)})
    labels = np.arange(40) % 2
    pipeline = make_pipeline(
        ColumnTransformer(
            [("city", OneHotEncoder(handle_unknown="ignore"), ["city"]), ("size", StandardScaler(), ["size"])]
        ),
        LogisticRegression(),
    ).fit(frame, labels)
    pack.save_model(pipeline, tmp_path / "m", input_example=frame.head(3))
    loaded = pack.pyfunc.load_model(tmp_path / "m")
    assert np.array_equal(loaded.predict(frame), pipeline.predict(frame))
    assert [s.type_name for s in loaded.signature.inputs] == ["string", "double"]


CUSTOM = textwrap.dedent(
    """
    from sklearn.base import BaseEstimator, TransformerMixin

    class Doubler(TransformerMixin, BaseEstimator):
        def fit(self, X, y=None):
            return self

        def transform(self, X):
            return X * 2
    """
)


def test_untrusted_types_need_explicit_trust(tmp_path, monkeypatch, classification_data):
    frame, labels = classification_data
    (tmp_path / "custom_steps.py").write_text(CUSTOM)
    monkeypatch.syspath_prepend(str(tmp_path))
    from custom_steps import Doubler

    pipeline = make_pipeline(Doubler(), LogisticRegression()).fit(frame.to_numpy(), labels)
    with pytest.raises(FlavorError, match=r"custom_steps\.Doubler"):
        pack.save_model(pipeline, tmp_path / "refused")
    assert not (tmp_path / "refused").exists()
    pack.save_model(pipeline, tmp_path / "m", skops_trusted_types=["custom_steps.Doubler"])
    with pytest.raises(InvalidModel, match=r"not trusted: \['custom_steps.Doubler'\]"):
        pack.pyfunc.load_model(tmp_path / "m")
    loaded = pack.pyfunc.load_model(tmp_path / "m", model_config={"trusted_types": ["custom_steps.Doubler"]})
    assert np.array_equal(loaded.predict(frame.to_numpy()), pipeline.predict(frame.to_numpy()))


def test_bad_options_and_existing_target(tmp_path, random_forest):
    with pytest.raises(InvalidInput, match="serialization_format"):
        pack.save_model(random_forest, tmp_path / "a", serialization_format="json")
    with pytest.raises(InvalidInput, match="predict_fn"):
        pack.save_model(random_forest, tmp_path / "b", predict_fn="fit")
    with pytest.raises(InvalidInput, match="unknown option"):
        pack.save_model(random_forest, tmp_path / "c", compress=True)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    with pytest.raises(AlreadyExists):
        pack.save_model(random_forest, tmp_path / "taken")
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_failed_example_leaves_no_directory(tmp_path, random_forest):
    with pytest.raises(FlavorError, match="failed to predict on its input example"):
        pack.save_model(random_forest, tmp_path / "m", input_example=pd.DataFrame({"only": [1.0]}))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("sklearn", "pickled_model", "../../etc/passwd", "escapes"),
        ("sklearn", "pickled_model", "/etc/passwd", "relative"),
        ("sklearn", "serialization_format", "yaml", "serialization_format"),
        ("sklearn", "pickled_model", "gone.skops", "missing"),
        ("python_function", "loader_module", "os", "no installed flavor"),
        ("python_function", "code", "../..", "escapes"),
        ("python_function", "predict_fn", "__init__", "predict_fn"),
    ],
)
def test_hostile_or_broken_mlmodel_is_refused(tmp_path, random_forest, section, key, value, message):
    pack.save_model(random_forest, tmp_path / "m")
    mlmodel = MLModel.load(tmp_path / "m")
    flavors = {name: dict(conf) for name, conf in mlmodel.flavors.items()}
    flavors[section][key] = value
    mlmodel.evolve(flavors=flavors).save(tmp_path / "m")
    with pytest.raises(InvalidModel, match=message):
        pack.pyfunc.load_model(tmp_path / "m")


def test_loads_in_a_fresh_process(tmp_path, random_forest, classification_data):
    frame, _ = classification_data
    pack.save_model(random_forest, tmp_path / "m")
    frame.head(7).to_csv(tmp_path / "rows.csv", index=False)
    script = (
        "import sys, pandas as pd, pack.pyfunc; "
        "m = pack.pyfunc.load_model(sys.argv[1]); "
        "print(m.predict(pd.read_csv(sys.argv[2])).tolist())"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "m"), str(tmp_path / "rows.csv")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == str([int(v) for v in random_forest.predict(frame.head(7))])


def test_a_crafted_skops_file_runs_no_code(tmp_path, classification_data):
    """A dict whose key type is a function: skops calls key types to rebuild keys. pack's reader refuses
    it; a file that pack's reader leaves to skops (here: because of a bytes value) is loaded under
    skops' own trust, which refuses the function too."""
    import io
    import json
    import zipfile

    import skops.io as sio

    frame, labels = classification_data
    marker = tmp_path / "ran"
    for extra in ({}, {"blob": b"x"}):
        model = LogisticRegression().fit(frame, labels)
        model.extra_ = {f"open({str(marker)!r}, 'w').write('code ran')": 1, **extra}
        with zipfile.ZipFile(io.BytesIO(sio.dumps(model))) as archive:
            files = {name: archive.read(name) for name in archive.namelist()}
        schema = json.loads(files["schema.json"])
        schema["content"]["content"]["extra_"]["key_types"]["content"][0] = {
            "__class__": "assert_run_python_script_without_output",
            "__module__": "sklearn.utils._testing",
            "__loader__": "TypeNode",
        }
        files["schema.json"] = json.dumps(schema).encode()
        target = tmp_path / f"m{len(extra)}"
        pack.save_model(LogisticRegression().fit(frame, labels), target)
        with zipfile.ZipFile(target / "model.skops", "w") as archive:
            for name, data in files.items():
                archive.writestr(name, data)
        with pytest.raises(InvalidModel, match="assert_run_python_script_without_output"):
            pack.pyfunc.load_model(target)
        assert not marker.exists()
