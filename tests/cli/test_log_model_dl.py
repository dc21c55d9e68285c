"""``pack log-model pytorch|onnx FILE``: native files become model directories that pin the framework."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

import pack.pyfunc  # noqa: E402
from pack.flavors.environment import read_requirements  # noqa: E402

PACK = str(Path(sys.executable).with_name("pack"))


def run_pack(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PACK, *args], capture_output=True, text=True, timeout=300, check=False, env=dict(os.environ))


@pytest.fixture(scope="module")
def mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 1)).eval()


def test_pt2_and_torchscript_files(mlp, tmp_path):
    program = torch.export.export(mlp, (torch.randn(4, 3),), dynamic_shapes=({0: torch.export.Dim.AUTO},))
    torch.export.save(program, tmp_path / "model.pt2")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "`torch.jit", DeprecationWarning)
        torch.jit.save(torch.jit.script(mlp), tmp_path / "scripted.pt")
    (tmp_path / "example.json").write_text('{"inputs": [[0.5, -1.0, 2.0], [1.0, 0.0, 0.25]]}')

    for name, source in (("pt2", "model.pt2"), ("ts", "scripted.pt")):
        done = run_pack(
            "log-model", "pytorch", str(tmp_path / source), "-o", str(tmp_path / name),
            "--input-example", str(tmp_path / "example.json"),
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "saved pytorch model" in done.stdout
        assert f"torch=={torch.__version__.split('+')[0]}" in read_requirements(tmp_path / name)

    data = np.random.default_rng(0).normal(size=(6, 3))  # float64, like the JSON example
    with torch.no_grad():
        want = mlp(torch.tensor(data, dtype=torch.float32)).numpy()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "`torch.jit", DeprecationWarning)
        for name in ("pt2", "ts"):
            np.testing.assert_allclose(pack.pyfunc.load_model(tmp_path / name).predict(data), want, rtol=1e-5)


def test_onnx_file_and_bad_files(mlp, tmp_path):
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])],
    )
    onnx.save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "relu.onnx")
    done = run_pack("log-model", "onnx", str(tmp_path / "relu.onnx"), "-o", str(tmp_path / "m"))
    assert done.returncode == 0, done.stderr
    result = pack.pyfunc.load_model(tmp_path / "m").predict({"x": np.array([[-1.0, 2.0]], dtype=np.float32)})
    np.testing.assert_array_equal(result["y"], [[0.0, 2.0]])
    assert any(r.startswith("onnxruntime==") for r in read_requirements(tmp_path / "m"))

    (tmp_path / "notes.txt").write_text("hello")
    done = run_pack("log-model", "pytorch", str(tmp_path / "notes.txt"), "-o", str(tmp_path / "x"))
    assert done.returncode == 2
    assert done.stderr.strip() == "error: notes.txt: not a PyTorch model file (expected .pt2, .pt, .pth)"
    done = run_pack("log-model", "pytorch", str(tmp_path / "relu.onnx"), "-o", str(tmp_path / "x"))
    assert done.returncode == 2
    assert done.stderr.startswith("error: relu.onnx: not a PyTorch model file")
