"""The ``kubernetes`` target: ``build-k8s``'s manifests applied server-side, then the rollout awaited.

create   the Deployment, Service, HorizontalPodAutoscaler and PodDisruptionBudget of ``pack build-k8s``
         (named after the deployment), applied with server-side apply (field manager ``pack``), then the
         rollout awaited as ``kubectl rollout status`` does; a failed create deletes what it applied
update   the same objects with the new image and ``pack.model/*`` labels: a rolling update (one extra
         pod at a time, none unavailable); ``-C rollback=true`` returns to the previous ReplicaSet's pod
         template, as ``kubectl rollout undo`` does
list/get Deployments labelled ``pack.model/name``; the model version is read from their annotations
predict  through the API server's service proxy (the kubeconfig's credentials, no port-forward)

Target URI: ``kubernetes`` or ``kubernetes:/NAMESPACE``, with ``?context=NAME&kubeconfig=PATH`` when not
the current kubeconfig context; ``-C namespace=``, ``-C context=``, ``-C kubeconfig=`` override it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from pack.builders.base import ModelSource, ProgressCallback
from pack.builders.kubernetes import KubernetesOptions, build_objects, to_dicts
from pack.builders.settings import BuildSettings
from pack.deploy.base import BaseDeploymentClient, DeployedModel, Deployment, check_flavor, check_name
from pack.deploy.images import MODEL, ImageRequest, ensure_image
from pack.deploy.kube_api import KubeSession, session
from pack.deploy.options import option, options_help, parse_options
from pack.deploy.rollout import rollout_status, wait_for_rollout
from pack.deploy.scoring import read_answer, scoring_payload
from pack.deploy.source import resolve_source
from pack.errors import AlreadyExists, InvalidInput, NotFound

TARGET = "kubernetes"
KINDS = ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget")
SETTINGS = "pack.deployment/config"
MODEL_PREFIX = "pack.model/"
REVISION = "deployment.kubernetes.io/revision"
# Keys kept from one apply to the next (an update starts from what the deployment was made with).
_KEPT = (
    "replicas",
    "max_replicas",
    "cpu",
    "memory",
    "cpu_limit",
    "memory_limit",
    "startup_seconds",
    "base_image",
    "safe_only",
    "accelerate",
)


@dataclass(frozen=True)
class KubernetesDeployOptions:
    """``-C`` keys of the kubernetes target."""

    namespace: str | None = option(None, "namespace (default: the target URI's, else the context's, else default)")
    context: str | None = option(None, "kubeconfig context (default: the current one)")
    kubeconfig: str | None = option(None, "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    image: str | None = option(None, "the model's image, as the cluster pulls it (else built and pushed)")
    registry: str | None = option(None, "repository prefix to push a built image to (e.g. registry.example/ml)")
    base_image: str | None = option(None, "base of a built image (default python:<model's major.minor>-slim)")
    safe_only: bool = option(False, "a built image refuses executable model content (checked at build)")
    accelerate: bool = option(False, "a built image compiles tree ensembles at load (pack serve --accelerate)")
    replicas: int = option(2, "replicas (the autoscaler's floor)")
    max_replicas: int = option(5, "the autoscaler's ceiling")
    cpu: str = option("500m", "CPU request")
    memory: str = option("512Mi", "memory request")
    cpu_limit: str = option("2", "CPU limit (empty: none)")
    memory_limit: str = option("2Gi", "memory limit (empty: none)")
    startup_seconds: int = option(600, "time a pod may take to load the model")
    timeout: float = option(600.0, "seconds to wait for the rollout")
    poll: float = option(2.0, "seconds between two reads of the rollout status")
    rollback: bool = option(False, "update only: return to the previous revision")


def target_help() -> str:
    """Help for ``pack deployments help -t kubernetes``."""
    return (
        "kubernetes[:/NAMESPACE][?context=NAME&kubeconfig=PATH]: the cluster of a kubeconfig context.\n"
        "create applies build-k8s's Deployment, Service, HorizontalPodAutoscaler and PodDisruptionBudget "
        "(server-side apply) and waits for the rollout; update rolls a new version out; "
        "-C rollback=true returns to the previous revision.\n"
        "Config keys (-C key=value):\n" + options_help(KubernetesDeployOptions)
    )


class KubernetesDeploymentClient(BaseDeploymentClient):
    """Deployments on a Kubernetes cluster."""

    def __init__(
        self,
        target_uri: str = TARGET,
        progress: ProgressCallback | None = None,
        build_settings: BuildSettings | None = None,
    ) -> None:
        super().__init__(target_uri, progress)
        self.cache_dir = (build_settings or BuildSettings()).cache_dir
        parsed = urlparse(target_uri.split(":", 1)[1] if ":" in target_uri else "")
        query = parse_qs(parsed.query)
        self.defaults: dict[str, str] = {"namespace": parsed.path.strip("/")}
        for key in ("context", "kubeconfig"):
            self.defaults[key] = (query.get(key) or [""])[0]

    # ---- create / update / delete ------------------------------------------------------------

    def create_deployment(
        self,
        name: str,
        model_uri: str,
        flavor: str | None = None,
        config: Mapping[str, Any] | None = None,
        endpoint: str | None = None,
    ) -> Deployment:
        check_flavor(flavor)
        options = self._options(config)
        if options.rollback:
            raise InvalidInput("rollback applies to update only")
        check_name(name)
        with self._session(options) as kube:
            if kube.read("Deployment", name) is not None:
                raise AlreadyExists(f"deployment {name!r} already exists in namespace {kube.namespace} (update it)")
            source = resolve_source(model_uri)
            documents = manifests(name, source, self._image(source, options), options, kube.namespace)
            applied: list[Mapping[str, Any]] = []
            try:
                for document in documents:
                    self._report(f"applying {document['kind']} {kube.namespace}/{name}")
                    kube.apply(document)
                    applied.append(document)
                self._wait(kube, name, options)
            except KeyboardInterrupt:
                raise  # the objects stay, listed as progressing: the cluster goes on rolling out
            except Exception:
                for document in reversed(applied):
                    kube.delete(document["kind"], name)  # a failed create leaves nothing behind
                raise
            return self._describe(kube, _found(kube, name))

    def update_deployment(
        self,
        name: str,
        model_uri: str | None = None,
        flavor: str | None = None,
        config: Mapping[str, Any] | None = None,
        endpoint: str | None = None,
    ) -> Deployment:
        check_flavor(flavor)
        given = dict(config or {})
        with self._session(self._options(given)) as kube:
            current = _found(kube, name)
            stored = json.loads((current["metadata"].get("annotations") or {}).get(SETTINGS, "{}"))
            options = self._options({**{k: v for k, v in stored.items() if k in _KEPT}, **given})
            if options.rollback:
                if model_uri is not None:
                    raise InvalidInput("rollback returns to the previous revision: pass no model URI")
                self._rollback(kube, current)
            else:
                if model_uri is not None:
                    source = resolve_source(model_uri)
                    image = self._image(source, options)
                else:
                    source, image = _running(current)
                    image = options.image or image
                for document in manifests(name, source, image, options, kube.namespace):
                    self._report(f"applying {document['kind']} {kube.namespace}/{name}")
                    kube.apply(document)
            self._wait(kube, name, options)
            return self._describe(kube, _found(kube, name))

    def _rollback(self, kube: KubeSession, current: Mapping[str, Any]) -> None:
        """Put the previous ReplicaSet's pod template back (``kubectl rollout undo``)."""
        meta = current["metadata"]
        revision = int((meta.get("annotations") or {}).get(REVISION, "0"))
        selector = ",".join(f"{k}={v}" for k, v in current["spec"]["selector"]["matchLabels"].items())
        owned = [
            rs
            for rs in kube.replica_sets(selector)
            if any(ref.get("uid") == meta.get("uid") for ref in rs["metadata"].get("ownerReferences") or [])
        ]
        earlier = [rs for rs in owned if 0 < _revision(rs) < revision]
        if not earlier:
            raise InvalidInput(f"deployment {meta['name']!r} has no earlier revision to roll back to")
        previous = max(earlier, key=_revision)
        template = json.loads(json.dumps(previous["spec"]["template"]))
        template["metadata"].get("labels", {}).pop("pod-template-hash", None)
        model = DeployedModel.from_labels(template["metadata"].get("annotations") or {}, MODEL_PREFIX)
        self._report(
            f"rolling {meta['name']} back to revision {_revision(previous)} ({model.version if model else '?'})"
        )
        operations: list[dict[str, Any]] = [{"op": "replace", "path": "/spec/template", "value": template}]
        for key, value in (template["metadata"].get("labels") or {}).items():
            if key.startswith(MODEL_PREFIX) or key == "app.kubernetes.io/version":
                operations.append({"op": "add", "path": f"/metadata/labels/{_pointer(key)}", "value": value})
        for key, value in (template["metadata"].get("annotations") or {}).items():
            if key.startswith(MODEL_PREFIX):
                operations.append({"op": "add", "path": f"/metadata/annotations/{_pointer(key)}", "value": value})
        kube.json_patch("Deployment", meta["name"], operations)

    def delete_deployment(
        self, name: str, config: Mapping[str, Any] | None = None, endpoint: str | None = None
    ) -> None:
        with self._session(self._options(config)) as kube:
            _found(kube, name)
            for kind in reversed(KINDS):
                self._report(f"deleting {kind} {kube.namespace}/{name}")
                kube.delete(kind, name)

    # ---- list / get / predict ----------------------------------------------------------------

    def list_deployments(self, endpoint: str | None = None) -> list[Deployment]:
        with self._session(self._options(None)) as kube:
            return [self._describe(kube, d) for d in kube.select("Deployment", f"{MODEL_PREFIX}name")]

    def get_deployment(self, name: str, endpoint: str | None = None) -> Deployment:
        with self._session(self._options(None)) as kube:
            return self._describe(kube, _found(kube, name))

    def predict(self, deployment_name: str | None = None, inputs: Any = None, endpoint: str | None = None) -> Any:
        if not deployment_name:
            raise InvalidInput("name the deployment to score")
        payload = scoring_payload(inputs)
        with self._session(self._options(None)) as kube:
            _found(kube, deployment_name)
            status, body = kube.proxy_post(f"{deployment_name}:http", "invocations", payload, timeout=120)
            return read_answer(status, body, f"service {kube.namespace}/{deployment_name}")

    # ---- helpers -------------------------------------------------------------------------------

    def _options(self, config: Mapping[str, Any] | None) -> KubernetesDeployOptions:
        given = {key: value for key, value in self.defaults.items() if value}
        return parse_options(KubernetesDeployOptions, {**given, **dict(config or {})}, TARGET)

    def _session(self, options: KubernetesDeployOptions) -> Any:
        return session(options.kubeconfig, options.context, options.namespace)

    def _image(self, source: ModelSource, options: KubernetesDeployOptions) -> str:
        if options.image:
            return options.image
        if not options.registry:
            raise InvalidInput(
                "the cluster needs an image it can pull: pass -C image=REF, "
                "or -C registry=HOST/PATH to build and push one"
            )
        request = ImageRequest(
            MODEL,
            options.base_image,
            options.registry,
            self.cache_dir,
            safe_only=options.safe_only,
            accelerate=options.accelerate,
        )
        return ensure_image(source, request, self.progress).reference

    def _wait(self, kube: KubeSession, name: str, options: KubernetesDeployOptions) -> None:
        self._report(f"waiting for the rollout of {kube.namespace}/{name} (up to {options.timeout:g} s)")
        wait_for_rollout(lambda: _found(kube, name), options.timeout, options.poll, self._report)

    def _describe(self, kube: KubeSession, deployment: Mapping[str, Any]) -> Deployment:
        meta, spec, status = deployment["metadata"], deployment["spec"], deployment.get("status") or {}
        template = spec["template"]
        annotations = template["metadata"].get("annotations") or meta.get("annotations") or {}
        containers = template["spec"]["containers"]
        rollout = rollout_status(deployment)
        details = {
            "namespace": kube.namespace,
            "image": containers[0]["image"] if containers else None,
            "replicas": spec.get("replicas"),
            "available": status.get("availableReplicas") or 0,
            "revision": (meta.get("annotations") or {}).get(REVISION),
            "status": rollout.message,
        }
        endpoint = f"http://{meta['name']}.{kube.namespace}.svc"
        model = DeployedModel.from_labels(annotations, MODEL_PREFIX)
        return Deployment(meta["name"], TARGET, rollout.state, model, endpoint, details)


def manifests(
    name: str, source: ModelSource, image: str, options: KubernetesDeployOptions, namespace: str
) -> list[dict[str, Any]]:
    """``build-k8s``'s four objects for ``source``, named after the deployment and selecting by its name.

    The selector holds only the deployment's name, so a new model (even of another name) rolls out in
    place; the options it was made with are kept in an annotation for the next update.
    """
    built = KubernetesOptions(
        image=image,
        namespace=namespace,
        replicas=options.replicas,
        max_replicas=options.max_replicas,
        cpu_request=options.cpu,
        memory_request=options.memory,
        cpu_limit=options.cpu_limit or None,
        memory_limit=options.memory_limit or None,
        startup_seconds=options.startup_seconds,
    )
    documents = to_dicts(build_objects(source, built))
    selector = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name}
    kept = {key: value for key, value in asdict(options).items() if key in _KEPT}
    for document in documents:
        document["metadata"]["name"] = name
        document["metadata"]["labels"].update(selector)
        spec = document["spec"]
        if document["kind"] == "Deployment":
            spec["selector"]["matchLabels"] = dict(selector)
            spec["template"]["metadata"]["labels"].update(selector)
            document["metadata"].setdefault("annotations", {})[SETTINGS] = json.dumps(kept, sort_keys=True)
        elif document["kind"] == "Service":
            spec["selector"] = dict(selector)
        elif document["kind"] == "PodDisruptionBudget":
            spec["selector"]["matchLabels"] = dict(selector)
        elif document["kind"] == "HorizontalPodAutoscaler":
            spec["scaleTargetRef"]["name"] = name
    return documents


def _found(kube: KubeSession, name: str) -> dict[str, Any]:
    found = kube.read("Deployment", name)
    if found is None:
        raise NotFound(f"no deployment {name!r} in namespace {kube.namespace}")
    return found


def _running(deployment: Mapping[str, Any]) -> tuple[ModelSource, str]:
    """The model identity and image a Deployment runs now (a config-only update keeps both)."""
    template = deployment["spec"]["template"]
    model = DeployedModel.from_labels(template["metadata"].get("annotations") or {}, MODEL_PREFIX)
    if model is None:
        raise InvalidInput(f"deployment {deployment['metadata']['name']!r} names no model: pass a model URI")
    source = ModelSource(Path(), model.name, model.version, model.source, model.checksum, "", ())
    return source, str(template["spec"]["containers"][0]["image"])


def _revision(replica_set: Mapping[str, Any]) -> int:
    return int((replica_set["metadata"].get("annotations") or {}).get(REVISION, "0"))


def _pointer(key: str) -> str:
    """A label key as a JSON pointer segment (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


__all__ = ["KubernetesDeployOptions", "KubernetesDeploymentClient", "manifests", "target_help"]
