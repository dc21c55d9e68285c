"""PyTorch, Keras, TensorFlow and ONNX models behind a real ``pack serve``, over /invocations and V2.

Each model gets its own server (``dl_served``); every answer is matched against the framework's own
output on the same batch. float32 inputs reach the model unchanged (their JSON numbers cast back to
the same float32) and float32 outputs come back within half a float32 ulp (orjson writes their
shortest repr), so the tolerance ``RTOL``/``ATOL`` mostly covers a different summation order when
the batcher merges requests. Integer outputs (labels) must be equal.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

import pack
import pack.pyfunc
from pack.flavors.threads import threads_per_worker
from tests.serving.support import DL_CASES, ServerProcess, TensorCase, mapped_files

RTOL, ATOL = 1e-5, 1e-6
# Shared libraries that show a framework was loaded into a process.
FRAMEWORK_LIBRARIES = {
    "torch": ("libtorch_cpu.so", "libtorch_python.so"),
    "tensorflow": ("libtensorflow_framework.so.2", "libtensorflow_cc.so.2"),
}


Served = dict[str, tuple[TensorCase, ServerProcess]]


def _ready(name: str, dl_served: Served) -> tuple[TensorCase, ServerProcess]:
    if name not in dl_served:
        pytest.skip(f"the framework of {name} is not installed")
    case, server = dl_served[name]
    server.wait_ready()
    return case, server


@pytest.fixture(params=DL_CASES)
def served(request: pytest.FixtureRequest, dl_served: Served) -> tuple[TensorCase, ServerProcess]:
    """One case and its ready server."""
    return _ready(request.param, dl_served)


def _assert_matches(got: Any, want: Any) -> None:
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), got
        for name, value in want.items():
            _assert_matches(got[name], value)
        return
    got = np.asarray(got)
    assert got.shape == want.shape
    if want.dtype.kind in "iub":
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


def _rows_of(case: TensorCase) -> int:
    return len(next(iter(case.arrays().values())))


def _bodies(case: TensorCase) -> dict[str, Any]:
    """Every /invocations JSON form that makes sense for the model's input."""
    arrays = case.arrays()
    if case.named:
        rows = _rows_of(case)
        return {
            "inputs": {"inputs": {name: value.tolist() for name, value in arrays.items()}},
            "instances": {
                "instances": [{name: value[i].tolist() for name, value in arrays.items()} for i in range(rows)]
            },
            "dataframe_split": {
                "dataframe_split": {
                    "columns": list(arrays),
                    "data": [[value[i].tolist() for value in arrays.values()] for i in range(rows)],
                }
            },
        }
    bodies = {"inputs": {"inputs": case.data.tolist()}, "instances": {"instances": case.data.tolist()}}
    if case.data.ndim == 2:  # a table of feature columns
        columns = [f"c{i}" for i in range(case.data.shape[1])]
        bodies["dataframe_split"] = {"dataframe_split": {"columns": columns, "data": case.data.tolist()}}
    return bodies


def _v2_request(arrays: dict[str, np.ndarray], datatypes: dict[str, str]) -> dict[str, Any]:
    return {
        "inputs": [
            {"name": name, "shape": list(value.shape), "datatype": datatypes[name], "data": value.ravel().tolist()}
            for name, value in arrays.items()
        ]
    }


def _datatypes(case: TensorCase) -> dict[str, str]:
    return {tensor["name"]: tensor["datatype"] for tensor in case.inputs}


def _by_name(expected: Any, outputs: list[dict[str, Any]]) -> dict[str, Any]:
    return expected if isinstance(expected, dict) else {outputs[0]["name"]: expected}


# ---------------------------------------------------------------------------------------------
# predictions


def test_v2_metadata_lists_the_signature_tensors(served: tuple[TensorCase, ServerProcess]) -> None:
    case, server = served
    metadata = server.client.get(f"/v2/models/{case.name}").json()

    assert metadata["platform"] == f"pack_{case.flavor}"
    assert metadata["inputs"] == case.inputs
    assert metadata["outputs"] == case.outputs


def test_invocations_match_the_framework(served: tuple[TensorCase, ServerProcess]) -> None:
    case, server = served
    for form, body in _bodies(case).items():
        for path in ("/invocations", f"/invocations/{case.name}"):
            response = server.client.post(path, json=body)
            assert response.status_code == 200, (form, response.text)
            _assert_matches(response.json()["predictions"], case.expected)


def test_v2_json_tensors_match_the_framework(served: tuple[TensorCase, ServerProcess]) -> None:
    case, server = served
    response = server.client.post(f"/v2/models/{case.name}/infer", json=_v2_request(case.arrays(), _datatypes(case)))

    assert response.status_code == 200, response.text
    outputs = {tensor["name"]: tensor for tensor in response.json()["outputs"]}
    want = _by_name(case.expected, case.outputs)
    assert set(outputs) == set(want)
    for declared in case.outputs:
        tensor = outputs[declared["name"]]
        expected = want[declared["name"]]
        assert tensor["datatype"] == declared["datatype"]
        assert tensor["shape"] == list(expected.shape)
        _assert_matches(np.asarray(tensor["data"]).reshape(tensor["shape"]), expected)


def test_tritonclient_binary_tensors_match_the_framework(served: tuple[TensorCase, ServerProcess]) -> None:
    triton = pytest.importorskip("tritonclient.http", reason="tritonclient is not installed (test extra)")
    case, server = served
    client = triton.InferenceServerClient(url=server.url.removeprefix("http://"))
    datatypes = _datatypes(case)
    try:
        inputs = []
        for name, value in case.arrays().items():
            tensor = triton.InferInput(name, list(value.shape), datatypes[name])
            tensor.set_data_from_numpy(value, binary_data=True)
            inputs.append(tensor)
        outputs = [triton.InferRequestedOutput(t["name"], binary_data=True) for t in case.outputs]
        result = client.infer(case.name, inputs, outputs=outputs)
        for name, want in _by_name(case.expected, case.outputs).items():
            got = result.as_numpy(name)
            assert got.dtype == want.dtype, name
            _assert_matches(got, want)
    finally:
        client.close()


async def _post_all(url: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        return list(await asyncio.gather(*(client.post("/invocations", json=body) for body in bodies)))


def test_concurrent_tensor_requests_each_get_their_own_rows(dl_served: Served) -> None:
    """Image batches and dicts of tensors, merged by the batcher, come back split per caller."""
    for name in ("torch-cnn", "torch-towers"):
        case, server = _ready(name, dl_served)
        assert f"model {name} version 1 ready" in server.output and "(batching on)" in server.output
        arrays, want = case.arrays(), _by_name(case.expected, case.outputs)
        rows = _rows_of(case)
        slices = [(start, stop) for start in range(rows) for stop in range(start + 1, rows + 1)]
        bodies = [_as_body({k: v[a:b] for k, v in arrays.items()}, case) for a, b in slices]
        for (start, stop), response in zip(slices, asyncio.run(_post_all(server.url, bodies)), strict=True):
            assert response.status_code == 200, response.text
            predictions = response.json()["predictions"]
            got = predictions if isinstance(predictions, dict) else {case.outputs[0]["name"]: predictions}
            _assert_matches(got, {key: value[start:stop] for key, value in want.items()})


# ---------------------------------------------------------------------------------------------
# bad input


def _shape(dims: Any) -> str:
    return "(" + ", ".join(str(d) for d in dims) + ")"


def _bad_inputs(case: TensorCase) -> list[tuple[str, dict[str, np.ndarray], dict[str, str], str]]:
    """(what, arrays by input name, V2 datatypes by input name, the error message)."""
    first = case.inputs[0]
    name = first["name"]
    good, datatypes = case.arrays(), _datatypes(case)
    value = good[name]
    expected = f"Input '{name}': expected shape {_shape(first['shape'])}"
    wider = np.zeros((*value.shape[:-1], value.shape[-1] + 1), dtype=value.dtype)
    deeper = value[np.newaxis]  # one more dimension: a 3-D batch to a 2-D model, 5-D to the CNN
    strings = np.full(value.shape, "x", dtype=object)
    bad = [
        ("wider", {**good, name: wider}, datatypes, f"{expected}, got {_shape(wider.shape)}."),
        ("deeper", {**good, name: deeper}, datatypes, f"{expected}, got {_shape(deeper.shape)}."),
        (
            "strings",
            {**good, name: strings},
            {**datatypes, name: "BYTES"},
            f"Input '{name}': expected dtype {value.dtype}, got str.",
        ),
    ]
    for tensor in case.inputs:
        if tensor["datatype"] == "INT64":
            fractions = good[tensor["name"]] + 0.5
            message = f"Input '{tensor['name']}': expected dtype int64, got float64."
            bad.append(
                ("fractions", {**good, tensor["name"]: fractions}, {**datatypes, tensor["name"]: "FP64"}, message)
            )
    return bad


def _as_body(arrays: dict[str, np.ndarray], case: TensorCase) -> dict[str, Any]:
    if case.named:
        return {"inputs": {name: value.tolist() for name, value in arrays.items()}}
    return {"inputs": next(iter(arrays.values())).tolist()}


def test_wrong_shapes_and_dtypes_get_400s_that_name_the_input(served: tuple[TensorCase, ServerProcess]) -> None:
    case, server = served
    client = server.client
    first = case.inputs[0]["name"]
    for what, arrays, datatypes, message in _bad_inputs(case):
        response = client.post(f"/invocations/{case.name}", json=_as_body(arrays, case))
        assert response.status_code == 400, (what, response.text)
        body = response.json()
        assert body.pop("request_id") == response.headers["x-request-id"], what
        assert body == {"error_code": "INVALID_PARAMETER_VALUE", "message": message}, what

        response = client.post(f"/v2/models/{case.name}/infer", json=_v2_request(arrays, datatypes))
        assert response.status_code == 400, (what, response.text)
        body = response.json()
        assert body.pop("request_id") == response.headers["x-request-id"], what
        assert body == {"error": message}, what

    ragged = case.arrays()[first].tolist()
    ragged[0] = ragged[0][:-1]
    body = {"inputs": {**_as_body(case.arrays(), case)["inputs"], first: ragged}} if case.named else {"inputs": ragged}
    response = client.post(f"/invocations/{case.name}", json=body)
    assert response.status_code == 400, response.text
    assert f"Input '{first}': expected shape" in response.json()["message"]
    assert "nested lists of different lengths" in response.json()["message"]

    good = client.post(f"/invocations/{case.name}", json=_as_body(case.arrays(), case))
    assert good.status_code == 200  # the server keeps serving
    _assert_matches(good.json()["predictions"], case.expected)
    assert server.process.poll() is None


# ---------------------------------------------------------------------------------------------
# OpenAPI


def test_openapi_schemas_take_the_requests_and_answers(served: tuple[TensorCase, ServerProcess]) -> None:
    case, server = served
    document = server.client.get("/openapi.json").json()
    validate(document)

    def validator(schema: dict[str, Any]) -> OAS30Validator:
        return OAS30Validator({**schema, "components": document["components"]})

    operation = document["paths"]["/invocations"]["post"]
    content = operation["requestBody"]["content"]["application/json"]
    request_schema = validator(content["schema"])
    answer_schema = validator(operation["responses"]["200"]["content"]["application/json"]["schema"])
    for form, body in [*_bodies(case).items(), ("example", content["example"])]:
        assert not [e.message for e in request_schema.iter_errors(body)], form
        answer = server.client.post("/invocations", json=body)
        assert answer.status_code == 200, (form, answer.text)
        assert not [e.message for e in answer_schema.iter_errors(answer.json())], form
    wider = {**case.arrays()}
    first = case.inputs[0]["name"]
    wider[first] = np.zeros((2, *[d + 1 for d in wider[first].shape[1:]]), dtype=wider[first].dtype)
    assert list(request_schema.iter_errors(_as_body(wider, case)))  # fixed dimensions are in the schema

    infer = document["paths"][f"/v2/models/{case.name}/infer"]["post"]
    example = infer["requestBody"]["content"]["application/json"]["example"]
    answer = server.client.post(f"/v2/models/{case.name}/infer", json=example)
    assert answer.status_code == 200, answer.text
    assert {t["name"] for t in answer.json()["outputs"]} == {t["name"] for t in case.outputs}


# ---------------------------------------------------------------------------------------------
# processes: thread budgets and which frameworks get loaded


def test_serve_workers_size_the_compute_threads_of_each_copy(
    start_server: Any, dl_served: Served, tmp_path: Path
) -> None:
    """``pack serve -w 2``: each worker loads its models with ``workers=2``, and the flavors share the CPUs."""
    if not {"onnx-helper", "torch-mlp"} <= set(dl_served):
        pytest.skip("needs onnxruntime and torch")

    class ThreadProbe(pack.pyfunc.PythonModel):
        """Wraps an ONNX and a PyTorch model, loaded with the serving config, and reports their threads."""

        def load_context(self, context: Any) -> None:
            self.workers = context.model_config.get("workers")
            config = context.model_config
            self.onnx = pack.pyfunc.load_model(context.artifacts["onnx"], model_config=config)
            pack.pyfunc.load_model(context.artifacts["torch"], model_config=config)

        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            import torch

            options = self.onnx.predictor.session.get_session_options()
            row = {
                "workers": self.workers,
                "onnx_threads": options.intra_op_num_threads,
                "torch_threads": torch.get_num_threads(),
            }
            return pd.DataFrame([row] * len(model_input))

    artifacts = {"onnx": str(dl_served["onnx-helper"][0].path), "torch": str(dl_served["torch-mlp"][0].path)}
    probe = tmp_path / "probe"
    pack.pyfunc.save_model(probe, python_model=ThreadProbe(), artifacts=artifacts)
    server = start_server(str(probe), "-w", "2", ready=False)

    share = threads_per_worker(2)
    answers = []
    deadline = time.monotonic() + 120
    while len(answers) < 4 and time.monotonic() < deadline:  # a new connection each time: either worker answers
        response = httpx.post(f"{server.url}/invocations", json={"inputs": {"x": [0.0]}}, timeout=60)
        if response.status_code == 503:  # that worker is still loading
            time.sleep(0.1)
            continue
        assert response.status_code == 200, response.text
        answers.append(response.json()["predictions"])
    assert answers == [[{"workers": 2, "onnx_threads": share, "torch_threads": share}]] * 4


def test_an_sklearn_server_never_loads_torch_or_tensorflow(
    start_server: Any,
    random_forest: Any,
    classification_data: Any,
    echo_model: Path,
    rf_server: ServerProcess,
    dl_served: Served,
    tmp_path: Path,
) -> None:
    """Read from the server process's memory map, after it loaded and used its models.

    scikit-learn models saved with pickle (and custom models) load no framework. skops models do
    load torch when it is installed: ``skops.io`` lists scikit-learn's estimators at import, and that
    package walk imports ``sklearn.externals.array_api_compat.torch`` (see
    ``tests/flavors/test_lazy_frameworks.py``). A serving image built from such a model's
    requirements has no torch to import; here only TensorFlow is checked for the skops server.
    """
    if not Path("/proc/self/maps").is_file():
        pytest.skip("needs /proc (Linux)")
    frame, _ = classification_data
    pack.save_model(random_forest, tmp_path / "forest", input_example=frame.head(3), serialization_format="pickle")
    server = start_server(f"forest={tmp_path / 'forest'}", str(echo_model))
    rows = {"dataframe_split": frame.head(5).to_dict(orient="split")}
    forest = server.client.post("/invocations/forest", json=rows)
    echo = server.client.post("/invocations/echo", json={"dataframe_records": [{"id": 1, "x": 0.5}]})
    skops = rf_server.client.post("/invocations", json=rows)
    assert (forest.status_code, echo.status_code, skops.status_code) == (200, 200, 200)

    def frameworks(process_id: int) -> set[str]:
        files = mapped_files(process_id)
        return {name for name, libraries in FRAMEWORK_LIBRARIES.items() if files & set(libraries)}

    assert frameworks(server.process.pid) == set()
    assert "tensorflow" not in frameworks(rf_server.process.pid)
    # the check sees a framework when one is loaded
    for name, framework in (("torch-mlp", "torch"), ("tf-module", "tensorflow")):
        if name in dl_served:
            _, dl_server = _ready(name, dl_served)
            assert framework in frameworks(dl_server.process.pid)
