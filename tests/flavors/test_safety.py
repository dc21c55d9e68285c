"""Executable content in a model: model code never shadows installed modules, and the safe-only policy.

The attacker's models here are what a colleague or a model hub could hand over: a skops model whose
MLmodel ships ``code/threadpoolctl.py``, a pickle whose loading touches a file. Each module the attacker
ships leaves a marker file when it runs, so every test can tell whether the code ran.
"""

from __future__ import annotations

import pathlib
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import pack
import pack.pyfunc
from devtools.cli import run_pack
from pack.errors import InvalidInput, InvalidModel, UnsafeFormatWarning, UnsafeModel
from pack.flavors.mlmodel import MLModel

ROWS = "x0,x1\n0.1,0.2\n0.9,0.8\n"


def _with_code(model_dir: Path, files: dict[str, str]) -> None:
    """Add a ``code/`` directory to a saved model and name it in every MLmodel section."""
    for relative, text in files.items():
        target = model_dir / "code" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    mlmodel = MLModel.load(model_dir)
    flavors = {name: {**conf, "code": "code"} for name, conf in mlmodel.flavors.items()}
    mlmodel.evolve(flavors=flavors).save(model_dir)


def _marker_module(marker: Path) -> str:
    return f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"


@pytest.fixture
def skops_model(tmp_path: Path) -> Path:
    model = LogisticRegression().fit(np.array([[0.0, 0.0], [1.0, 1.0]]), [0, 1])
    path = tmp_path / "skops-model"
    pack.save_model(model, path, input_example=np.array([[0.1, 0.2]]))
    assert (path / "model.skops").is_file()
    return path


@pytest.fixture
def attacker_model(skops_model: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A safe-format model that ships ``code/threadpoolctl.py`` (imported by scikit-learn)."""
    marker = tmp_path / "threadpoolctl-ran"
    _with_code(skops_model, {"threadpoolctl.py": _marker_module(marker)})
    return skops_model, marker


@pytest.fixture
def pickle_bomb(tmp_path: Path) -> tuple[Path, Path]:
    """A sklearn model directory whose model.pkl touches a marker file when unpickled."""
    model = LogisticRegression().fit(np.array([[0.0, 0.0], [1.0, 1.0]]), [0, 1])
    path = tmp_path / "pickled"
    pack.save_model(model, path, serialization_format="pickle")
    marker = tmp_path / "unpickled"

    class Touch:
        def __reduce__(self):
            return (pathlib.Path.touch, (pathlib.Path(marker),))

    (path / "model.pkl").write_bytes(pickle.dumps(Touch()))
    return path, marker


@pytest.fixture
def keep_sys_path():
    before = list(sys.path)
    yield
    sys.path[:] = before


def test_model_code_that_shadows_an_installed_module_is_refused(attacker_model, keep_sys_path):
    path, marker = attacker_model
    before = list(sys.path)
    for load in (pack.pyfunc.load_model, pack.load_model):
        with pytest.raises(InvalidModel, match=r"code/threadpoolctl\.py would shadow the module 'threadpoolctl'"):
            load(path)
    assert sys.path == before
    assert not marker.exists()


def test_the_attackers_model_runs_no_code_from_the_command_line(attacker_model):
    path, marker = attacker_model
    (path.parent / "rows.csv").write_text(ROWS)
    predicted = run_pack("predict", "-m", str(path), "-i", str(path.parent / "rows.csv"))
    served = run_pack("serve", str(path), "-p", "0")
    for result in (predicted, served):
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("error: the model's code/threadpoolctl.py would shadow the module")
        assert len(result.stderr.strip().splitlines()) == 1
    refused = run_pack("predict", "--safe-only", "-m", str(path), "-i", str(path.parent / "rows.csv"))
    assert refused.returncode == 2
    assert "refused by the safe-only policy: code/ holds Python code (threadpoolctl)" in refused.stderr
    assert not marker.exists()


@pytest.mark.parametrize(
    "files",
    [{"json/__init__.py": "X = 1\n"}, {"sys.py": "X = 1\n"}, {"numpy/__init__.py": "X = 1\n"}],
    ids=["stdlib-package", "builtin", "site-package"],
)
def test_any_shadowing_module_is_refused(skops_model, files, keep_sys_path):
    _with_code(skops_model, files)
    name = next(iter(files)).split("/")[0].removesuffix(".py")
    with pytest.raises(InvalidModel, match=f"would shadow the module '{name}'"):
        pack.pyfunc.load_model(skops_model)


def test_model_code_warns_and_goes_last_on_sys_path(skops_model, tmp_path, keep_sys_path):
    _with_code(
        skops_model,
        {"pack_test_helper_mod.py": "VALUE = 42\n", "data/readme.txt": "a namespace dir shadows nothing\n"},
    )
    with pytest.warns(UnsafeFormatWarning, match=r"code/ holds Python code \(data, pack_test_helper_mod\)"):
        model = pack.pyfunc.load_model(skops_model)
    assert sys.path[-1] == str(skops_model / "code")
    assert model.predict(np.array([[0.9, 0.9]])).tolist() == [1]
    import pack_test_helper_mod  # the model's own module is importable, after everything installed

    assert pack_test_helper_mod.VALUE == 42
    sys.modules.pop("pack_test_helper_mod")
    with pytest.raises(UnsafeModel, match="refused by the safe-only policy: code/ holds Python code"):
        pack.pyfunc.load_model(skops_model, safe_only=True)


def test_safe_only_refuses_a_pickle_before_it_is_deserialised(pickle_bomb, monkeypatch):
    path, marker = pickle_bomb
    for load in (pack.pyfunc.load_model, pack.load_model):
        with pytest.raises(UnsafeModel, match=r"refused by the safe-only policy: model.pkl is a pickle file"):
            load(path, safe_only=True)
    monkeypatch.setenv("PACK_SAFE_ONLY", "1")
    with pytest.raises(UnsafeModel):
        pack.pyfunc.load_model(path, safe_only=False)  # an argument cannot lift the process policy
    assert not marker.exists()
    monkeypatch.setenv("PACK_SAFE_ONLY", "0")
    # without the policy, the same file runs its code: the refusal above is what kept it from running
    with pytest.warns(UnsafeFormatWarning, match="model.pkl is a pickle file"), pytest.raises(InvalidModel):
        pack.pyfunc.load_model(path)
    assert marker.exists()


def test_safe_only_refuses_custom_python_models(tmp_path):
    class Echo(pack.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return model_input

    pack.save_model(Echo(), tmp_path / "custom")
    with pytest.raises(UnsafeModel, match=r"python_model.pkl is a cloudpickle file \(a custom Python model\)"):
        pack.pyfunc.load_model(tmp_path / "custom", safe_only=True)


def test_safe_only_loads_safe_formats(skops_model, monkeypatch):
    monkeypatch.setenv("PACK_SAFE_ONLY", "true")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = pack.pyfunc.load_model(skops_model, safe_only=True)
    assert model.predict(np.array([[0.0, 0.1]])).tolist() == [0]


def test_a_bad_policy_value_is_an_input_error(skops_model, monkeypatch):
    monkeypatch.setenv("PACK_SAFE_ONLY", "maybe")
    with pytest.raises(InvalidInput, match="PACK_SAFE_ONLY must be 1 or 0"):
        pack.pyfunc.load_model(skops_model)


def test_safe_only_on_the_command_line(pickle_bomb, skops_model):
    path, marker = pickle_bomb
    rows = path.parent / "rows.csv"
    rows.write_text(ROWS)
    for args, env in (
        (("predict", "--safe-only", "-m", str(path), "-i", str(rows)), {}),
        (("predict", "-m", str(path), "-i", str(rows)), {"PACK_SAFE_ONLY": "1"}),
        (("serve", "--safe-only", str(path), "-p", "0"), {}),
        (("serve", str(path), "-p", "0"), {"PACK_SAFE_ONLY": "1"}),
        (("predict", "--safe-only", "--engine", "spark", "-m", str(path), "-i", str(rows), "-o", "out"), {}),
        (("predict", "--engine", "spark", "-m", str(path), "-i", str(rows), "-o", "out"), {"PACK_SAFE_ONLY": "1"}),
    ):
        result = run_pack(*args, env=env)
        assert result.returncode == 2, (args, result.stderr)
        assert (
            result.stderr == "error: refused by the safe-only policy: model.pkl is a pickle file (executable content)\n"
        )
    assert not marker.exists()
    fine = run_pack("predict", "--safe-only", "-m", str(skops_model), "-i", str(rows))
    assert fine.returncode == 0, fine.stderr
    assert '"predictions"' in fine.stdout
