"""The Open Inference Protocol (V2): Nvidia's tritonclient against a real server, and edge cases."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest

from pack.errors import InvalidInput
from pack.flavors.schema import ColSpec, DataType, Schema, TensorSpec
from pack.serving import v2
from tests.serving.support import FEATURES, ServerProcess, load_quietly


def _triton(server: ServerProcess) -> Any:
    triton = pytest.importorskip("tritonclient.http", reason="tritonclient is not installed (test extra)")

    return triton, triton.InferenceServerClient(url=server.url.removeprefix("http://"))


def test_tritonclient_health_and_metadata(multi_server: ServerProcess) -> None:
    triton, client = _triton(multi_server)
    try:
        assert client.is_server_live()
        assert client.is_server_ready()
        assert client.is_model_ready("rf")
        assert client.is_model_ready("rf", "2")
        assert not client.is_model_ready("nope")
        assert client.get_server_metadata()["name"] == "pack"
        metadata = client.get_model_metadata("halves", "1")
        assert metadata["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 4]}]
        assert metadata["outputs"] == [{"name": "predictions", "datatype": "FP32", "shape": [-1, 2]}]
        with pytest.raises(triton.InferenceServerException, match="not served"):
            client.get_model_metadata("nope")
    finally:
        client.close()


@pytest.mark.parametrize("binary", [True, False])
def test_tritonclient_infers_like_in_process(
    multi_server: ServerProcess, rf_model: Path, rf_data: tuple[Any, pd.DataFrame], binary: bool
) -> None:
    triton, client = _triton(multi_server)
    _, frame = rf_data
    rows = frame.iloc[10:17].to_numpy()
    expected = load_quietly(rf_model).predict(pd.DataFrame(rows, columns=FEATURES))
    try:
        single = triton.InferInput("features", list(rows.shape), "FP64")
        single.set_data_from_numpy(rows, binary_data=binary)
        outputs = [triton.InferRequestedOutput("predictions", binary_data=binary)]
        result = client.infer("rf", [single], model_version="2", outputs=outputs, request_id="r-1")
        assert result.get_response()["id"] == "r-1"
        assert result.as_numpy("predictions").tolist() == expected.tolist()

        columns = []
        for index, name in enumerate(FEATURES):
            column = triton.InferInput(name, [len(rows)], "FP64")
            column.set_data_from_numpy(np.ascontiguousarray(rows[:, index]), binary_data=binary)
            columns.append(column)
        by_column = client.infer("rf", columns)  # no outputs named: all of them, in binary
        assert by_column.as_numpy("predictions").tolist() == expected.tolist()

        tensor = np.arange(8, dtype=np.float32).reshape(2, 4)
        halves_input = triton.InferInput("input", [2, 4], "FP32")
        halves_input.set_data_from_numpy(tensor, binary_data=binary)
        halves = client.infer("halves", [halves_input])
        assert halves.as_numpy("predictions").tolist() == (tensor[:, :2] * 2).tolist()

        tags = triton.InferInput("tag", [2], "BYTES")
        tags.set_data_from_numpy(np.array([b"x", b"yz"], dtype=object), binary_data=binary)
        values = triton.InferInput("x", [2], "FP64")
        values.set_data_from_numpy(np.array([1.0, 2.0]), binary_data=binary)
        scaled = client.infer("scaled", [values, tags], parameters={"scale": 10.0})
        assert scaled.as_numpy("y").tolist() == [10.0, 20.0]
        assert [bytes(v) for v in scaled.as_numpy("tag").tolist()] == [b"X", b"YZ"]

        bad = triton.InferInput("features", [1, 3], "FP64")
        bad.set_data_from_numpy(np.zeros((1, 3)), binary_data=binary)
        with pytest.raises(triton.InferenceServerException, match="missing inputs"):
            client.infer("rf", [bad])
    finally:
        client.close()


def test_v2_errors_over_http(multi_server: ServerProcess) -> None:
    client = multi_server.client

    def infer(body: Any, path: str = "/v2/models/rf/infer", **headers: str) -> Any:
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        return client.post(path, content=content, headers=headers)

    cases = [
        b"{nope",
        {"inputs": "x"},
        {"inputs": [{"name": "a", "shape": [1], "datatype": "FP99", "data": [1]}]},
        {"inputs": [{"name": "a", "shape": [2], "datatype": "FP64", "data": [1]}]},
        {"inputs": [{"name": "a", "shape": [1], "datatype": "INT64", "data": [1.5]}]},
        {
            "inputs": [{"name": "a", "shape": [1, 10], "datatype": "FP64", "data": [0] * 10}],
            "outputs": [{"name": "z"}],
        },
    ]
    for body in cases:
        response = infer(body)
        assert response.status_code == 400, (body, response.text)
        assert set(response.json()) == {"error", "request_id"}
    header = orjson.dumps(
        {"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "parameters": {"binary_data_size": 8}}]}
    )
    truncated = infer(header + b"\x00" * 4, **{"inference-header-content-length": str(len(header))})
    assert truncated.status_code == 400
    assert "binary_data_size" in truncated.json()["error"]
    gzip = infer({"inputs": []}, **{"content-encoding": "gzip"})
    assert gzip.status_code == 415
    assert set(gzip.json()) == {"error", "request_id"}
    assert client.get("/v2/models/nope/ready").status_code == 404


def test_parse_binary_request_and_encode_binary_response() -> None:
    schema = Schema((TensorSpec("float32", (-1, 2), "t"),))
    raw = np.array([[1, 2], [3, 4]], dtype=np.float32).tobytes()
    words = b"".join(struct.pack("<I", len(w)) + w for w in (b"ab", b""))
    header = orjson.dumps(
        {
            "id": "7",
            "parameters": {"binary_data_output": True, "temperature": 0.5, "priority": 1},
            "inputs": [
                {
                    "name": "t",
                    "shape": [2, 2],
                    "datatype": "FP32",
                    "parameters": {"binary_data_size": len(raw)},
                },
                {
                    "name": "w",
                    "shape": [2],
                    "datatype": "BYTES",
                    "parameters": {"binary_data_size": len(words)},
                },
            ],
        }
    )
    request = v2.parse_infer(header + raw + words, str(len(header)), schema, frozenset({"temperature"}))
    assert request.id == "7"
    assert request.params == {"temperature": 0.5}
    assert request.binary_output
    assert request.data["t"].tolist() == [[1, 2], [3, 4]]
    assert request.data["w"].tolist() == [b"ab", b""]

    body, headers = v2.encode_infer(request, "m", "1", {"out": np.array([1.5, 2.5]), "s": ["é", "b"]}, None)
    length = int(headers[v2.HEADER_LENGTH])
    response = orjson.loads(body[:length])
    assert response["id"] == "7"
    sizes = [o["parameters"]["binary_data_size"] for o in response["outputs"]]
    assert np.frombuffer(body[length : length + sizes[0]], dtype="<f8").tolist() == [1.5, 2.5]
    strings = body[length + sizes[0] :]
    assert strings == struct.pack("<I", 2) + "é".encode() + struct.pack("<I", 1) + b"b"


def test_model_input_follows_the_signature() -> None:
    columns = Schema((ColSpec(DataType.double, "a"), ColSpec(DataType.string, "b")))
    tensors = {"a": np.array([[1.0], [2.0]]), "b": np.array([b"x", b"y"], dtype=object)}
    frame = v2.model_input(tensors, columns)
    assert frame.to_dict("list") == {"a": [1.0, 2.0], "b": ["x", "y"]}
    single = v2.model_input({"whatever": np.ones((3, 2))}, columns)
    assert list(single.columns) == ["a", "b"]
    assert v2.model_input({"x": np.ones(2)}, None).tolist() == [1, 1]
    with pytest.raises(InvalidInput, match="row count"):
        v2.model_input({"a": np.ones(2), "b": np.ones(3)}, columns)
    with pytest.raises(InvalidInput, match="UTF-8"):
        v2.model_input({"a": np.ones(1), "b": np.array([b"\xff"], dtype=object)}, columns)


def test_outputs_of_every_kind() -> None:
    request = v2.InferRequest(id=None, data=None, params=None, outputs=None, binary_output=False)
    frame = pd.DataFrame(
        {"when": pd.to_datetime(["2024-01-02"]), "flag": [True], "mixed": pd.Series([1], dtype=object)}
    )
    body, headers = v2.encode_infer(request, "m", "1", frame, None)
    assert headers["content-type"] == "application/json"
    outputs = {o["name"]: o for o in orjson.loads(body)["outputs"]}
    assert outputs["when"]["datatype"] == "BYTES"
    assert outputs["when"]["data"][0].startswith("2024-01-02")
    assert outputs["flag"] == {"name": "flag", "datatype": "BOOL", "shape": [1], "data": [True]}
    assert outputs["mixed"]["datatype"] == "INT64"
    named = Schema((ColSpec(DataType.long, "label"),))
    body, _ = v2.encode_infer(request, "m", "1", np.array([3], dtype=np.int32), named)
    assert orjson.loads(body)["outputs"][0]["name"] == "label"
    half = v2.encode_infer(request, "m", "1", np.array([0.5], dtype=np.float16), None)[0]
    assert orjson.loads(half)["outputs"][0] == {
        "name": "predictions",
        "datatype": "FP16",
        "shape": [1],
        "data": [0.5],
    }


def test_tensor_metadata() -> None:
    assert v2.tensor_metadata(Schema((ColSpec(DataType.long), ColSpec(DataType.long))), output=False) == [
        {"name": "input", "datatype": "INT64", "shape": [-1, 2]}
    ]
    assert v2.tensor_metadata(Schema((TensorSpec("uint8", (-1, 28, 28)),)), output=True) == [
        {"name": "predictions", "datatype": "UINT8", "shape": [-1, 28, 28]}
    ]
    assert v2.tensor_metadata(None, output=True) == []
