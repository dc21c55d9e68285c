"""The plugin loader: built-in targets, entry points of installed distributions, clear errors."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest

import pack
import pack.pyfunc
from pack import _plugins
from pack.errors import FlavorError, InvalidModel, NotFound, UnsafeModel
from pack.flavors.lookup import available_flavors, get_flavor

PLUGIN = textwrap.dedent(
    '''
    """A third-party flavor: models that add a constant, stored as text."""
    from pathlib import Path

    import numpy as np

    from pack.flavors.base import SavedFlavor


    class Adder:
        def __init__(self, amount):
            self.amount = amount


    class AdderPredictor:
        def __init__(self, amount):
            self.amount = amount

        def predict(self, data, params=None):
            return np.asarray(data, dtype=float) + self.amount


    class AdderFlavor:
        name = "adder"
        loader_modules = ("adder_flavor",)
        extra = "adder"

        def can_save(self, obj):
            return isinstance(obj, Adder)

        def save(self, obj, path, options):
            (path / "amount.txt").write_text(str(obj.amount))
            predictor = AdderPredictor(obj.amount)
            return SavedFlavor({"data": "amount.txt"}, {"loader_module": "adder_flavor"}, [], predictor)

        def load(self, path, model, config):
            return Adder(float((Path(path) / "amount.txt").read_text()))

        def load_pyfunc(self, path, model, config):
            return AdderPredictor(self.load(path, model, config).amount)

        def read_native(self, path):
            return Adder(float(Path(path).read_text()))


    FLAVOR = AdderFlavor()
    NOT_A_FLAVOR = object()
    '''
)


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """A real distribution on sys.path whose entry points register a flavor (and a broken one)."""
    (tmp_path / "adder_flavor.py").write_text(PLUGIN)
    info = tmp_path / "adder_flavor-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: adder-flavor\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[pack.flavors]\nadder = adder_flavor:FLAVOR\nbroken = adder_flavor:NOT_A_FLAVOR\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    _plugins._entry_points.cache_clear()
    yield
    _plugins._entry_points.cache_clear()
    sys.modules.pop("adder_flavor", None)


def test_entry_point_flavor_saves_loads_and_predicts(installed_plugin, tmp_path):
    from adder_flavor import Adder

    assert {"adder", "sklearn", "python_function"} <= set(available_flavors())
    saved = pack.save_model(Adder(2.5), tmp_path / "m", input_example=np.ones((2, 3)))
    assert saved.flavors["python_function"]["loader_module"] == "adder_flavor"
    model = pack.pyfunc.load_model(tmp_path / "m")
    assert model.predict(np.zeros((1, 3))).tolist() == [[2.5, 2.5, 2.5]]
    assert pack.load_model(tmp_path / "m").amount == 2.5
    # the plugin does not list what in its files could run code, so the safe-only policy refuses it
    with pytest.raises(UnsafeModel, match="the adder flavor does not say whether loading its files runs code"):
        pack.pyfunc.load_model(tmp_path / "m", safe_only=True)


def test_a_plugin_that_is_not_a_flavor_is_refused(installed_plugin):
    with pytest.raises(FlavorError, match="does not implement the Flavor interface"):
        get_flavor("broken")


def test_builtins_win_and_unknown_names_are_clear():
    assert _plugins.load("pack.flavors", "sklearn") is get_flavor("sklearn")
    with pytest.raises(NotFound, match=r"unknown flavor 'nope' \(known: .*sklearn"):
        get_flavor("nope")


def test_a_model_whose_plugin_is_not_installed(installed_plugin, tmp_path):
    from adder_flavor import Adder

    pack.save_model(Adder(1.0), tmp_path / "m")
    _plugins._entry_points.cache_clear()
    sys.path.remove(next(p for p in sys.path if p == str(tmp_path)))
    with pytest.raises(InvalidModel, match="no installed flavor loads models with loader_module 'adder_flavor'"):
        pack.pyfunc.load_model(tmp_path / "m")
