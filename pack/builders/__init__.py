"""Builders: a model becomes a Docker image, Kubernetes manifests, a Helm chart or a SageMaker bundle.

Each builder takes a ``ModelSource`` (a resolved local model directory and its identity) and writes
deterministic files; none of them imports serving: images run ``pack serve`` by command line.
"""

from pack.builders.base import Builder, ModelSource, Progress, ProgressCallback

__all__ = ["Builder", "ModelSource", "Progress", "ProgressCallback"]
