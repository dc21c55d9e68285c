"""MLflow-style ``pack.sklearn``: save and load scikit-learn models."""

from pack.flavors.sklearn import load_model, save_model

__all__ = ["load_model", "save_model"]
