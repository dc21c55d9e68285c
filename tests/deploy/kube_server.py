"""A stand-in for the Kubernetes API server, on 127.0.0.1, for the kubernetes target's tests.

No cluster can run on these machines. This server answers the calls the official client makes for
pack's objects (server-side apply, JSON patch, read, list by label, delete, the service proxy), keeps
the objects it was given, records every request, and plays a Deployment's status from a recorded
sequence (``data/rollouts.json``: what a cluster reports, step by step, while a rollout proceeds) so the
wait logic meets the same answers a real API server gives. It keeps revisions as the Deployment
controller does: a new pod template makes a ReplicaSet with the next revision; going back to an old
template gives that ReplicaSet the next revision. Scoring requests through the service proxy are
forwarded to a real ``pack serve``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import yaml

ROLLOUTS = json.loads((Path(__file__).parent / "data" / "rollouts.json").read_text())
PLURALS = {
    "deployments": ("apps/v1", "Deployment"),
    "services": ("v1", "Service"),
    "horizontalpodautoscalers": ("autoscaling/v2", "HorizontalPodAutoscaler"),
    "poddisruptionbudgets": ("policy/v1", "PodDisruptionBudget"),
    "replicasets": ("apps/v1", "ReplicaSet"),
}
REVISION = "deployment.kubernetes.io/revision"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    content_type: str
    body: Any


@dataclass
class Rollout:
    """The status script of one Deployment generation."""

    steps: list[dict[str, Any]]
    generation: int
    position: int = 0


@dataclass
class FakeKubernetes:
    """The state behind the fake API server."""

    rollout: str = "fresh"  # the recorded sequence a template change plays (data/rollouts.json)
    backend: str | None = None  # where the service proxy sends scoring requests
    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    replica_sets: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    rollouts: dict[tuple[str, str], Rollout] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self, method: str = "PATCH") -> list[Any]:
        return [r.body for r in self.requests if r.method == method]

    # ---- objects -------------------------------------------------------------------------------

    def store(self, plural: str, namespace: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        key = (plural, namespace, name)
        old = self.objects.get(key)
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        meta.update(namespace=namespace, name=name)
        meta["uid"] = old["metadata"]["uid"] if old else str(uuid.uuid4())
        meta["resourceVersion"] = str(len(self.requests))
        meta["creationTimestamp"] = old["metadata"]["creationTimestamp"] if old else "2026-11-30T12:00:00Z"
        if plural == "deployments":
            self._deployment(obj, old)
        self.objects[key] = obj
        return obj

    def _deployment(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        meta, spec = obj["metadata"], obj["spec"]
        old_spec = old["spec"] if old else None
        if "replicas" not in spec and old_spec is not None and "replicas" in old_spec:
            spec["replicas"] = old_spec["replicas"]  # server-side apply keeps a field this manager does not set
        generation = (old["metadata"]["generation"] if old else 0) + (spec != old_spec)
        meta["generation"] = generation
        annotations = meta.setdefault("annotations", {})
        key = (meta["namespace"], meta["name"])
        template_changed = old is None or spec["template"] != old_spec["template"]
        if template_changed:
            annotations[REVISION] = str(self._revision_for(key, meta, spec))
            self.rollouts[key] = Rollout(ROLLOUTS[self.rollout], generation)
        else:
            annotations[REVISION] = old["metadata"]["annotations"][REVISION]
            if old is not None and key in self.rollouts:
                self.rollouts[key].generation = generation
        obj["status"] = old.get("status", {}) if old else {}

    def _revision_for(self, key: tuple[str, str], meta: dict[str, Any], spec: dict[str, Any]) -> int:
        sets = self.replica_sets.setdefault(key, [])
        following = max((int(rs["metadata"]["annotations"][REVISION]) for rs in sets), default=0) + 1
        digest = hashlib.sha256(json.dumps(spec["template"], sort_keys=True).encode()).hexdigest()[:10]
        for rs in sets:
            if rs["metadata"]["labels"]["pod-template-hash"] == digest:
                rs["metadata"]["annotations"][REVISION] = str(following)
                return following
        template = copy.deepcopy(spec["template"])
        template["metadata"].setdefault("labels", {})["pod-template-hash"] = digest
        sets.append(
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": f"{meta['name']}-{digest}",
                    "namespace": meta["namespace"],
                    "uid": str(uuid.uuid4()),
                    "labels": dict(template["metadata"]["labels"]),
                    "annotations": {REVISION: str(following)},
                    "ownerReferences": [
                        {"apiVersion": "apps/v1", "kind": "Deployment", "name": meta["name"], "uid": meta["uid"]}
                    ],
                },
                "spec": {
                    "replicas": spec.get("replicas", 1),
                    "selector": {"matchLabels": {**spec["selector"]["matchLabels"], "pod-template-hash": digest}},
                    "template": template,
                },
            }
        )
        return following

    def read(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        obj = self.objects.get((plural, namespace, name))
        if obj is not None and plural == "deployments":
            if obj["spec"].get("replicas") is None:  # the API server's default 1, raised by the autoscaler
                obj["spec"]["replicas"] = self._autoscaler_floor(namespace, name)
            rollout = self.rollouts.get((namespace, name))
            if rollout is not None:  # one step of the recorded sequence per read
                step = rollout.steps[min(rollout.position, len(rollout.steps) - 1)]
                rollout.position += 1
                obj["status"] = _status(step, rollout.generation, obj["spec"].get("replicas", 1))
        return obj

    def _autoscaler_floor(self, namespace: str, name: str) -> int:
        """The minReplicas of the HorizontalPodAutoscaler scaling Deployment ``name`` (1 without one)."""
        for (plural, ns, _), hpa in self.objects.items():
            if (
                plural == "horizontalpodautoscalers"
                and ns == namespace
                and hpa["spec"]["scaleTargetRef"]["name"] == name
            ):
                return int(hpa["spec"].get("minReplicas", 1))
        return 1

    def select(self, plural: str, namespace: str, selector: str) -> list[dict[str, Any]]:
        if plural == "replicasets":
            found = [rs for (ns, _), sets in self.replica_sets.items() if ns == namespace for rs in sets]
        else:
            found = [o for (p, ns, _), o in self.objects.items() if p == plural and ns == namespace]
        return [o for o in found if _matches(o["metadata"].get("labels") or {}, selector)]


def _status(step: dict[str, Any], generation: int, replicas: int) -> dict[str, Any]:
    """A recorded step with ``$g`` (this generation), ``$g-1`` and ``$r`` (the wanted replicas) filled in."""
    text = json.dumps(step).replace('"$g-1"', str(generation - 1)).replace('"$g"', str(generation))
    return json.loads(text.replace('"$r+1"', str(replicas + 1)).replace('"$r"', str(replicas)))


def _matches(labels: dict[str, str], selector: str) -> bool:
    for term in filter(None, selector.split(",")):
        key, sep, value = term.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    return True


def _json_patch(obj: dict[str, Any], operations: list[dict[str, Any]]) -> None:
    """RFC 6902 ``add``/``replace`` on object members (all ``kubectl rollout undo`` sends)."""
    for operation in operations:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in operation["path"].split("/")[1:]]
        target = obj
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        assert operation["op"] in ("add", "replace"), operation
        target[parts[-1]] = copy.deepcopy(operation["value"])


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def _route(self) -> tuple[str, str, str | None, str | None]:
        """(plural, namespace, name, subresource path) of ``/api[s]/.../namespaces/NS/PLURAL[/NAME[/...]]``."""
        parts = urlparse(self.path).path.strip("/").split("/")
        at = parts.index("namespaces")
        rest = parts[at + 2 :]
        return rest[0], parts[at + 1], rest[1] if len(rest) > 1 else None, "/".join(rest[2:]) or None

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        return yaml.safe_load(raw) if "yaml" in (self.headers.get("Content-Type") or "") else json.loads(raw)

    def _send(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _missing(self, plural: str, name: str) -> None:
        message = f'{plural} "{name}" not found'
        self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "code": 404})

    def _handle(self) -> None:
        fake = self.server.fake
        body = self._body()
        parsed = urlparse(self.path)
        with fake.lock:
            fake.requests.append(
                Request(self.command, parsed.path, parse_qs(parsed.query), self.headers.get("Content-Type") or "", body)
            )
        plural, namespace, name, sub = self._route()
        if plural == "services" and sub and sub.startswith("proxy"):
            self._proxy(sub.removeprefix("proxy"), body)
            return
        with fake.lock:
            if name is None:
                selector = parse_qs(parsed.query).get("labelSelector", [""])[0]
                api_version, kind = PLURALS[plural]
                items = fake.select(plural, namespace, selector)
                self._send(200, {"apiVersion": api_version, "kind": f"{kind}List", "metadata": {}, "items": items})
                return
            current = fake.read(plural, namespace, name)
            if self.command == "GET":
                self._send(200, current) if current is not None else self._missing(plural, name)
            elif self.command == "PATCH":
                if "json-patch" in self.headers.get("Content-Type", ""):
                    if current is None:
                        self._missing(plural, name)
                        return
                    patched = copy.deepcopy(current)
                    _json_patch(patched, body)
                    body = patched
                self._send(200, fake.store(plural, namespace, name, body))
            elif self.command == "DELETE":
                if current is None:
                    self._missing(plural, name)
                    return
                del fake.objects[(plural, namespace, name)]
                fake.replica_sets.pop((namespace, name), None) if plural == "deployments" else None
                answer = (
                    current if plural == "services" else {"kind": "Status", "apiVersion": "v1", "status": "Success"}
                )
                self._send(200, answer)

    def _proxy(self, path: str, body: Any) -> None:
        backend = self.server.fake.backend
        request = urllib.request.Request(
            f"{backend}{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                self._send(response.status, json.loads(response.read()))
        except urllib.error.HTTPError as error:
            with error:
                self._send(error.code, json.loads(error.read()))

    do_GET = do_PATCH = do_DELETE = do_POST = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeKubernetes) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class KubeAPI:
    """The fake API server on a thread, and a kubeconfig pointing at it (context ``test``)."""

    def __init__(self, root: Path, backend: str | None = None) -> None:
        self.fake = FakeKubernetes(backend=backend)
        self.server = _Server(self.fake)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.kubeconfig = root / "kubeconfig"
        self.kubeconfig.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "test", "cluster": {"server": self.url}}],
                    "users": [{"name": "test", "user": {"token": "test-token"}}],
                    "contexts": [
                        {"name": "test", "context": {"cluster": "test", "user": "test", "namespace": "models"}}
                    ],
                    "current-context": "test",
                }
            )
        )

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
