"""MLflow-style ``pack.keras``: save and load Keras models."""

from pack.flavors.keras import load_model, save_model

__all__ = ["load_model", "save_model"]
