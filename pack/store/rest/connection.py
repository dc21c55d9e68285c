"""``RestConnection``: one pooled HTTP client for one tracking server, with MLflow's REST conventions.

- GET fields travel as query parameters (repeated fields repeated), other methods send JSON bodies.
- Errors are ``{"error_code": ..., "message": ...}`` with an HTTP status; they become ``pack.errors``
  (``RESOURCE_DOES_NOT_EXIST`` -> ``NotFound``, ``RESOURCE_ALREADY_EXISTS`` -> ``AlreadyExists``, bad
  input -> ``InvalidInput``, the rest -> ``RegistryError``). A 404 without an error code, or with
  ``ENDPOINT_NOT_FOUND``, means the server has no such endpoint (``MissingEndpoint``).
- Credentials, as MLflow's client sends them: HTTP basic when a username and password are set, else a
  bearer token when one is set.
- Retries with exponential backoff and jitter: a connection that could not be opened (nothing was sent)
  is retried for every call; 429/502/503/504 answers (honouring ``Retry-After``), broken connections
  and read timeouts only for idempotent calls, since the server may have acted on the first attempt.
- Every request has a timeout; the pool holds at most ``max_connections`` connections.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from pack._version import __version__
from pack.errors import AlreadyExists, InvalidInput, NotFound, PackError, RegistryError

log = logging.getLogger(__name__)

_NOT_FOUND = {"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"}
_EXISTS = {"RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"}
_BAD_INPUT = {"INVALID_PARAMETER_VALUE", "BAD_REQUEST", "INVALID_STATE", "MALFORMED_REQUEST", "INVALID_REQUEST"}
_RETRY_STATUSES = {429, 502, 503, 504}
_MAX_RETRY_AFTER = 60.0


class MissingEndpoint(RegistryError):
    """The server has no such endpoint (an MLflow server asked for one of pack's extensions)."""


@dataclass(frozen=True)
class HttpOptions:
    """How a ``RestConnection`` talks: credentials, timeouts, retries, TLS.

    Attributes:
        token: bearer token (``PACK_TRACKING_TOKEN`` / ``MLFLOW_TRACKING_TOKEN``).
        username, password: HTTP basic credentials; they win over ``token`` when both are set.
        timeout: seconds for each request (connecting, each read, each write).
        max_retries: attempts after the first one.
        backoff: seconds before the first retry; doubled each time, with jitter, up to ``max_backoff``.
        verify: check the server's TLS certificate.
        max_connections: size of the connection pool.
    """

    token: str | None = None
    username: str | None = None
    password: str | None = None
    timeout: float = 120.0
    max_retries: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0
    verify: bool = True
    max_connections: int = 32


Body = Callable[[], Iterable[bytes]]
"""Makes a request body afresh for each attempt (an upload read from a file)."""


class RestConnection:
    """Requests to one tracking server (``base_url``) over a lazily opened connection pool.

    Thread-safe. ``close`` releases the pool; a later request opens a new one.
    """

    def __init__(
        self, base_url: str, options: HttpOptions | None = None, *, sleep: Callable[[float], None] = time.sleep
    ):
        self.base_url = base_url.rstrip("/")
        self.options = options or HttpOptions()
        self._sleep = sleep
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    # JSON calls --------------------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET ``path`` with ``params`` as query parameters (always idempotent)."""
        return self.call("GET", path, params=params, idempotent=True)

    def post(self, path: str, body: Mapping[str, Any] | None = None, *, idempotent: bool = False) -> dict[str, Any]:
        """POST a JSON body; ``idempotent`` when repeating it changes nothing more than doing it once."""
        return self.call("POST", path, body=body, idempotent=idempotent)

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool,
    ) -> dict[str, Any]:
        """One JSON call; the decoded answer (``{}`` for an empty one).

        Raises:
            NotFound, AlreadyExists, InvalidInput: the server said so.
            RegistryError: the server failed, refused the credentials, or could not be reached.
        """
        content = None if body is None else orjson.dumps(_without_none(body))
        headers = {"Content-Type": "application/json"} if content is not None else None
        query = None if params is None else _query(params)
        response = self._send(method, path, idempotent, content=content, params=query, headers=headers)
        if not response.content:
            return {}
        try:
            decoded = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise RegistryError(f"{self.base_url}{path} answered with something other than JSON") from None
        return decoded if isinstance(decoded, dict) else {}

    # streams -----------------------------------------------------------------------------------------

    def put_stream(self, path: str, body: Body, length: int, content_type: str) -> None:
        """PUT a body made by ``body`` (called again for each attempt); uploads are idempotent."""
        headers = {"Content-Type": content_type, "Content-Length": str(length)}
        self._send("PUT", path, True, content=body, headers=headers)

    @contextmanager
    def stream(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[httpx.Response]:
        """A streamed GET (read it with ``iter_bytes``). Connection failures are retried before the
        first byte; a download that breaks half-way is the caller's to restart.

        Raises:
            as ``call``.
        """
        query = None if params is None else _query(params)
        request = self.client.build_request("GET", self._url(path), params=query)
        response = self._attempts(request, idempotent=True, stream=True)
        try:
            yield response
        finally:
            response.close()

    # plumbing ----------------------------------------------------------------------------------------

    @property
    def client(self) -> httpx.Client:
        """The pooled ``httpx.Client``, opened on first use."""
        with self._lock:
            if self._client is None or self._client.is_closed:
                options = self.options
                auth: httpx.Auth | None = None
                headers = {"User-Agent": f"pack/{__version__}"}
                if options.username and options.password:
                    auth = httpx.BasicAuth(options.username, options.password)
                elif options.token:
                    headers["Authorization"] = f"Bearer {options.token}"
                self._client = httpx.Client(
                    auth=auth,
                    headers=headers,
                    timeout=httpx.Timeout(options.timeout, connect=min(options.timeout, 10.0)),
                    limits=httpx.Limits(
                        max_connections=options.max_connections,
                        max_keepalive_connections=options.max_connections,
                    ),
                    verify=options.verify,
                    follow_redirects=False,
                )
            return self._client

    def close(self) -> None:
        """Close the pool's connections (a later request opens new ones)."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def _send(
        self,
        method: str,
        path: str,
        idempotent: bool,
        *,
        content: bytes | Body | None = None,
        params: list[tuple[str, str | int | float | bool | None]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        def build() -> httpx.Request:
            body = content() if callable(content) else content
            return self.client.build_request(method, self._url(path), content=body, params=params, headers=headers)

        response = self._attempts(build, idempotent=idempotent, stream=False)
        return response

    def _attempts(
        self, request: httpx.Request | Callable[[], httpx.Request], *, idempotent: bool, stream: bool
    ) -> httpx.Response:
        attempt = 0
        while True:
            built = request() if callable(request) else request
            where = f"{built.method} {built.url.copy_with(query=None)}"
            try:
                response = self.client.send(built, stream=stream)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # nothing reached the server
                delay = self._retry_delay(attempt, None)
                if delay is None:
                    raise RegistryError(f"cannot reach the tracking server at {self.base_url}: {exc}") from exc
            except httpx.TransportError as exc:  # sent, perhaps acted on: only idempotent calls again
                delay = self._retry_delay(attempt, None) if idempotent else None
                if delay is None:
                    raise RegistryError(f"{where} failed: {type(exc).__name__}: {exc}") from exc
            else:
                if response.status_code < 400:
                    return response
                delay = None
                if idempotent and response.status_code in _RETRY_STATUSES:
                    delay = self._retry_delay(attempt, response.headers.get("Retry-After"))
                if delay is None:
                    if stream:
                        response.read()
                    response.close()
                    raise _error(response, where)
                response.close()
            log.debug("retrying %s in %.2f s (attempt %d)", where, delay, attempt + 1)
            self._sleep(delay)
            attempt += 1

    def _retry_delay(self, attempt: int, retry_after: str | None) -> float | None:
        options = self.options
        if attempt >= options.max_retries:
            return None
        if retry_after is not None:
            try:
                return min(max(float(retry_after), 0.0), _MAX_RETRY_AFTER)
            except ValueError:
                pass  # an HTTP date: use the backoff
        delay = min(options.backoff * (2.0**attempt), options.max_backoff)
        return delay * (0.5 + random.random() / 2)  # jitter, not cryptography


def _error(response: httpx.Response, where: str) -> PackError:
    """The ``pack.errors`` exception for an error answer."""
    code, message = None, None
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        code = body.get("error_code")
        message = body.get("message")
    text = str(message or response.reason_phrase or response.status_code)
    status = response.status_code
    if code in _NOT_FOUND:
        return NotFound(text)
    if code in _EXISTS:
        return AlreadyExists(text)
    if code in _BAD_INPUT:
        return InvalidInput(text)
    if status == 404 and code in (None, "ENDPOINT_NOT_FOUND"):
        return MissingEndpoint(f"{where}: the server has no such endpoint (404)")
    if status == 401:
        hint = "set PACK_TRACKING_TOKEN, or PACK_TRACKING_USERNAME and PACK_TRACKING_PASSWORD"
        return RegistryError(f"{where}: 401 {code or 'UNAUTHENTICATED'}: {text} ({hint})")
    if status == 403:
        return RegistryError(f"{where}: 403 {code or 'PERMISSION_DENIED'}: {text}")
    if 400 <= status < 500:
        return InvalidInput(f"{text} ({status}{f' {code}' if code else ''})")
    return RegistryError(f"{where}: the tracking server failed ({status}{f' {code}' if code else ''}): {text}")


def _query(params: Mapping[str, Any]) -> list[tuple[str, str | int | float | bool | None]]:
    """Query parameters: lists repeated, booleans ``true``/``false``, None left out."""
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in params.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            if item is None:
                continue
            pairs.append((key, ("true" if item else "false") if isinstance(item, bool) else str(item)))
    return pairs


def _without_none(body: Mapping[str, Any]) -> dict[str, Any]:
    """Protobuf's JSON leaves unset fields out; so do we."""
    return {key: value for key, value in body.items() if value is not None}


__all__ = ["Body", "HttpOptions", "MissingEndpoint", "RestConnection"]
