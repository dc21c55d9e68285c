"""The OpenAPI 3.0 document of a server, with request/response schemas from each model's signature."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import orjson

from pack._version import __version__
from pack.flavors.examples import load_serving_example
from pack.serving import v2
from pack.serving.codecs import CSV, JSON, PARQUET
from pack.serving.dataplane import DataPlane, ServedModel
from pack.serving.schemas import (
    csv_schema,
    inputs_schema,
    instance_schema,
    params_schema,
    predictions_schema,
    row_schema,
)
from pack.serving.tensors import DATATYPES

OPENAPI_VERSION = "3.0.3"
_MLFLOW_ERRORS = {
    "400": "Malformed body or input that violates the signature (the message names the column)",
    "404": "No such model",
    "413": "Body larger than the server's limit",
    "415": "Unsupported content type",
    "500": "The model raised (details in the server log)",
    "503": "The model is still loading",
    "504": "The request took longer than the server's timeout",
}


def build_openapi(dataplane: DataPlane) -> dict[str, Any]:
    """The whole document: every route, with per-model schemas and examples."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = dict(_COMMON_SCHEMAS)
    latest = {m.name: dataplane.get(m.name) for m in dataplane.models}
    if len(latest) == 1:
        only = next(iter(latest.values()))
        paths["/invocations"] = {"post": _invocations_operation(only, "invocations")}
    for name, served in latest.items():
        paths[f"/invocations/{name}"] = {"post": _invocations_operation(served, f"invocations_{name}")}
    paths.update(_health_paths())
    for served in dataplane.models:
        schemas.update(_model_schemas(served))
    for name, served in latest.items():
        paths.update(_v2_model_paths(served, f"/v2/models/{name}", dataplane.versions(name), f"{name}"))
    for served in dataplane.models:
        base = f"/v2/models/{served.name}/versions/{served.version}"
        tag = f"{served.name}_v{served.version}"
        paths.update(_v2_model_paths(served, base, dataplane.versions(served.name), tag))
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "pack model server",
            "version": __version__,
            "description": "MLflow-compatible scoring (/invocations) and the Open Inference Protocol (V2).",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }


def dumps_openapi(dataplane: DataPlane) -> bytes:
    """The document as JSON bytes."""
    return orjson.dumps(build_openapi(dataplane))


# ---------------------------------------------------------------------------------------------
# /invocations


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_response(description: str, schema: Mapping[str, Any], example: Any = None) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": dict(schema)}
    if example is not None:
        media["example"] = example
    return {"description": description, "content": {JSON: media}}


def _invocations_operation(served: ServedModel, operation_id: str) -> dict[str, Any]:
    json_media: dict[str, Any] = {"schema": _ref(f"{served.name}.v{served.version}.InvocationsRequest")}
    example = _serving_example(served)
    if example is not None:
        json_media["example"] = example
    responses = {
        "200": _json_response(
            "Predictions",
            {
                "type": "object",
                "properties": {
                    "predictions": predictions_schema(served.signature.outputs if served.signature else None)
                },
            },
        )
    }
    for status, description in _MLFLOW_ERRORS.items():
        responses[status] = _json_response(description, _ref("Error"))
    return {
        "operationId": operation_id,
        "tags": ["MLflow scoring"],
        "summary": f"Score with {served.name} (version {served.version})",
        "description": (
            "JSON with exactly one of dataframe_split, dataframe_records, instances or inputs "
            "(plus optional params), CSV with a header row, or Parquet."
        ),
        "requestBody": {
            "required": True,
            "content": {
                JSON: json_media,
                CSV: {"schema": csv_schema(served.input_schema)},
                PARQUET: {"schema": {"type": "string", "format": "binary"}},
            },
        },
        "responses": responses,
    }


def _serving_example(served: ServedModel) -> Any:
    try:
        raw = load_serving_example(served.spec.path, served.mlmodel)
        return orjson.loads(raw) if raw is not None else None
    except (OSError, orjson.JSONDecodeError, ValueError):
        return None


def _model_schemas(served: ServedModel) -> dict[str, Any]:
    prefix = f"{served.name}.v{served.version}"
    signature = served.signature
    inputs = signature.inputs if signature is not None else None
    params = signature.params if signature is not None else None
    row = row_schema(inputs)
    request: dict[str, Any] = {
        "type": "object",
        "description": "Exactly one of dataframe_split, dataframe_records, instances, inputs (+ params).",
        "properties": {
            "dataframe_split": {
                "type": "object",
                "required": ["data"],
                "properties": {
                    "columns": {"type": "array", "items": {"type": "string"}},
                    "data": {"type": "array", "minItems": 1, "items": {"type": "array", "items": {}}},
                    "index": {"type": "array", "items": {}},
                },
            },
            "dataframe_records": {"type": "array", "minItems": 1, "items": row},
            "instances": {"type": "array", "minItems": 1, "items": instance_schema(inputs)},
            "inputs": inputs_schema(inputs),
            "params": params_schema(params),
        },
        "oneOf": [{"required": [key]} for key in ("dataframe_split", "dataframe_records", "instances", "inputs")],
    }
    infer = copy.deepcopy(_COMMON_SCHEMAS["V2InferRequest"])
    names = [t["name"] for t in v2.tensor_metadata(signature.outputs if signature else None, output=True)]
    infer["properties"]["outputs"]["items"]["properties"]["name"] = {"type": "string", "enum": names or ["predictions"]}
    return {f"{prefix}.InvocationsRequest": request, f"{prefix}.V2InferRequest": infer}


# ---------------------------------------------------------------------------------------------
# health and V2


def _get(summary: str, tag: str, responses: dict[str, Any], operation_id: str) -> dict[str, Any]:
    return {"get": {"operationId": operation_id, "tags": [tag], "summary": summary, "responses": responses}}


def _health_paths() -> dict[str, Any]:
    ready = {
        "200": {"description": "Every model is loaded and warmed up"},
        "503": _json_response("Models are still loading", _ref("Error")),
    }
    text = {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}}
    return {
        "/ping": _get("Readiness (MLflow, SageMaker)", "Health", ready, "ping"),
        "/health": _get("Readiness (MLflow)", "Health", ready, "health"),
        "/version": _get("pack's version", "Health", {"200": text}, "version"),
        "/metrics": _get("Prometheus metrics", "Health", {"200": text}, "metrics"),
        "/v2": _get(
            "Server metadata",
            "Open Inference Protocol (V2)",
            {"200": _json_response("Server metadata", _ref("V2ServerMetadata"), v2.server_metadata())},
            "v2_server_metadata",
        ),
        "/v2/health/live": _get(
            "Liveness",
            "Open Inference Protocol (V2)",
            {"200": _json_response("The server answers", _ref("V2Live"))},
            "v2_live",
        ),
        "/v2/health/ready": _get(
            "Readiness",
            "Open Inference Protocol (V2)",
            {
                "200": _json_response("Every model is ready", _ref("V2Ready")),
                "503": _json_response("Models are still loading", _ref("V2Ready")),
            },
            "v2_ready",
        ),
        "/v2/models": _get(
            "Served model names",
            "Open Inference Protocol (V2)",
            {"200": _json_response("Model names", _ref("V2ModelList"))},
            "v2_models",
        ),
    }


def _v2_model_paths(served: ServedModel, base: str, versions: list[str], tag: str) -> dict[str, Any]:
    group = "Open Inference Protocol (V2)"
    errors = {
        status: _json_response(description, _ref("V2Error"))
        for status, description in _MLFLOW_ERRORS.items()
        if status != "415"
    }
    metadata = v2.model_metadata(served.name, versions, served.mlmodel.flavors, served.signature)
    infer = {
        "operationId": f"v2_infer_{tag}",
        "tags": [group],
        "summary": f"Infer with {served.name} (version {served.version})",
        "description": "JSON, or the binary tensor extension (Inference-Header-Content-Length).",
        "requestBody": {
            "required": True,
            "content": {
                JSON: {
                    "schema": _ref(f"{served.name}.v{served.version}.V2InferRequest"),
                    "example": _v2_example(metadata),
                }
            },
        },
        "responses": {"200": _json_response("Outputs", _ref("V2InferResponse")), **errors},
    }
    ready_responses = {
        "200": _json_response("The model is ready", _ref("V2ModelReady")),
        "503": _json_response("The model is loading", _ref("V2ModelReady")),
        "404": _json_response("No such model", _ref("V2Error")),
    }
    return {
        base: _get(
            f"Metadata of {served.name}",
            group,
            {"200": _json_response("Metadata", _ref("V2ModelMetadata"), metadata), "404": errors["404"]},
            f"v2_metadata_{tag}",
        ),
        f"{base}/ready": _get(f"Readiness of {served.name}", group, ready_responses, f"v2_model_ready_{tag}"),
        f"{base}/infer": {"post": infer},
    }


def _v2_example(metadata: Mapping[str, Any]) -> dict[str, Any]:
    samples = {"BOOL": True, "BYTES": "text", "FP16": 0.5, "FP32": 0.5, "FP64": 0.5}
    inputs = []
    for tensor in metadata["inputs"]:
        shape = [1 if d < 0 else d for d in tensor["shape"]]
        count = 1
        for d in shape:
            count *= d
        value = samples.get(tensor["datatype"], 1)
        inputs.append({"name": tensor["name"], "shape": shape, "datatype": tensor["datatype"], "data": [value] * count})
    return {"inputs": inputs}


_STRINGS = {"type": "string"}
_TENSOR = {
    "type": "object",
    "required": ["name", "shape", "datatype"],
    "properties": {
        "name": _STRINGS,
        "shape": {"type": "array", "items": {"type": "integer"}},
        "datatype": {"type": "string", "enum": list(DATATYPES)},
        "parameters": {"type": "object"},
        "data": {"type": "array", "items": {}},
    },
}
_COMMON_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error_code", "message"],
        "properties": {"error_code": _STRINGS, "message": _STRINGS},
    },
    "V2Error": {"type": "object", "required": ["error"], "properties": {"error": _STRINGS}},
    "V2Live": {"type": "object", "properties": {"live": {"type": "boolean"}}},
    "V2Ready": {"type": "object", "properties": {"ready": {"type": "boolean"}}},
    "V2ModelReady": {"type": "object", "properties": {"name": _STRINGS, "ready": {"type": "boolean"}}},
    "V2ModelList": {"type": "object", "properties": {"models": {"type": "array", "items": _STRINGS}}},
    "V2ServerMetadata": {
        "type": "object",
        "properties": {
            "name": _STRINGS,
            "version": _STRINGS,
            "extensions": {"type": "array", "items": _STRINGS},
        },
    },
    "V2TensorMetadata": {
        "type": "object",
        "properties": {
            "name": _STRINGS,
            "datatype": _STRINGS,
            "shape": {"type": "array", "items": {"type": "integer"}},
        },
    },
    "V2ModelMetadata": {
        "type": "object",
        "properties": {
            "name": _STRINGS,
            "versions": {"type": "array", "items": _STRINGS},
            "platform": _STRINGS,
            "inputs": {"type": "array", "items": _ref("V2TensorMetadata")},
            "outputs": {"type": "array", "items": _ref("V2TensorMetadata")},
        },
    },
    "V2Tensor": _TENSOR,
    "V2InferRequest": {
        "type": "object",
        "required": ["inputs"],
        "properties": {
            "id": _STRINGS,
            "parameters": {"type": "object"},
            "inputs": {"type": "array", "items": _ref("V2Tensor")},
            "outputs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": _STRINGS, "parameters": {"type": "object"}},
                },
            },
        },
    },
    "V2InferResponse": {
        "type": "object",
        "properties": {
            "model_name": _STRINGS,
            "model_version": _STRINGS,
            "id": _STRINGS,
            "outputs": {"type": "array", "items": _ref("V2Tensor")},
        },
    },
}

__all__ = ["OPENAPI_VERSION", "build_openapi", "dumps_openapi"]
