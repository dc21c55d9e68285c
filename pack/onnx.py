"""MLflow-style ``pack.onnx``: save and load ONNX models."""

from pack.flavors.onnx import load_model, save_model

__all__ = ["load_model", "save_model"]
