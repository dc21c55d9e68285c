"""Kubernetes resource quantities (``500m``, ``2``, ``512Mi``, ``1e3``), checked before anything is written."""

from __future__ import annotations

import re
from decimal import Decimal

from pack.errors import InvalidInput

_QUANTITY = re.compile(
    r"^(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def parse_quantity(text: str, what: str) -> Decimal:
    """The value of a positive Kubernetes quantity.

    Raises:
        InvalidInput: not a quantity, or not above zero; the message says what the flag takes.
    """
    match = _QUANTITY.match(str(text).strip())
    if match is None:
        raise InvalidInput(
            f"{what} {text!r} is not a Kubernetes quantity (e.g. 500m or 2 for CPU, 512Mi or 2Gi for memory)"
        )
    value = Decimal(match["number"])
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        value *= _BINARY[suffix]
    elif suffix in _DECIMAL:
        value = value.scaleb(_DECIMAL[suffix])
    elif suffix:
        value = value.scaleb(int(suffix[1:]))
    if value <= 0:
        raise InvalidInput(f"{what} {text!r} must be more than zero")
    return value


def check_request_within_limit(request: str, limit: str | None, resource: str) -> None:
    """Refuse a request above its limit (the API server would refuse the pod).

    Raises:
        InvalidInput: a quantity is malformed, or the request exceeds the limit.
    """
    wanted = parse_quantity(request, f"--{resource}")
    if limit is not None and wanted > parse_quantity(limit, f"--{resource}-limit"):
        raise InvalidInput(f"--{resource} {request} is above --{resource}-limit {limit}")


__all__ = ["check_request_within_limit", "parse_quantity"]
