"""Scoring a deployment: ``predict`` inputs as MLflow's JSON body, answers and errors read back."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from pack.errors import DeployError, InvalidInput

_BODY_KEYS = {"dataframe_split", "dataframe_records", "instances", "inputs"}


def scoring_payload(inputs: Any) -> Any:
    """``inputs`` as the JSON-able body of ``/invocations``.

    A pandas DataFrame, or a mapping with ``columns`` and ``data``, becomes ``dataframe_split``; a list of
    mappings ``dataframe_records``; a mapping that already has one of MLflow's keys (``dataframe_split``,
    ``dataframe_records``, ``instances``, ``inputs``) is sent as it is; anything else becomes ``inputs``.

    Raises:
        InvalidInput: nothing to score.
    """
    if inputs is None:
        raise InvalidInput("nothing to score: pass inputs")
    if hasattr(inputs, "to_json") and hasattr(inputs, "columns"):  # a DataFrame, without importing pandas
        return {"dataframe_split": json.loads(inputs.to_json(orient="split", index=False))}
    if hasattr(inputs, "tolist"):  # a numpy array
        return {"inputs": inputs.tolist()}
    if isinstance(inputs, dict) and {"columns", "data"} <= set(inputs):  # a table in pandas' split form
        return {"dataframe_split": inputs}
    if isinstance(inputs, list) and inputs and all(isinstance(row, dict) for row in inputs):
        return {"dataframe_records": inputs}
    if isinstance(inputs, dict) and _BODY_KEYS & set(inputs):
        return inputs
    return {"inputs": inputs}


def scoring_body(inputs: Any) -> bytes:
    """``scoring_payload(inputs)`` encoded.

    Raises:
        InvalidInput: nothing to score, or data JSON cannot carry.
    """
    try:
        return json.dumps(scoring_payload(inputs)).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"inputs cannot be sent as JSON: {exc}") from None


def read_answer(status: int, body: bytes, where: str) -> Any:
    """The decoded answer; a 4xx becomes ``InvalidInput``, any other failure ``DeployError``."""
    try:
        answer = json.loads(body or b"null")
    except ValueError:
        answer = None
    if 200 <= status < 300:
        if answer is None and body:
            raise DeployError(f"{where} answered {status} with a body that is not JSON")
        return answer
    message = answer.get("message") or answer.get("error") if isinstance(answer, dict) else None
    text = str(message or body[:300].decode(errors="replace") or f"HTTP {status}")
    if 400 <= status < 500:
        raise InvalidInput(f"{where} refused the input ({status}): {text}")
    raise DeployError(f"{where} failed ({status}): {text}")


def post_invocations(url: str, inputs: Any, timeout: float = 60.0) -> Any:
    """POST ``inputs`` to ``url`` (``.../invocations``) and return the decoded answer.

    Raises:
        InvalidInput: the server refused the input (4xx).
        DeployError: the server failed or could not be reached.
    """
    request = urllib.request.Request(
        url, data=scoring_body(inputs), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return read_answer(response.status, response.read(), url)
    except urllib.error.HTTPError as error:
        with error:
            return read_answer(error.code, error.read(), url)
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DeployError(f"cannot reach {url}: {reason}") from None


__all__ = ["post_invocations", "read_answer", "scoring_body", "scoring_payload"]
