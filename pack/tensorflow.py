"""MLflow-style ``pack.tensorflow``: save and load TensorFlow models."""

from pack.flavors.tensorflow import load_model, save_model

__all__ = ["load_model", "save_model"]
