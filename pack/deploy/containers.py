"""A Docker deployment on the engine: a network, a proxy container with the published port, model containers.

Everything is found again from labels, so nothing is stored on the client's machine::

    network   pack-<name>          a bridge network of its own (containers reach each other by name)
    proxy     pack-<name>          publishes <host>:<port> -> 8080; forwards to the active model container
    model     pack-<name>.<N>      generation N of the model (pack serve on 8080, not published)

A model container answers readiness through the proxy container (``docker exec ... probe``), so
waiting works the same on a local or a remote engine and needs no route from here to the network.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pack.builders.base import SERVING_PORT
from pack.errors import DeployError

NAME = "pack.deployment.name"
ROLE = "pack.deployment.role"
GENERATION = "pack.deployment.generation"
HOST = "pack.deployment.host"
SETTINGS = "pack.deployment.config"
PROXY_COMMAND = ["python3", "-m", "pack.deploy.proxy"]


def network_name(name: str) -> str:
    return f"pack-{name}"


def proxy_name(name: str) -> str:
    return f"pack-{name}"


def model_name(name: str, generation: int) -> str:
    return f"pack-{name}.{generation}"


def target_of(container: Any) -> str:
    """``<container name>:8080``: how the proxy reaches a model container."""
    return f"{container.name}:{SERVING_PORT}"


@dataclass
class Found:
    """What the engine has of one deployment (containers in any state)."""

    name: str
    proxy: Any | None = None
    models: list[Any] = field(default_factory=list)
    network: Any | None = None

    @property
    def next_generation(self) -> int:
        return max((generation(c) for c in self.models), default=0) + 1


def generation(container: Any) -> int:
    return int(container.labels.get(GENERATION, "0"))


def find(client: Any, name: str) -> Found | None:
    """Everything labelled as deployment ``name`` (None when there is nothing)."""
    found = Found(name)
    for container in client.containers.list(all=True, filters={"label": f"{NAME}={name}"}):
        if container.labels.get(ROLE) == "proxy":
            found.proxy = container
        else:
            found.models.append(container)
    found.models.sort(key=generation)
    networks = client.networks.list(names=[network_name(name)], filters={"label": f"{NAME}={name}"})
    found.network = networks[0] if networks else None
    if found.proxy is None and not found.models and found.network is None:
        return None
    return found


def names(client: Any) -> list[str]:
    """Every deployment name on the engine."""
    containers = client.containers.list(all=True, filters={"label": NAME})
    return sorted({c.labels[NAME] for c in containers})


def create_network(client: Any, name: str) -> Any:
    return client.networks.create(network_name(name), driver="bridge", labels={NAME: name})


def run_model(
    client: Any, *, name: str, number: int, image: str, labels: Mapping[str, str], settings: Mapping[str, Any]
) -> Any:
    """Start generation ``number`` of the model on the deployment's network (port not published)."""
    environment = {"PACK_SERVE_WORKERS": str(settings.get("workers", 1))}
    limits: dict[str, Any] = {}
    if settings.get("memory"):
        limits["mem_limit"] = settings["memory"]
    if settings.get("cpus"):
        limits["nano_cpus"] = int(float(settings["cpus"]) * 1e9)
    return _start(
        client,
        image,
        name=model_name(name, number),
        network=network_name(name),
        environment=environment,
        labels={
            **labels,
            NAME: name,
            ROLE: "model",
            GENERATION: str(number),
            SETTINGS: json.dumps(dict(settings), sort_keys=True),
        },
        restart_policy={"Name": "unless-stopped"},
        **limits,
    )


def run_proxy(client: Any, *, name: str, image: str, target: str, host: str, port: int, drain: float) -> Any:
    """Start the proxy: publishes ``host:port`` (0: a free port) and forwards to ``target``."""
    binding = (host, port) if port else (host,)
    return _start(
        client,
        image,
        command=[*PROXY_COMMAND[2:], "serve", "--target", target, "--port", str(SERVING_PORT), "--drain", str(drain)],
        entrypoint=PROXY_COMMAND[:2],
        name=proxy_name(name),
        network=network_name(name),
        ports={f"{SERVING_PORT}/tcp": binding},
        labels={NAME: name, ROLE: "proxy", HOST: host},
        restart_policy={"Name": "unless-stopped"},
    )


def _start(client: Any, image: str, **options: Any) -> Any:
    """Create and start a container; one that was created but cannot start is removed again."""
    container = client.containers.create(image, **options)
    try:
        container.start()
    except BaseException:
        container.remove(force=True)
        raise
    return container


def published_port(proxy: Any) -> int | None:
    """The host port the proxy publishes (None when it is not running)."""
    proxy.reload()
    bindings = ((proxy.attrs.get("NetworkSettings") or {}).get("Ports") or {}).get(f"{SERVING_PORT}/tcp") or []
    return int(bindings[0]["HostPort"]) if bindings else None


def proxy_call(proxy: Any, *args: str) -> tuple[int, str]:
    """Run ``python3 -m pack.deploy.proxy ARGS`` in the proxy container: (exit code, output)."""
    import docker

    try:
        code, output = proxy.exec_run([*PROXY_COMMAND, *args])
    except docker.errors.APIError as exc:  # the proxy is not running (restarting, stopped)
        return 125, str(exc.explanation or exc)
    return int(code), output.decode(errors="replace").strip()


def active_target(proxy: Any) -> str | None:
    """Where the proxy sends requests now (None when it cannot say)."""
    code, output = proxy_call(proxy, "status")
    if code != 0:
        return None
    target = json.loads(output).get("target")
    return str(target) if target else None


def switch(proxy: Any, container: Any, drain: float) -> None:
    """Send new requests to ``container``; returns once requests in flight elsewhere finished.

    Raises:
        DeployError: the proxy refused or could not be reached.
    """
    code, output = proxy_call(proxy, "switch", target_of(container), "--drain", str(drain))
    if code != 0:
        raise DeployError(f"the proxy {proxy.name} did not switch to {container.name}: {output[-300:]}")


def wait_ready(proxy: Any, container: Any, timeout: float, address: str | None = None, poll: float = 0.5) -> None:
    """Wait until ``address`` (default: ``container``'s server) answers ready, asked from inside the proxy.

    Raises:
        DeployError: the container stopped or restarted (its last log line says why), or the time ran out.
    """
    deadline = time.monotonic() + timeout
    address = address or target_of(container)
    while True:
        container.reload()
        state = container.attrs.get("State") or {}
        if state.get("Status") in ("exited", "dead") or state.get("Restarting") or container.attrs.get("RestartCount"):
            raise DeployError(
                f"{container.name} stopped (exit code {state.get('ExitCode')}): {last_log_line(container)}"
            )
        if proxy_call(proxy, "probe", address)[0] == 0:
            return
        if time.monotonic() > deadline:
            raise DeployError(f"{container.name} was not ready within {timeout:g} s: {last_log_line(container)}")
        time.sleep(poll)


def last_log_line(container: Any) -> str:
    lines = [line for line in container.logs(tail=20).decode(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else "no log output"


def remove(container: Any, drain: float) -> None:
    """Stop (SIGTERM: in-flight requests finish within ``drain`` s) and remove a container."""
    import docker

    try:
        container.stop(timeout=max(1, round(drain)))
        container.remove(force=True)
    except docker.errors.NotFound:
        pass


def remove_all(found: Found, drain: float) -> None:
    """Remove a deployment: the proxy first (no new requests), then the models, then the network."""
    import docker

    for container in [c for c in (found.proxy, *found.models) if c is not None]:
        remove(container, drain)
    if found.network is not None:
        with contextlib.suppress(docker.errors.NotFound):
            found.network.remove()


__all__ = [
    "GENERATION",
    "HOST",
    "NAME",
    "ROLE",
    "SETTINGS",
    "Found",
    "active_target",
    "create_network",
    "find",
    "generation",
    "last_log_line",
    "model_name",
    "names",
    "network_name",
    "proxy_call",
    "proxy_name",
    "published_port",
    "remove",
    "remove_all",
    "run_model",
    "run_proxy",
    "switch",
    "target_of",
    "wait_ready",
]
