"""Executable content in a model directory, and the policy that warns about it or refuses it.

Executable content is anything whose loading can run code: pickle-based files (scikit-learn's
pickle, cloudpickle and joblib formats, custom Python models, pickled PyTorch modules, ``.pt2``
archives with pickled records) and code shipped in the model directory (``code:`` entries). Each
flavor lists what a saved model of it holds (``unsafe_content(path, model)``); pack asks before it
deserialises anything and then

* warns with ``UnsafeFormatWarning`` (the default), or
* refuses with ``UnsafeModel`` under the safe-only policy: ``safe_only=True`` in
  ``pack.pyfunc.load_model`` / ``pack.load_model``, ``PACK_SAFE_ONLY=1`` in the environment (every
  load in the process; an argument cannot turn it off), ``--safe-only`` on ``pack predict``,
  ``pack serve`` and in the images ``pack build-docker`` / ``build-sagemaker`` make.

A flavor that does not implement ``unsafe_content`` (a third-party plugin) is refused under the
policy, since pack cannot tell whether loading it runs code.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from pack.errors import InvalidInput, UnsafeFormatWarning, UnsafeModel
from pack.flavors.base import Flavor
from pack.flavors.code import add_code_to_sys_path, check_code, describe_code
from pack.flavors.mlmodel import MLModel

SAFE_ONLY_ENV = "PACK_SAFE_ONLY"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


def safe_only_policy(safe_only: bool = False) -> bool:
    """The effective policy: the caller's choice, or ``PACK_SAFE_ONLY`` (which cannot be overridden).

    The one reader of ``PACK_SAFE_ONLY``, read at every load (not through pydantic-settings, whose
    import would add ~0.1 s to every serving worker's start).

    Raises:
        InvalidInput: ``PACK_SAFE_ONLY`` is not a boolean.
    """
    value = os.environ.get(SAFE_ONLY_ENV, "").strip().lower()
    if value not in _TRUE + _FALSE:
        raise InvalidInput(f"{SAFE_ONLY_ENV} must be 1 or 0 (true/false, yes/no, on/off), got {value!r}")
    return safe_only or value in _TRUE


def unsafe_content(flavor: Flavor, path: Path, model: MLModel) -> list[str]:
    """What in the model directory would run code when loaded, one line each ([] for nothing known)."""
    lister = getattr(flavor, "unsafe_content", None)
    return [*(lister(path, model) if lister is not None else ()), *describe_code(path, model)]


def check_model(flavor: Flavor, path: Path, model: MLModel, *, safe_only: bool = False) -> list[str]:
    """Apply the policy without loading or importing anything; return the executable content found.

    Raises:
        UnsafeModel: the safe-only policy is on and the model holds executable content.
        InvalidModel: a module of the model's code would shadow an installed module.
    """
    found = unsafe_content(flavor, path, model)
    if safe_only_policy(safe_only):
        if not hasattr(flavor, "unsafe_content"):
            raise UnsafeModel(
                f"refused by the safe-only policy: the {flavor.name} flavor does not say whether loading "
                "its files runs code"
            )
        if found:
            raise UnsafeModel(f"refused by the safe-only policy: {'; '.join(found)} (executable content)")
    check_code(path, model)
    return found


def admit(flavor: Flavor, path: Path, model: MLModel, *, safe_only: bool = False) -> None:
    """Check a model before its flavor loads it: refuse, or warn about executable content.

    Then make the model's code importable (at the end of ``sys.path``).

    Raises:
        UnsafeModel: the safe-only policy is on and the model holds executable content.
        InvalidModel: a module of the model's code would shadow an installed module.
    """
    found = check_model(flavor, path, model, safe_only=safe_only)
    add_code_to_sys_path(path, model)
    for item in found:
        warnings.warn(
            f"{item}: loading it runs code from the model; load only models you trust",
            UnsafeFormatWarning,
            stacklevel=3,
        )


__all__ = ["SAFE_ONLY_ENV", "admit", "check_model", "safe_only_policy", "unsafe_content"]
