"""The ``docker`` target: a model version served by the local (or ``DOCKER_HOST``) engine behind one port.

create   build the version's image (or reuse one with the same model files), start it on a network of
         its own, start the proxy that publishes ``host:port``, wait until the model answers ready
update   start the new version beside the old one, wait until it is ready, switch the proxy to it
         (requests in flight on the old one finish there), then stop the old one: there is always a
         ready container behind the port, and clients keep their URL and their connections
delete   the proxy, the model containers and the network (images stay, as a build cache)
list/get from container labels; predict over HTTP to the published port
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from pack.builders.base import SERVING_PORT, ProgressCallback
from pack.builders.engines import docker_client
from pack.builders.settings import BuildSettings
from pack.deploy import containers
from pack.deploy.base import BaseDeploymentClient, DeployedModel, Deployment, check_flavor, check_name
from pack.deploy.images import MODEL, ImageRequest, ensure_image
from pack.deploy.options import option, options_help, parse_options
from pack.deploy.scoring import post_invocations
from pack.deploy.source import resolve_source
from pack.errors import AlreadyExists, BuildError, DeployError, InvalidInput, NotFound

TARGET = "docker"
_FIXED_AT_CREATE = ("host", "port")


@dataclass(frozen=True)
class DockerOptions:
    """``-C`` keys of the docker target."""

    image: str | None = option(None, "run this image (made by pack build-docker) instead of building one")
    base_image: str | None = option(None, "base of the built image (default python:<model's major.minor>-slim)")
    host: str = option("127.0.0.1", "interface the port is published on (0.0.0.0: every interface)")
    port: int = option(0, "host port of the endpoint (0: a free one); fixed at create")
    workers: int = option(1, "pack serve worker processes in the model container")
    safe_only: bool = option(False, "a built image refuses executable model content (checked at build)")
    accelerate: bool = option(False, "a built image compiles tree ensembles at load (pack serve --accelerate)")
    memory: str | None = option(None, "memory limit of the model container (e.g. 2g)")
    cpus: float | None = option(None, "CPU limit of the model container (e.g. 1.5)")
    timeout: float = option(600.0, "seconds to wait for the model to answer ready")
    drain_timeout: float = option(30.0, "seconds requests in flight get to finish on a container being replaced")

    def container_settings(self) -> dict[str, Any]:
        """What a model container is started with (kept in a label; an update starts from it)."""
        return {
            "workers": self.workers,
            "memory": self.memory,
            "cpus": self.cpus,
            "base_image": self.base_image,
            "safe_only": self.safe_only,
            "accelerate": self.accelerate,
        }


def target_help() -> str:
    """Help for ``pack deployments help -t docker``."""
    return (
        "docker: the Docker engine of DOCKER_HOST (or the default socket).\n"
        "Each deployment is a proxy container publishing HOST:PORT and the model's container behind it; "
        "update starts the new version, waits until it is ready, moves traffic, then stops the old one.\n"
        "Config keys (-C key=value):\n" + options_help(DockerOptions)
    )


class DockerDeploymentClient(BaseDeploymentClient):
    """Deployments on a Docker engine."""

    def __init__(
        self,
        target_uri: str = TARGET,
        progress: ProgressCallback | None = None,
        build_settings: BuildSettings | None = None,
    ) -> None:
        super().__init__(target_uri, progress)
        self.cache_dir = (build_settings or BuildSettings()).cache_dir

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
        options = parse_options(DockerOptions, config, TARGET)
        check_name(name)
        with _engine() as client:
            if containers.find(client, name) is not None:
                raise AlreadyExists(f"deployment {name!r} already exists on docker (update or delete it)")
        source = resolve_source(model_uri)
        image = self._image(source, options)
        with _engine() as client:
            started: containers.Found = containers.Found(name)
            try:
                self._report(f"starting {containers.model_name(name, 1)} ({source.name} {source.version})")
                started.network = containers.create_network(client, name)
                model = containers.run_model(
                    client,
                    name=name,
                    number=1,
                    image=image,
                    labels=DeployedModel.of(source).labels(),
                    settings=options.container_settings(),
                )
                started.models.append(model)
                started.proxy = containers.run_proxy(
                    client,
                    name=name,
                    image=image,
                    target=containers.target_of(model),
                    host=options.host,
                    port=options.port,
                    drain=options.drain_timeout,
                )
                self._report(f"waiting for {model.name} to load the model and answer ready")
                containers.wait_ready(started.proxy, model, options.timeout)
                containers.wait_ready(started.proxy, started.proxy, options.timeout, f"127.0.0.1:{SERVING_PORT}")
            except KeyboardInterrupt:
                raise  # interrupted while waiting: the deployment stays, listed as starting
            except Exception:
                containers.remove_all(started, drain=0)  # a failed create leaves nothing behind
                raise
            return self._describe(client, containers.find(client, name) or started)

    def update_deployment(
        self,
        name: str,
        model_uri: str | None = None,
        flavor: str | None = None,
        config: Mapping[str, Any] | None = None,
        endpoint: str | None = None,
    ) -> Deployment:
        check_flavor(flavor)
        fixed = sorted(set(config or {}) & set(_FIXED_AT_CREATE))
        if fixed:
            raise InvalidInput(f"{', '.join(fixed)} cannot change on update: delete and create the deployment again")
        with _engine() as client:
            found = self._found(client, name)
            if found.proxy is None:
                raise DeployError(f"deployment {name!r} has no proxy container: delete it and create it again")
            found = self._settle(client, found)
            current = found.models[-1] if found.models else None
            settings = json.loads(current.labels.get(containers.SETTINGS, "{}")) if current is not None else {}
            options = parse_options(DockerOptions, {**settings, **dict(config or {})}, TARGET)
            if model_uri is not None:
                source = resolve_source(model_uri)
                image = self._image(source, options)
                labels = DeployedModel.of(source).labels()
            elif current is not None:
                image = options.image or str(current.image.id)
                labels = {k: v for k, v in current.labels.items() if k.startswith("pack.model.")}
            else:
                raise InvalidInput(f"deployment {name!r} runs no model: pass a model URI")
            self._roll(client, found, image, labels, options)
            return self._describe(client, self._found(client, name))

    def _roll(
        self, client: Any, found: containers.Found, image: str, labels: dict[str, str], options: DockerOptions
    ) -> None:
        """Start the next generation, wait for it, move traffic to it, stop the others."""
        assert found.proxy is not None  # checked by the caller
        number = found.next_generation
        self._report(f"starting {containers.model_name(found.name, number)} ({labels.get('pack.model.version')})")
        new = containers.run_model(
            client, name=found.name, number=number, image=image, labels=labels, settings=options.container_settings()
        )
        try:
            self._report(f"waiting for {new.name} to load the model and answer ready")
            containers.wait_ready(found.proxy, new, options.timeout)
            self._report(f"moving traffic to {new.name}; requests in flight finish where they are")
            containers.switch(found.proxy, new, options.drain_timeout)
        except BaseException:
            # Keep whichever container the proxy sends traffic to (an interrupted switch may have landed).
            if containers.active_target(found.proxy) != containers.target_of(new):
                containers.remove(new, drain=0)
                raise
        for old in found.models:
            self._report(f"stopping {old.name}")
            containers.remove(old, options.drain_timeout)

    def delete_deployment(
        self, name: str, config: Mapping[str, Any] | None = None, endpoint: str | None = None
    ) -> None:
        options = parse_options(DockerOptions, config, TARGET)
        with _engine() as client:
            found = self._found(client, name)
            self._report(f"removing the containers and the network of {name}")
            containers.remove_all(found, options.drain_timeout)

    # ---- list / get / predict ----------------------------------------------------------------

    def list_deployments(self, endpoint: str | None = None) -> list[Deployment]:
        with _engine() as client:
            found = (containers.find(client, name) for name in containers.names(client))
            return [self._describe(client, f) for f in found if f is not None]

    def get_deployment(self, name: str, endpoint: str | None = None) -> Deployment:
        with _engine() as client:
            return self._describe(client, self._found(client, name))

    def predict(self, deployment_name: str | None = None, inputs: Any = None, endpoint: str | None = None) -> Any:
        if not deployment_name:
            raise InvalidInput("name the deployment to score")
        deployment = self.get_deployment(deployment_name)
        if deployment.endpoint is None:
            raise DeployError(f"deployment {deployment_name!r} is {deployment.state}: it has no endpoint")
        return post_invocations(f"{deployment.endpoint}/invocations", inputs)

    # ---- helpers -------------------------------------------------------------------------------

    def _image(self, source: Any, options: DockerOptions) -> str:
        if options.image:
            return options.image
        request = ImageRequest(
            MODEL, options.base_image, None, self.cache_dir, safe_only=options.safe_only, accelerate=options.accelerate
        )
        return ensure_image(source, request, self.progress).reference

    def _found(self, client: Any, name: str) -> containers.Found:
        found = containers.find(client, name)
        if found is None:
            known = ", ".join(containers.names(client)) or "none"
            raise NotFound(f"no deployment {name!r} on docker (deployments: {known})")
        return found

    def _settle(self, client: Any, found: containers.Found) -> containers.Found:
        """After an interrupted update: keep the model container the proxy serves, remove the rest."""
        if len(found.models) < 2 or found.proxy is None:
            return found
        target = containers.active_target(found.proxy)
        keep = [c for c in found.models if containers.target_of(c) == target] or found.models[:1]
        for container in found.models:
            if container not in keep:
                self._report(f"removing {container.name}, left by an interrupted update")
                containers.remove(container, drain=0)
        return self._found(client, found.name)

    def _describe(self, client: Any, found: containers.Found) -> Deployment:
        active = self._active(found)
        port = containers.published_port(found.proxy) if found.proxy is not None else None
        endpoint = f"http://{self._endpoint_host(found)}:{port}" if port else None
        details = {
            "containers": [c.name for c in found.models],
            "proxy": found.proxy.name if found.proxy is not None else None,
            "network": found.network.name if found.network is not None else None,
            "image": _image_name(active) if active is not None else None,
            "generation": containers.generation(active) if active is not None else None,
            "settings": json.loads(active.labels.get(containers.SETTINGS, "{}")) if active is not None else {},
        }
        model = DeployedModel.from_labels(active.labels) if active is not None else None
        return Deployment(found.name, TARGET, self._state(found, active), model, endpoint, details)

    def _active(self, found: containers.Found) -> Any | None:
        if len(found.models) > 1 and found.proxy is not None:
            target = containers.active_target(found.proxy)
            for container in found.models:
                if containers.target_of(container) == target:
                    return container
        return found.models[-1] if found.models else None

    def _state(self, found: containers.Found, active: Any | None) -> str:
        if found.proxy is None or active is None:
            return "broken"
        if found.proxy.status != "running" or active.status != "running":
            return "stopped" if "exited" in (found.proxy.status, active.status) else str(active.status)
        if len(found.models) > 1:
            return "updating"
        health = ((active.attrs.get("State") or {}).get("Health") or {}).get("Status")
        if health == "unhealthy":
            return "unhealthy"
        if health == "healthy" or containers.proxy_call(found.proxy, "probe", containers.target_of(active))[0] == 0:
            return "ready"
        return "starting"

    def _endpoint_host(self, found: containers.Found) -> str:
        host = (found.proxy.labels.get(containers.HOST) if found.proxy is not None else None) or "127.0.0.1"
        docker_host = os.environ.get("DOCKER_HOST", "")
        if docker_host.startswith(("tcp://", "ssh://", "http://", "https://")):
            return urlparse(docker_host).hostname or host
        return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


@contextmanager
def _engine() -> Iterator[Any]:
    """A client of the engine; its refusals become ``DeployError`` (one line, no traceback)."""
    import docker

    try:
        client = docker_client()
    except BuildError as error:  # the builders' advice (write a context, build elsewhere) is not ours
        raise DeployError(str(error).split("; write the build context")[0]) from None
    try:
        yield client
    except docker.errors.DockerException as exc:
        reason = getattr(exc, "explanation", None) or str(exc)
        raise DeployError(f"the Docker engine refused: {str(reason).splitlines()[0][:300]}") from None
    finally:
        client.close()


def _image_name(container: Any) -> str:
    tags = container.image.tags if container.image is not None else []
    return str(tags[0]) if tags else str(container.attrs.get("Config", {}).get("Image", ""))


__all__ = ["DockerDeploymentClient", "DockerOptions", "target_help"]
