"""The PyTorch flavor: pt2 (default), TorchScript and pickle, loaded in fresh processes."""

from __future__ import annotations

import pickle
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

from pack.errors import FlavorError, InvalidInput, SchemaError, UnsafeFormatWarning, UnsafeModel
from pack.flavors.environment import read_requirements

torch = pytest.importorskip("torch")

import pack  # noqa: E402
import pack.pyfunc  # noqa: E402
from pack.flavors.pytorch import FLAVOR  # noqa: E402
from pack.flavors.torch_archive import pickled_records  # noqa: E402
from tests.models_torch import native_predict as _native  # noqa: E402
from tests.models_torch import rows as _rows  # noqa: E402

TORCHSCRIPT_DEPRECATED = "ignore:`torch.jit.*` is deprecated:DeprecationWarning"


@pytest.fixture(scope="module")
def mlp(torch_mlp):
    return torch_mlp


@pytest.fixture(scope="module")
def cnn(torch_cnn):
    return torch_cnn


@pytest.fixture(scope="module")
def saved(mlp, cnn, torch_towers, tmp_path_factory, fresh_predict):
    """The models of the fresh-process tests, saved, then all predicted in one new interpreter."""
    root = tmp_path_factory.mktemp("torch")
    images = np.random.default_rng(2).normal(size=(6, 1, 8, 8)).astype(np.float32)
    pairs = {"left": _rows(3, 3, seed=5), "right": _rows(3, 5, seed=6)}
    jobs = {
        "mlp": (pack.save_model(mlp, root / "mlp", input_example=_rows(5)), _rows(9, seed=3)),
        "cnn-pt2": (pack.save_model(cnn, root / "cnn-pt2", input_example=images[:2]), images),
        "towers": (
            pack.save_model(torch_towers, root / "towers", input_example={"left": _rows(4, 3), "right": _rows(4, 5)}),
            pairs,
        ),
    }
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "`torch.jit", DeprecationWarning)
        ts = pack.save_model(cnn, root / "cnn-ts", input_example=images[:2], serialization_format="torchscript")
    jobs["cnn-ts"] = (ts, images)
    predictions = fresh_predict([(root / name, data) for name, (_, data) in jobs.items()])
    return {
        name: (root / name, mlmodel, data, got)
        for (name, (mlmodel, data)), got in zip(jobs.items(), predictions, strict=True)
    } | {"towers-module": torch_towers}


def test_pt2_is_the_default_and_predicts_the_same_in_a_fresh_process(mlp, saved):
    path, mlmodel, data, got = saved["mlp"]

    assert mlmodel.flavors["pytorch"]["serialization_format"] == "pt2"
    assert mlmodel.flavors["pytorch"]["model_data"] == "data"
    assert mlmodel.flavors["python_function"]["loader_module"] == "mlflow.pytorch"
    assert (path / "data" / "model.pt2").is_file()
    assert f"torch=={torch.__version__.split('+')[0]}" in read_requirements(path)
    spec = mlmodel.signature.inputs.specs[0]
    assert (spec.dtype, spec.shape) == ("float32", (-1, 4))
    np.testing.assert_allclose(got, _native(mlp, data), rtol=1e-5, atol=1e-6)


def test_an_example_of_one_row_still_gives_a_dynamic_batch(mlp, tmp_path):
    import pack.pytorch

    pack.pytorch.save_model(mlp, tmp_path / "m", input_example=_rows(1))
    data = _rows(7, seed=4)
    np.testing.assert_allclose(
        pack.pyfunc.load_model(tmp_path / "m").predict(data), _native(mlp, data), rtol=1e-5, atol=1e-6
    )
    native = pack.pytorch.load_model(tmp_path / "m")  # the exported module, without the class
    np.testing.assert_allclose(native(torch.tensor(data)).detach().numpy(), _native(mlp, data), rtol=1e-5)


def test_tiny_cnn_in_pt2_and_torchscript(cnn, saved):
    assert saved["cnn-ts"][1].flavors["pytorch"]["serialization_format"] == "torchscript"
    for name in ("cnn-pt2", "cnn-ts"):
        _, _, images, got = saved[name]
        np.testing.assert_allclose(got, _native(cnn, images), rtol=1e-5, atol=1e-6)


def test_dict_inputs_and_named_outputs(saved):
    _, mlmodel, data, got = saved["towers"]

    assert mlmodel.signature.inputs.names == ["left", "right"]
    assert mlmodel.signature.outputs.names == ["sum", "diff"]
    with torch.no_grad():
        want = saved["towers-module"](torch.from_numpy(data["left"]), torch.from_numpy(data["right"]))
    for name in ("sum", "diff"):
        np.testing.assert_allclose(got[name], want[name].numpy(), rtol=1e-5, atol=1e-6)


def test_dataframe_of_numeric_columns(mlp, tmp_path):
    frame = pd.DataFrame(_rows(6).astype(np.float64), columns=list("abcd"))
    saved = pack.save_model(mlp, tmp_path / "m", input_example=frame)

    assert saved.signature.inputs.names == list("abcd")
    result = pack.pyfunc.load_model(tmp_path / "m").predict(frame)
    assert isinstance(result, np.ndarray)
    np.testing.assert_allclose(result, _native(mlp, frame.to_numpy(np.float32)), rtol=1e-5, atol=1e-6)


def test_wrong_shapes_and_dtypes_are_schema_errors(mlp, tmp_path):
    pack.save_model(mlp, tmp_path / "m", input_example=_rows(5))
    model = pack.pyfunc.load_model(tmp_path / "m")

    with pytest.raises(SchemaError, match=r"Input 'input': expected shape \(-1, 4\), got \(3, 5\)"):
        model.predict(_rows(3, 5))
    with pytest.raises(SchemaError, match="Input 'input': expected dtype float32, got float64"):
        model.predict(_rows(3).astype(np.float64) + 0.1)
    with pytest.raises(SchemaError, match="expected dtype float32, got str"):
        model.predict(np.array([["a"] * 4]))


def test_predictor_refuses_non_numeric_data_without_a_signature(mlp, tmp_path):
    pack.save_model(mlp, tmp_path / "m", input_example=_rows(5), signature=pack.ModelSignature())
    with pytest.raises(SchemaError, match="PyTorch models take numeric arrays"):
        pack.pyfunc.load_model(tmp_path / "m").predict(np.array([["x"] * 4]))


def test_pickle_only_when_asked_and_loading_it_warns(mlp, tmp_path):
    pack.save_model(mlp, tmp_path / "m", input_example=_rows(3), serialization_format="pickle")
    assert (tmp_path / "m" / "data" / "pickle_module_info.txt").read_text() == "mlflow.pytorch.pickle_module"

    with pytest.warns(UnsafeFormatWarning, match="runs code from the model"):
        model = pack.pyfunc.load_model(tmp_path / "m")
    with pytest.raises(UnsafeModel, match=r"safe-only policy: model.pth is a pickle file"):
        pack.pyfunc.load_model(tmp_path / "m", safe_only=True)
    data = _rows(4, seed=9)
    np.testing.assert_allclose(model.predict(data), _native(mlp, data), rtol=1e-6)


def test_pt2_with_a_pickled_record_warns_before_loading(mlp, tmp_path):
    pack.save_model(mlp, tmp_path / "m", input_example=_rows(3))
    archive = tmp_path / "m" / "data" / "model.pt2"
    assert pickled_records(archive) == []
    tampered = tmp_path / "tampered.pt2"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(tampered, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename.endswith("sample_inputs/model.pt"):
                content = pickle.dumps(print)  # any pickle the restricted unpickler refuses
            target.writestr(info, content)

    assert pickled_records(tampered) == ["data/sample_inputs/model.pt"]
    tampered.replace(archive)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnsafeFormatWarning)
        with pytest.raises(UnsafeFormatWarning, match=r"model.pt2 holds pickled records \(data/sample_inputs"):
            pack.pyfunc.load_model(tmp_path / "m")
    with pytest.raises(UnsafeModel, match=r"safe-only policy: model.pt2 holds pickled records"):
        pack.pyfunc.load_model(tmp_path / "m", safe_only=True)


def test_export_needs_an_example_and_leaves_the_module_mode_alone(mlp, tmp_path):
    with pytest.raises(InvalidInput, match="pass input_example"):
        pack.save_model(mlp, tmp_path / "none", flavor="pytorch")
    assert not (tmp_path / "none").exists()

    mlp.train()
    try:
        pack.save_model(mlp, tmp_path / "m", input_example=_rows(2))
        assert all(sub.training for sub in mlp.modules())
    finally:
        mlp.eval()


def test_unexportable_module_names_the_alternatives(tmp_path):
    class ScalarFromData(torch.nn.Module):
        def forward(self, x):
            return x * float(x.sum().item())  # a Python float from tensor data: not capturable

    with pytest.raises(FlavorError, match="serialization_format='torchscript' or 'pickle'"):
        pack.save_model(ScalarFromData(), tmp_path / "m", input_example=_rows(2))
    assert not (tmp_path / "m").exists()


def test_device_is_cpu_by_default_and_checked_when_asked(mlp, tmp_path):
    pack.save_model(mlp, tmp_path / "m", input_example=_rows(3))
    model = pack.pyfunc.load_model(tmp_path / "m", model_config={"device": "cpu"})
    assert model.predictor.device.type == "cpu"
    with pytest.raises(InvalidInput, match="invalid torch device 'toaster'"):
        pack.pyfunc.load_model(tmp_path / "m", model_config={"device": "toaster"})
    if not torch.cuda.is_available():
        with pytest.raises(InvalidInput, match="device 'cuda:0' is not available"):
            pack.pyfunc.load_model(tmp_path / "m", model_config={"device": "cuda:0"})


def test_declared_workers_share_the_cpus(mlp, tmp_path):
    pack.save_model(mlp, tmp_path / "m", input_example=_rows(3))
    before = torch.get_num_threads()
    try:
        pack.pyfunc.load_model(tmp_path / "m", model_config={"workers": 64})
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


@pytest.mark.filterwarnings(TORCHSCRIPT_DEPRECATED)
def test_read_native_takes_pt2_and_torchscript_files(mlp, tmp_path):
    program = torch.export.export(mlp, (torch.randn(3, 4),), dynamic_shapes=({0: torch.export.Dim.AUTO},))
    torch.export.save(program, tmp_path / "model.pt2")
    torch.jit.save(torch.jit.script(mlp), tmp_path / "model.pt")
    torch.save(mlp.state_dict(), tmp_path / "weights.pth")

    assert isinstance(FLAVOR.read_native(tmp_path / "model.pt2"), torch.export.ExportedProgram)
    assert isinstance(FLAVOR.read_native(tmp_path / "model.pt"), torch.jit.ScriptModule)
    with pytest.warns(UnsafeFormatWarning), pytest.raises(FlavorError, match="state_dict needs its model"):
        FLAVOR.read_native(tmp_path / "weights.pth")
    with pytest.raises(FlavorError, match="not a PyTorch model file"):
        FLAVOR.read_native(tmp_path / "model.onnx")
