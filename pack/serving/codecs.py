"""HTTP content types of ``/invocations`` <-> data, on top of ``pack.flavors.payloads``.

Accepted: ``application/json`` (MLflow's ``dataframe_split``, ``dataframe_records``, ``instances``
or ``inputs``, plus ``params``), ``text/csv`` (also ``application/csv``, as MLflow's docs spell it)
and ``application/vnd.apache.parquet``. Only ``charset=utf-8`` is read. Answers are
``{"predictions": ...}`` written by orjson.
"""

from __future__ import annotations

from typing import Any

from pack.flavors import payloads
from pack.flavors.schema import Schema
from pack.serving.errors import UnsupportedMediaType
from pack.types import Params

JSON = "application/json"
CSV = "text/csv"
PARQUET = "application/vnd.apache.parquet"
_ALIASES = {"application/csv": CSV}
CONTENT_TYPES = (JSON, CSV, PARQUET)


def parse_content_type(header: str | None) -> tuple[str, dict[str, str]]:
    """``"Application/JSON; charset=UTF-8"`` -> ``("application/json", {"charset": "UTF-8"})``."""
    if not header:
        return "", {}
    media, *rest = header.split(";")
    options = {}
    for item in rest:
        key, _, value = item.partition("=")
        if key.strip():
            options[key.strip().lower()] = value.strip().strip('"')
    return media.strip().lower(), options


def decode(content_type: str | None, body: bytes | bytearray, schema: Schema | None) -> tuple[Any, Params | None]:
    """Decode an ``/invocations`` body into ``(data, params)``.

    Raises:
        UnsupportedMediaType: the content type (or charset) is not one of the accepted ones.
        InvalidInput: the body is malformed.
    """
    media, options = parse_content_type(content_type)
    media = _ALIASES.get(media, media)
    if media not in CONTENT_TYPES:
        shown = repr(media) if media else "missing"
        raise UnsupportedMediaType(f"Content-Type {shown} is not supported; use one of {', '.join(CONTENT_TYPES)}")
    charset = options.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"charset {charset!r} is not supported; send utf-8")
    if media == JSON:
        return payloads.parse_json_request(body, schema, tables=True)
    if media == CSV:
        return payloads.parse_csv(body, schema), None
    return payloads.parse_parquet(bytes(body), schema), None


def encode(predictions: Any) -> bytes:
    """The ``{"predictions": ...}`` body."""
    return payloads.dumps_predictions(predictions)


__all__ = ["CONTENT_TYPES", "CSV", "JSON", "PARQUET", "decode", "encode", "parse_content_type"]
