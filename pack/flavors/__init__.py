"""Flavors: the MLmodel format, signatures, and the framework integrations behind pyfunc.

Importing this package is light; submodules that need numpy or pandas load them when used.
"""

from pack.flavors.base import Flavor, SavedFlavor
from pack.flavors.lookup import available_flavors, flavor_for_model, flavor_for_object, get_flavor
from pack.flavors.mlmodel import MLMODEL_FILE, MLModel
from pack.flavors.schema import ColSpec, DataType, ModelSignature, ParamSchema, ParamSpec, Schema, TensorSpec

__all__ = [
    "MLMODEL_FILE",
    "ColSpec",
    "DataType",
    "Flavor",
    "MLModel",
    "ModelSignature",
    "ParamSchema",
    "ParamSpec",
    "SavedFlavor",
    "Schema",
    "TensorSpec",
    "available_flavors",
    "flavor_for_model",
    "flavor_for_object",
    "get_flavor",
]
