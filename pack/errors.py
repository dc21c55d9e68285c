"""The one exception hierarchy of pack.

Library code raises these; the edges translate them (``pack.serving.errors`` to HTTP statuses,
``pack.cli`` to exit codes). No HTTP status or exit code lives here.

::

    PackError
    ├── NotFound                 a model, version, run, file or plugin that does not exist
    ├── AlreadyExists            a name or version that is taken
    ├── InvalidInput             bad arguments or data from the caller
    │   └── SchemaError          data or params that violate a model's signature
    ├── InvalidModel             a model directory that is malformed, hostile or tampered with
    │   └── UnsafeModel          a model holds executable content that the safe-only policy refuses
    ├── FlavorError              a flavor cannot save or load an object
    │   └── MissingDependency    an optional framework is not installed
    ├── ModelError               the model itself raised while predicting
    ├── RegistryError            the tracking/registry store failed
    ├── BuildError               a builder could not produce its output
    ├── ProjectError             a project could not be fetched, its environment built, or its run failed
    └── DeployError              a deployment target refused or failed

    UnsafeFormatWarning          executable content (a pickle, model code) is being loaded
    SchemaWarning                input was adjusted to fit the signature (e.g. extra columns dropped)
"""

from __future__ import annotations


class PackError(Exception):
    """Root of every error pack raises on purpose."""


class NotFound(PackError):
    """Something that was asked for does not exist."""


class AlreadyExists(PackError):
    """A name, version or path that must be new is already taken."""


class InvalidInput(PackError):
    """Arguments or data given by the caller are not acceptable."""


class SchemaError(InvalidInput):
    """Input data or params do not match the model's signature."""


class InvalidModel(PackError):
    """A model directory or MLmodel file is malformed, hostile or tampered with."""


class UnsafeModel(InvalidModel):
    """A model holds executable content (pickles, model code) and the safe-only policy refuses it."""


class FlavorError(PackError):
    """A flavor cannot save, read or load an object."""


class MissingDependency(FlavorError):
    """An optional dependency is missing; the message says what to install."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(f"{module} is not installed: pip install 'pack[{extra}]'")
        self.module = module
        self.extra = extra


class ModelError(PackError):
    """The model raised an exception while predicting (a server-side fault, not bad input)."""


class RegistryError(PackError):
    """The tracking or registry store failed or refused an operation."""


class BuildError(PackError):
    """A builder could not produce its output."""


class ProjectError(PackError):
    """A project could not be fetched, its environment could not be built, or its run failed."""


class DeployError(PackError):
    """A deployment target refused or failed an operation."""


class UnsafeFormatWarning(UserWarning):
    """A model is being loaded with executable content (a pickle-based format, model code)."""


class SchemaWarning(UserWarning):
    """Input was adjusted to the model's signature, e.g. extra columns were dropped."""


__all__ = [
    "AlreadyExists",
    "BuildError",
    "DeployError",
    "FlavorError",
    "InvalidInput",
    "InvalidModel",
    "MissingDependency",
    "ModelError",
    "NotFound",
    "PackError",
    "ProjectError",
    "RegistryError",
    "SchemaError",
    "SchemaWarning",
    "UnsafeFormatWarning",
    "UnsafeModel",
]
