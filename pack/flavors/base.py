"""The Flavor interface: how one framework saves, reads and loads its models.

Implementer checklist (a third-party flavor registers an object under the ``pack.flavors`` entry
point group):

1. ``name``: the MLmodel section it writes (``sklearn``, ``pytorch``, ...).
2. ``loader_modules``: the ``python_function.loader_module`` values it can load (its own, plus
   MLflow's equivalent so MLflow-saved models load without MLflow). The first one is written.
3. ``can_save(obj)``: recognise native objects *without importing the framework* when it is not
   already imported (check ``sys.modules`` first).
4. ``save(obj, path, options)``: write the model data into ``path`` (a fresh directory) and return a
   ``SavedFlavor``; refuse unknown options with ``InvalidInput``.
5. ``load(path, model, config)`` returns the native object; ``load_pyfunc(...)`` a ``Predictor``.
   Resolve every file named in the MLmodel with ``pack._fs.safe_join``.
6. ``read_native(path)``: read a serialized native model file (for ``pack log-model``) or raise
   ``FlavorError`` if the file is not one.
7. Import the framework lazily inside methods, raising ``MissingDependency`` when it is absent.

Optional attributes (looked up with ``getattr``, so older flavors need not define them):

* ``uses_input_example = True``: ``save`` receives the example data (without params) as
  ``options["input_example"]`` (None when the caller gave none), e.g. to trace or export a graph.
* ``reads_directories = True``: ``read_native`` accepts a directory (e.g. a TensorFlow SavedModel).
* ``native_signature(obj, path) -> ModelSignature | None``: the signature the object declares itself
  (an estimator's feature names, an ONNX graph's inputs), used when ``save_model`` gets neither a
  signature nor an input example; ``path`` is the directory ``save`` just wrote.
* ``unsafe_content(path, model) -> list[str]``: what in a saved model would run code when loaded
  (pickles and the like), one line each, ``[]`` for nothing. pack asks before ``load``/``load_pyfunc``
  and warns or refuses (``pack.flavors.safety``); a flavor without it is refused under the safe-only
  policy. ``load`` itself does not warn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pack.errors import InvalidInput
from pack.flavors.mlmodel import MLModel
from pack.types import Predictor

EXAMPLE_OPTION = "input_example"


@dataclass(frozen=True)
class SavedFlavor:
    """What ``Flavor.save`` wrote.

    Attributes:
        flavor_conf: the flavor's own MLmodel section.
        pyfunc_conf: keys for the ``python_function`` section (``loader_module``, ``model_path``, ...);
            pack adds ``python_version``, ``env`` and ``code``.
        requirements: distribution names or requirement strings the model needs at load time.
        predictor: an in-memory predictor for the saved object, used to infer the output signature
            without loading the files back (None: pack loads them).
    """

    flavor_conf: Mapping[str, Any]
    pyfunc_conf: Mapping[str, Any]
    requirements: Sequence[str] = ()
    predictor: Predictor | None = field(default=None, compare=False)


@runtime_checkable
class Flavor(Protocol):
    """A framework integration; see the module docstring for the contract."""

    name: str
    loader_modules: tuple[str, ...]
    extra: str

    def can_save(self, obj: Any) -> bool: ...

    def save(self, obj: Any, path: Path, options: Mapping[str, Any]) -> SavedFlavor: ...

    def load(self, path: Path, model: MLModel, config: Mapping[str, Any]) -> Any: ...

    def load_pyfunc(self, path: Path, model: MLModel, config: Mapping[str, Any]) -> Predictor: ...

    def read_native(self, path: Path) -> Any: ...


def check_options(flavor: str, options: Mapping[str, Any], allowed: Sequence[str]) -> None:
    """Refuse option names a flavor does not know.

    Raises:
        InvalidInput: an option is unknown.
    """
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise InvalidInput(
            f"unknown option(s) for the {flavor} flavor: {', '.join(unknown)} (known: {', '.join(allowed) or 'none'})"
        )


__all__ = ["EXAMPLE_OPTION", "Flavor", "SavedFlavor", "check_options"]
