"""Is a Kubernetes Deployment rolled out? ``kubectl rollout status``'s rules, on the API's JSON.

A rollout is done when the controller has observed the latest spec (``observedGeneration`` at least
``generation``), every replica runs the new template (``updatedReplicas``), no old replica is left
(``replicas``) and every new one is available (``availableReplicas``). A ``Progressing`` condition with
reason ``ProgressDeadlineExceeded`` means it failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pack.errors import DeployError


@dataclass(frozen=True)
class RolloutStatus:
    """Where a rollout is: ``done``, ``failed`` or neither, and the sentence saying so."""

    message: str
    done: bool = False
    failed: bool = False

    @property
    def state(self) -> str:
        """``ready``, ``failed`` or ``progressing`` (a deployment's state)."""
        return "ready" if self.done else "failed" if self.failed else "progressing"


def rollout_status(deployment: Mapping[str, Any]) -> RolloutStatus:
    """The status of a Deployment given as the API's JSON (camelCase keys)."""
    meta = deployment.get("metadata") or {}
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    name = meta.get("name", "the deployment")
    if int(meta.get("generation") or 0) > int(status.get("observedGeneration") or 0):
        return RolloutStatus(f"waiting for the controller to observe the new spec of {name}")
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
            return RolloutStatus(f"{name} exceeded its progress deadline: {condition.get('message', '')}", failed=True)
    wanted = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
    updated = int(status.get("updatedReplicas") or 0)
    total = int(status.get("replicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    if updated < wanted:
        return RolloutStatus(f"{updated} of {wanted} new replicas of {name} have been updated")
    if total > updated:
        return RolloutStatus(f"{total - updated} old replicas of {name} are pending termination")
    if available < updated:
        return RolloutStatus(f"{available} of {updated} updated replicas of {name} are available")
    return RolloutStatus(f"{name} rolled out: {available} of {wanted} replicas available", done=True)


def wait_for_rollout(
    read: Callable[[], Mapping[str, Any]],
    timeout: float,
    poll: float,
    report: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> RolloutStatus:
    """Read the Deployment until its rollout is done; report each new status sentence.

    Raises:
        DeployError: the rollout failed, or was not done within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        status = rollout_status(read())
        if status.message != last:
            report(status.message)
            last = status.message
        if status.done:
            return status
        if status.failed:
            raise DeployError(f"rollout failed: {status.message}")
        if time.monotonic() > deadline:
            raise DeployError(f"the rollout was not done within {timeout:g} s: {status.message}")
        sleep(poll)


__all__ = ["RolloutStatus", "rollout_status", "wait_for_rollout"]
