"""The Kubernetes API as the kubernetes target uses it: server-side apply, reads, deletes, the service proxy.

One ``KubeSession`` per operation: an ``ApiClient`` built from a kubeconfig (``$KUBECONFIG`` or
``~/.kube/config``; its current context unless one is named) and the namespace to work in. Objects go
in and out as the API's JSON (camelCase dictionaries). API errors become pack's errors, in one line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pack.errors import AlreadyExists, DeployError, InvalidInput, NotFound

FIELD_MANAGER = "pack"
APPLY_PATCH = "application/apply-patch+yaml"
JSON_PATCH = "application/json-patch+json"
# kind -> (API class, the method suffix of its namespaced calls)
KINDS = {
    "Deployment": ("AppsV1Api", "namespaced_deployment"),
    "Service": ("CoreV1Api", "namespaced_service"),
    "HorizontalPodAutoscaler": ("AutoscalingV2Api", "namespaced_horizontal_pod_autoscaler"),
    "PodDisruptionBudget": ("PolicyV1Api", "namespaced_pod_disruption_budget"),
}


def _client_module() -> Any:
    try:
        from kubernetes import client
    except ImportError:
        raise DeployError("the kubernetes package is not installed: pip install 'pack[kubernetes]'") from None
    return client


@dataclass
class KubeSession:
    """An API client and the namespace it works in."""

    api: Any
    namespace: str

    def _call(self, kind: str, verb: str, *args: Any, **kwargs: Any) -> Any:
        cls, suffix = KINDS[kind]
        return getattr(getattr(_client_module(), cls)(self.api), f"{verb}_{suffix}")(*args, **kwargs)

    def plain(self, obj: Any) -> dict[str, Any]:
        """A client model object as the API's JSON."""
        data: dict[str, Any] = self.api.sanitize_for_serialization(obj)
        return data

    def apply(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """Server-side apply of one object (field manager ``pack``, taking over conflicting fields)."""
        name = document["metadata"]["name"]
        with _errors(f"{document['kind']} {self.namespace}/{name}"):
            applied = self._call(
                document["kind"],
                "patch",
                name,
                self.namespace,
                dict(document),
                field_manager=FIELD_MANAGER,
                force=True,
                _content_type=APPLY_PATCH,
            )
        return self.plain(applied)

    def json_patch(self, kind: str, name: str, operations: list[dict[str, Any]]) -> dict[str, Any]:
        """An RFC 6902 JSON patch (what ``kubectl rollout undo`` sends)."""
        with _errors(f"{kind} {self.namespace}/{name}"):
            patched = self._call(kind, "patch", name, self.namespace, operations, _content_type=JSON_PATCH)
        return self.plain(patched)

    def read(self, kind: str, name: str) -> dict[str, Any] | None:
        """One object, or None when there is none."""
        try:
            with _errors(f"{kind} {self.namespace}/{name}"):
                return self.plain(self._call(kind, "read", name, self.namespace))
        except NotFound:
            return None

    def select(self, kind: str, selector: str) -> list[dict[str, Any]]:
        """Objects of a kind in the namespace whose labels match ``selector``."""
        with _errors(f"{kind} list in {self.namespace}"):
            found = self._call(kind, "list", self.namespace, label_selector=selector)
        return [self.plain(item) for item in found.items]

    def replica_sets(self, selector: str) -> list[dict[str, Any]]:
        """ReplicaSets whose labels match ``selector`` (a Deployment's revisions)."""
        apps = _client_module().AppsV1Api(self.api)
        with _errors(f"ReplicaSet list in {self.namespace}"):
            found = apps.list_namespaced_replica_set(self.namespace, label_selector=selector)
        return [self.plain(item) for item in found.items]

    def delete(self, kind: str, name: str) -> bool:
        """Delete one object; False when it was not there."""
        try:
            with _errors(f"{kind} {self.namespace}/{name}"):
                self._call(kind, "delete", name, self.namespace, propagation_policy="Foreground")
        except NotFound:
            return False
        return True

    def proxy_post(self, service: str, path: str, body: Any, timeout: float) -> tuple[int, bytes]:
        """POST JSON to ``path`` of a Service through the API server's service proxy."""
        method, url, headers, data, post = self.api.param_serialize(
            method="POST",
            # written out, not a path parameter: the client would escape the ':' of ``name:port``
            resource_path=f"/api/v1/namespaces/{self.namespace}/services/{service}/proxy/{path.lstrip('/')}",
            header_params={"Content-Type": "application/json", "Accept": "application/json"},
            body=body,
            auth_settings=["BearerToken"],
        )
        with _errors(f"service {self.namespace}/{service}"):
            response = self.api.call_api(method, url, headers, data, post, _request_timeout=timeout)
            response.read()
        return int(response.status), bytes(response.data or b"")


@contextmanager
def session(kubeconfig: str | None, context: str | None, namespace: str | None) -> Iterator[KubeSession]:
    """A ``KubeSession`` for a kubeconfig context; the namespace defaults to the context's, else ``default``.

    Raises:
        DeployError: the kubernetes package is missing, or the kubeconfig cannot be used.
    """
    _client_module()
    from kubernetes import config

    try:
        new_client: Any = config.new_client_from_config
        api = new_client(config_file=kubeconfig, context=context, persist_config=False)
        if namespace is None:
            list_contexts: Any = config.list_kube_config_contexts
            contexts, active = list_contexts(config_file=kubeconfig)
            chosen = next((c for c in contexts if c["name"] == context), active) if context else active
            namespace = ((chosen or {}).get("context") or {}).get("namespace") or "default"
    except (config.ConfigException, OSError, TypeError) as exc:
        where = kubeconfig or "$KUBECONFIG or ~/.kube/config"
        raise DeployError(f"cannot use the kubeconfig ({where}): {str(exc).splitlines()[0][:200]}") from None
    try:
        yield KubeSession(api, namespace)
    finally:
        api.close()


@contextmanager
def _errors(what: str) -> Iterator[None]:
    """The API's refusals as pack errors: 404 NotFound, 409 AlreadyExists, 400/422 InvalidInput, else DeployError."""
    client = _client_module()
    import urllib3

    try:
        yield
    except client.ApiException as exc:
        message = _message(exc)
        if exc.status == 404:
            raise NotFound(f"{what} not found") from None
        if exc.status == 409:
            raise AlreadyExists(f"{what}: {message}") from None
        if exc.status in (400, 422):
            raise InvalidInput(f"the API server refused {what}: {message}") from None
        raise DeployError(f"the API server answered {exc.status} for {what}: {message}") from None
    except (OSError, urllib3.exceptions.HTTPError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DeployError(f"cannot reach the Kubernetes API server for {what}: {reason}") from None


def _message(exc: Any) -> str:
    try:
        return str(json.loads(exc.body or "{}").get("message") or exc.reason)[:300]
    except (TypeError, ValueError):
        return str(exc.reason)


__all__ = ["APPLY_PATCH", "FIELD_MANAGER", "JSON_PATCH", "KINDS", "KubeSession", "session"]
