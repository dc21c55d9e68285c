"""MLflow-style ``pack.pytorch``: save and load PyTorch models."""

from pack.flavors.pytorch import load_model, save_model

__all__ = ["load_model", "save_model"]
