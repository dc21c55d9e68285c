"""MLflow-style ``pack.models``: ``from pack.models import infer_signature`` as in MLflow snippets."""

from pack.flavors.infer import infer_signature
from pack.flavors.schema import ModelSignature

__all__ = ["ModelSignature", "infer_signature"]
