"""Content types of /invocations and the error mapping."""

from __future__ import annotations

import pytest

from pack.errors import InvalidInput, ModelError, NotFound, PackError, SchemaError
from pack.flavors.schema import ColSpec, DataType, Schema
from pack.serving import codecs
from pack.serving.errors import (
    DeadlineExceeded,
    NotReady,
    PayloadTooLarge,
    UnsupportedMediaType,
    http_error,
    message_of,
    protocol_for_path,
    status_of,
)

SCHEMA = Schema((ColSpec(DataType.double, "a"), ColSpec(DataType.long, "b")))


def test_content_type_parsing() -> None:
    assert codecs.parse_content_type("Application/JSON; Charset=UTF-8") == (
        "application/json",
        {"charset": "UTF-8"},
    )
    assert codecs.parse_content_type(None) == ("", {})
    assert codecs.parse_content_type('text/csv; charset="utf-8"; x') == (
        "text/csv",
        {"charset": "utf-8", "x": ""},
    )


def test_decode_each_content_type() -> None:
    data, params = codecs.decode("application/json", b'{"inputs": {"a": [1], "b": [2]}, "params": {"k": 1}}', SCHEMA)
    assert data.to_dict("list") == {"a": [1.0], "b": [2]}
    assert str(data["a"].dtype) == "float64"
    assert params == {"k": 1}
    csv, none = codecs.decode("application/csv", b"a,b\n1.5,2\n", SCHEMA)
    assert csv.to_dict("list") == {"a": [1.5], "b": [2]}
    assert none is None


@pytest.mark.parametrize(
    ("content_type", "body", "error"),
    [
        (None, b"{}", UnsupportedMediaType),
        ("application/xml", b"<a/>", UnsupportedMediaType),
        ("application/json; charset=latin-1", b"{}", UnsupportedMediaType),
        ("application/json", b"[1, 2]", InvalidInput),
        ("text/csv", b"\xff\xfe", InvalidInput),
        ("text/csv", b"", InvalidInput),
        ("application/vnd.apache.parquet", b"PAR1 nope", InvalidInput),
    ],
)
def test_decode_refuses(content_type: str | None, body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        codecs.decode(content_type, body, SCHEMA)


def test_statuses_and_bodies() -> None:
    assert status_of(UnsupportedMediaType("x")) == (415, "BAD_REQUEST")
    assert status_of(PayloadTooLarge("x")) == (413, "BAD_REQUEST")
    assert status_of(SchemaError("x")) == (400, "INVALID_PARAMETER_VALUE")
    assert status_of(InvalidInput("x")) == (400, "BAD_REQUEST")
    assert status_of(NotFound("x")) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert status_of(NotReady("x")) == (503, "TEMPORARILY_UNAVAILABLE")
    assert status_of(DeadlineExceeded("x")) == (504, "DEADLINE_EXCEEDED")
    assert status_of(ModelError("x")) == (500, "INTERNAL_ERROR")
    assert status_of(PackError("x")) == (500, "INTERNAL_ERROR")
    assert status_of(KeyError("x")) == (500, "INTERNAL_ERROR")
    assert http_error(NotFound("no model 'q'"), "v2") == (404, b'{"error":"no model \'q\'"}')
    assert http_error(SchemaError("bad 'a'"), "mlflow") == (
        400,
        b'{"error_code":"INVALID_PARAMETER_VALUE","message":"bad \'a\'"}',
    )
    assert message_of(RuntimeError("secret internals")) == "Internal server error; see the server log."
    hidden = message_of(ModelError("ValueError: secret=/etc/shadow"), "req-1")
    assert hidden == "The model failed to predict (ModelError); see the server log (request req-1)."
    long = message_of(ModelError("ValueError: " + "x" * 2000 + "\nsecond line"), expose=True)
    assert long.startswith("The model failed to predict: ValueError: ")
    assert len(long) == 500
    assert "second line" not in long
    assert [protocol_for_path(p) for p in ("/v2", "/v2/models/a", "/v2x", "/invocations")] == [
        "v2",
        "v2",
        "mlflow",
        "mlflow",
    ]
