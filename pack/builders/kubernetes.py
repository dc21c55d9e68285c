"""Kubernetes manifests for a model image: Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget.

Objects are built from the ``kubernetes`` client's models and written as sorted YAML, one file each.
The pod runs the image's own ENTRYPOINT (``pack serve`` on 8080) as a non-root user with a read-only
root file system and a writable /tmp; probes: startup (a long budget for model load) and readiness on
the ready route, liveness on the live route. The Deployment leaves the replica count to the
HorizontalPodAutoscaler (as ``helm create``'s chart does), and the pod's termination grace period
exceeds the server's drain timeout by ``GRACE_MARGIN_SECONDS``. Every option is checked first:
quantities, the image reference, replica bounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pack._fs import atomic_dir
from pack.builders.base import (
    LIVE_PATH,
    METRICS_PATH,
    READY_PATH,
    SERVING_PORT,
    ModelSource,
    dns_name,
    label_value,
)
from pack.builders.docker import IMAGE_UID
from pack.builders.output import dump_yaml, normalise_tree, write_file
from pack.builders.quantities import check_request_within_limit
from pack.builders.references import parse_image_reference
from pack.errors import BuildError, InvalidInput

FILES = ("deployment.yaml", "service.yaml", "horizontalpodautoscaler.yaml", "poddisruptionbudget.yaml")
DRAIN_SECONDS = 30  # pack serve's --drain-timeout in the pod
GRACE_MARGIN_SECONDS = 15  # SIGKILL comes this long after the drain should have ended


AUTH_ENV = "PACK_SERVE_AUTH_TOKEN"
AUTH_SECRET_KEY = "token"


@dataclass(frozen=True)
class KubernetesOptions:
    """What the manifests leave to the user (``pack build-k8s`` flags)."""

    image: str
    namespace: str | None = None
    replicas: int = 2
    min_replicas: int | None = None
    max_replicas: int = 5
    target_cpu_percent: int = 70
    cpu_request: str = "500m"
    memory_request: str = "512Mi"
    cpu_limit: str | None = "2"
    memory_limit: str | None = "2Gi"
    service_port: int = 80
    startup_seconds: int = 600
    drain_seconds: int = DRAIN_SECONDS
    auth_secret: str | None = None  # a Secret whose key ``token`` becomes PACK_SERVE_AUTH_TOKEN

    def check(self) -> None:
        """Raises InvalidInput for values Kubernetes would refuse or that contradict each other."""
        low = self.replicas if self.min_replicas is None else self.min_replicas
        parse_image_reference(self.image, what="--image")
        if self.replicas < 1 or low < 1:
            raise InvalidInput("--replicas and --min-replicas must be at least 1")
        if self.max_replicas < low:
            raise InvalidInput(f"--max-replicas ({self.max_replicas}) is below the minimum ({low})")
        if self.min_replicas is not None and not self.min_replicas <= self.replicas <= self.max_replicas:
            raise InvalidInput(
                f"--replicas ({self.replicas}) must lie between --min-replicas ({self.min_replicas}) "
                f"and --max-replicas ({self.max_replicas})"
            )
        check_request_within_limit(self.cpu_request, self.cpu_limit, "cpu")
        check_request_within_limit(self.memory_request, self.memory_limit, "memory")
        if not 1 <= self.service_port <= 65535:
            raise InvalidInput(f"--service-port must be between 1 and 65535, got {self.service_port}")
        if self.drain_seconds < 0:
            raise InvalidInput("--drain-seconds must be at least 0")
        if not 1 <= self.target_cpu_percent <= 100:
            raise InvalidInput("--target-cpu must be a percentage between 1 and 100")
        if self.startup_seconds < 10:
            raise InvalidInput("--startup-seconds must be at least 10")


def _client() -> Any:
    try:
        from kubernetes import client  # lazy: optional dependency
    except ImportError:
        raise BuildError("the kubernetes package is not installed: pip install 'pack[kubernetes]'") from None
    return client


def model_labels(source: ModelSource) -> dict[str, str]:
    """The labels every object carries: app name/instance, the model's name and version."""
    name = dns_name(source.name)
    return {
        **selector_labels(source),
        "app.kubernetes.io/version": label_value(source.version),
        "app.kubernetes.io/component": "model-server",
        "app.kubernetes.io/managed-by": "pack",
        "pack.model/name": label_value(source.name) or name,
        "pack.model/version": label_value(source.version),
    }


def selector_labels(source: ModelSource) -> dict[str, str]:
    """The stable labels that select the model's pods (no version: rolling updates keep them)."""
    name = dns_name(source.name)
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name}


def model_annotations(source: ModelSource) -> dict[str, str]:
    """The full identity (source URI and checksum do not fit in label values)."""
    return {f"pack.model/{key.rsplit('.', 1)[1]}": value for key, value in source.labels().items()}


def build_objects(source: ModelSource, options: KubernetesOptions) -> list[Any]:
    """The four objects, as ``kubernetes.client`` models."""
    options.check()
    k8s = _client()
    name = dns_name(source.name)
    labels = model_labels(source)
    selector = selector_labels(source)

    def meta(**extra: Any) -> Any:
        return k8s.V1ObjectMeta(name=name, namespace=options.namespace, labels=labels, **extra)

    deployment = k8s.V1Deployment(
        api_version="apps/v1",
        kind="Deployment",
        metadata=meta(annotations=model_annotations(source)),
        spec=k8s.V1DeploymentSpec(  # no replicas: the HorizontalPodAutoscaler owns the count
            selector=k8s.V1LabelSelector(match_labels=selector),
            strategy=k8s.V1DeploymentStrategy(
                type="RollingUpdate",
                rolling_update=k8s.V1RollingUpdateDeployment(max_surge=1, max_unavailable=0),
            ),
            template=_pod_template(k8s, source, options, labels),
        ),
    )
    service = k8s.V1Service(
        api_version="v1",
        kind="Service",
        metadata=meta(),
        spec=k8s.V1ServiceSpec(
            type="ClusterIP",
            selector=selector,
            ports=[k8s.V1ServicePort(name="http", port=options.service_port, target_port="http", protocol="TCP")],
        ),
    )
    hpa = k8s.V2HorizontalPodAutoscaler(
        api_version="autoscaling/v2",
        kind="HorizontalPodAutoscaler",
        metadata=meta(),
        spec=k8s.V2HorizontalPodAutoscalerSpec(
            scale_target_ref=k8s.V2CrossVersionObjectReference(api_version="apps/v1", kind="Deployment", name=name),
            min_replicas=options.replicas if options.min_replicas is None else options.min_replicas,
            max_replicas=options.max_replicas,
            metrics=[
                k8s.V2MetricSpec(
                    type="Resource",
                    resource=k8s.V2ResourceMetricSource(
                        name="cpu",
                        target=k8s.V2MetricTarget(type="Utilization", average_utilization=options.target_cpu_percent),
                    ),
                )
            ],
        ),
    )
    pdb = k8s.V1PodDisruptionBudget(
        api_version="policy/v1",
        kind="PodDisruptionBudget",
        metadata=meta(),
        spec=k8s.V1PodDisruptionBudgetSpec(max_unavailable=1, selector=k8s.V1LabelSelector(match_labels=selector)),
    )
    return [deployment, service, hpa, pdb]


def _pod_template(k8s: Any, source: ModelSource, options: KubernetesOptions, labels: dict[str, str]) -> Any:
    def probe(path: str, period: int, failures: int) -> Any:
        return k8s.V1Probe(
            http_get=k8s.V1HTTPGetAction(path=path, port="http"),
            period_seconds=period,
            timeout_seconds=2,
            failure_threshold=failures,
        )

    requests = {"cpu": options.cpu_request, "memory": options.memory_request}
    limits = {k: v for k, v in (("cpu", options.cpu_limit), ("memory", options.memory_limit)) if v}
    env = [k8s.V1EnvVar(name="PACK_SERVE_DRAIN_TIMEOUT", value=str(options.drain_seconds))]
    if options.auth_secret:  # the bearer token comes from a Secret; it is never written into the manifests
        source_ref = k8s.V1SecretKeySelector(name=options.auth_secret, key=AUTH_SECRET_KEY)
        env.append(k8s.V1EnvVar(name=AUTH_ENV, value_from=k8s.V1EnvVarSource(secret_key_ref=source_ref)))
    container = k8s.V1Container(
        name="model",
        image=options.image,
        image_pull_policy="IfNotPresent",
        env=env,
        ports=[k8s.V1ContainerPort(name="http", container_port=SERVING_PORT, protocol="TCP")],
        startup_probe=probe(READY_PATH, 10, math.ceil(options.startup_seconds / 10)),
        readiness_probe=probe(READY_PATH, 5, 3),
        liveness_probe=probe(LIVE_PATH, 10, 3),
        resources=k8s.V1ResourceRequirements(requests=requests, limits=limits or None),
        security_context=k8s.V1SecurityContext(
            allow_privilege_escalation=False,
            read_only_root_filesystem=True,
            run_as_non_root=True,
            capabilities=k8s.V1Capabilities(drop=["ALL"]),
        ),
        volume_mounts=[k8s.V1VolumeMount(name="tmp", mount_path="/tmp")],
    )
    annotations = {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(SERVING_PORT),
        "prometheus.io/path": METRICS_PATH,
        **model_annotations(source),
    }
    return k8s.V1PodTemplateSpec(
        metadata=k8s.V1ObjectMeta(labels=labels, annotations=annotations),
        spec=k8s.V1PodSpec(
            automount_service_account_token=False,
            termination_grace_period_seconds=options.drain_seconds + GRACE_MARGIN_SECONDS,
            security_context=k8s.V1PodSecurityContext(
                run_as_non_root=True,
                run_as_user=IMAGE_UID,
                run_as_group=IMAGE_UID,
                fs_group=IMAGE_UID,
                seccomp_profile=k8s.V1SeccompProfile(type="RuntimeDefault"),
            ),
            containers=[container],
            volumes=[k8s.V1Volume(name="tmp", empty_dir=k8s.V1EmptyDirVolumeSource())],
        ),
    )


def to_dicts(objects: list[Any]) -> list[dict[str, Any]]:
    """Plain dictionaries as the API server takes them (camelCase keys, no nulls)."""
    api = _client().ApiClient()
    try:
        return [api.sanitize_for_serialization(obj) for obj in objects]
    finally:
        api.close()


class KubernetesBuilder:
    """``pack build-k8s``: one YAML file per object in the output directory."""

    def __init__(self, options: KubernetesOptions) -> None:
        self.options = options

    def build(self, source: ModelSource, output: Path) -> Path:
        """Write the manifests for ``source`` into ``output`` (new or empty); return ``output``."""
        documents = to_dicts(build_objects(source, self.options))
        with atomic_dir(output) as tmp:
            for file, document in zip(FILES, documents, strict=True):
                write_file(tmp / file, dump_yaml(document))
            normalise_tree(tmp)
        return output


__all__ = [
    "DRAIN_SECONDS",
    "FILES",
    "GRACE_MARGIN_SECONDS",
    "KubernetesBuilder",
    "KubernetesOptions",
    "build_objects",
    "model_annotations",
    "model_labels",
    "selector_labels",
    "to_dicts",
]
