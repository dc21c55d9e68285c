"""Finding the flavor for a name, a native object, or a saved model."""

from __future__ import annotations

from typing import Any

from pack import _plugins
from pack.errors import FlavorError, InvalidModel, NotFound
from pack.flavors.base import Flavor
from pack.flavors.mlmodel import PYFUNC, MLModel

GROUP = "pack.flavors"


def available_flavors() -> list[str]:
    """Names of every installed flavor (built-in and plugins)."""
    return _plugins.names(GROUP)


def get_flavor(name: str) -> Flavor:
    """The flavor registered under ``name``.

    Raises:
        NotFound: no such flavor.
        FlavorError: the plugin does not implement the Flavor interface.
    """
    flavor = _plugins.load(GROUP, name)
    if not isinstance(flavor, Flavor):
        raise FlavorError(f"plugin {name!r} of {GROUP} does not implement the Flavor interface")
    return flavor


def flavor_for_object(obj: Any) -> Flavor:
    """The first flavor that can save ``obj``.

    Raises:
        FlavorError: no installed flavor recognises the object.
    """
    for name in available_flavors():
        flavor = get_flavor(name)
        if flavor.can_save(obj):
            return flavor
    raise FlavorError(
        f"no flavor can save a {type(obj).__module__}.{type(obj).__qualname__}; pass flavor=... "
        f"(installed: {', '.join(available_flavors())})"
    )


def flavor_for_model(model: MLModel) -> Flavor:
    """The flavor that loads a saved model through ``python_function.loader_module``.

    The loader module named in the file is only *looked up* among installed flavors, never imported,
    so an MLmodel cannot make pack import arbitrary code.

    Raises:
        InvalidModel: the model has no pyfunc section or no installed flavor loads it.
    """
    conf = model.pyfunc_conf
    if conf is None:
        for name in model.flavors:
            try:
                return get_flavor(name)
            except NotFound:
                continue
        raise InvalidModel(f"model has no python_function flavor and no known flavor ({', '.join(model.flavors)})")
    loader = conf.get("loader_module")
    if not isinstance(loader, str):
        raise InvalidModel("python_function flavor has no loader_module")
    for name in available_flavors():
        flavor = get_flavor(name)
        if loader in flavor.loader_modules:
            return flavor
    raise InvalidModel(f"no installed flavor loads models with loader_module {loader!r}")


def native_flavor(model: MLModel, requested: str | None = None) -> Flavor:
    """The flavor whose native object ``pack.load_model`` should return."""
    if requested is not None:
        if requested not in model.flavors:
            raise InvalidModel(f"model has no {requested!r} flavor (it has: {', '.join(model.flavors)})")
        return get_flavor(requested)
    native = [name for name in model.flavors if name != PYFUNC]
    for name in native:
        try:
            return get_flavor(name)
        except NotFound:
            continue
    return flavor_for_model(model)


__all__ = ["available_flavors", "flavor_for_model", "flavor_for_object", "get_flavor", "native_flavor"]
