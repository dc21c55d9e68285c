"""pack: package, register, serve and ship ML models.

The top-level verbs are loaded lazily, so ``import pack`` touches no disk, network or framework.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from pack._version import __version__

if TYPE_CHECKING:
    from pack.flavors.infer import infer_signature
    from pack.flavors.packaging import load_model, save_model
    from pack.flavors.schema import ModelSignature

_LAZY = {
    "save_model": "pack.flavors.packaging:save_model",
    "load_model": "pack.flavors.packaging:load_model",
    "infer_signature": "pack.flavors.infer:infer_signature",
    "ModelSignature": "pack.flavors.schema:ModelSignature",
}
_SUBMODULES = {"pyfunc", "sklearn", "flavors", "errors"}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is not None:
        module, _, attr = target.partition(":")
        value = getattr(import_module(module), attr)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return import_module(f"pack.{name}")
    raise AttributeError(f"module 'pack' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY, *_SUBMODULES])


__all__ = ["ModelSignature", "__version__", "infer_signature", "load_model", "save_model"]
