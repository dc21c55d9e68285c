"""pack's own skops reader builds the same objects as skops, audits before it builds, and refuses
crafted files that skops would build."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import numpy as np
import pytest
import skops.io as sio
from sklearn.datasets import make_classification
from sklearn.ensemble import (
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from pack.flavors import skops_files

X, Y = make_classification(n_samples=200, n_features=6, random_state=0)
ESTIMATORS = [
    RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0),
    ExtraTreesRegressor(n_estimators=5, random_state=0),
    GradientBoostingClassifier(n_estimators=5, random_state=np.random.RandomState(0)),
    HistGradientBoostingClassifier(max_iter=5, random_state=0),
    LogisticRegression(),
    SGDClassifier(random_state=0),
    make_pipeline(StandardScaler(), LogisticRegression()),
    DecisionTreeClassifier(random_state=0),
]


def same(a: Any, b: Any) -> bool:
    """Deep equality of two loaded objects: types, states, arrays (structured ones by field)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        if a.dtype == object:
            return a.shape == b.shape and all(same(x, y) for x, y in zip(a.ravel(), b.ravel(), strict=True))
        if a.dtype.names:
            return a.shape == b.shape and all(np.array_equal(a[f], b[f], equal_nan=True) for f in a.dtype.names)
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.random.RandomState):
        return same(a.get_state(legacy=False), b.get_state(legacy=False))
    if isinstance(a, np.random.Generator):
        return same(a.bit_generator.state, b.bit_generator.state)
    if isinstance(a, (str, bytes, int, float, type, np.generic)) or a is None:
        return bool(a == b) or (isinstance(a, float) and np.isnan(a) and np.isnan(b))
    return same(a.__getstate__(), b.__getstate__())  # objects: by state (None for a stateless one)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_reads_what_skops_reads(estimator: Any) -> None:
    fitted = estimator.fit(X, Y)
    payload = sio.dumps(fitted)
    seen: list[str] = []
    ours = skops_files.read(payload, seen.extend)
    theirs = sio.loads(payload, trusted=sio.get_untrusted_types(data=payload))
    assert same(ours, theirs)
    assert np.array_equal(ours.predict(X), fitted.predict(X))
    assert seen == sorted(seen) and all(t.split(".")[0] in ("sklearn", "numpy") for t in seen)


def test_the_check_runs_before_anything_is_imported_or_built() -> None:
    payload = sio.dumps(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, Y))
    crafted = _rewrite(payload, lambda schema: _rename(schema, "sklearn.pipeline", "Pipeline", "os", "system"))

    class Refused(Exception):
        pass

    def refuse(types: list[str]) -> None:
        assert "os.system" in types
        raise Refused

    with pytest.raises(Refused):
        skops_files.read(crafted, refuse)


def test_only_constructors_it_expects_are_called() -> None:
    payload = sio.dumps({"a": 1})

    def key_type(schema: dict[str, Any]) -> dict[str, Any]:
        schema["key_types"]["content"][0] = {"__class__": "Popen", "__module__": "subprocess", "__loader__": "TypeNode"}
        return schema

    with pytest.raises(ValueError, match="dict key"):
        skops_files.read(_rewrite(payload, key_type), lambda types: None)
    scalar = sio.dumps(np.int64(3))
    crafted = _rewrite(scalar, lambda schema: {**schema, "__module__": "numpy", "__class__": "load"})
    with pytest.raises(ValueError, match="not a generic class"):
        skops_files.read(crafted, lambda types: None)


def test_functions_load_only_when_trusted_by_name() -> None:
    payload = sio.dumps({"ufunc": np.log1p, "function": np.save})
    with pytest.raises(ValueError, match=r"numpy\.save is a function"):
        skops_files.read(payload, lambda types: None)
    loaded = skops_files.read(payload, lambda types: None, functions=["numpy.save"])
    assert loaded == {"ufunc": np.log1p, "function": np.save}


def test_a_tree_pointing_outside_itself_is_refused() -> None:
    fitted = DecisionTreeClassifier(random_state=0).fit(X, Y)
    payload = sio.dumps(fitted)
    for field, value in (("left_child", 10_000), ("right_child", 0), ("feature", 99)):
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            schema = json.loads(archive.read("schema.json"))
            files = {name: archive.read(name) for name in archive.namelist()}
        nodes_file = schema["content"]["content"]["tree_"]["content"]["content"]["nodes"]["file"]
        nodes = np.load(io.BytesIO(files[nodes_file]))
        nodes[field][0] = value
        buffer = io.BytesIO()
        np.save(buffer, nodes)
        files[nodes_file] = buffer.getvalue()
        crafted = _zip(files)
        with pytest.raises(ValueError, match="decision tree"):
            skops_files.read(crafted, lambda types: None)


def test_node_types_it_does_not_know_are_left_to_skops() -> None:
    with pytest.raises(skops_files.Unsupported, match="BytesNode"):
        skops_files.read(sio.dumps([b"raw"]), lambda types: None)
    older = _rewrite(sio.dumps([1, 2]), lambda schema: {**schema, "protocol": 1})
    with pytest.raises(skops_files.Unsupported, match="protocol 1"):
        skops_files.read(older, lambda types: None)
    for obj in (OneHotEncoder().fit([["a"], ["b"]]), {"f": np.log1p, 3: (1.5, "x")}, {1, 2}, slice(1, None)):
        payload = sio.dumps(obj)
        try:
            ours = skops_files.read(payload, lambda types: None)
        except skops_files.Unsupported:
            continue
        assert same(ours, sio.loads(payload, trusted=sio.get_untrusted_types(data=payload)))


# ---------------------------------------------------------------------------------------------


def _rewrite(payload: bytes, change: Any) -> bytes:
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    files["schema.json"] = json.dumps(change(json.loads(files["schema.json"]))).encode()
    return _zip(files)


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _rename(node: Any, module: str, name: str, new_module: str, new_name: str) -> Any:
    if isinstance(node, dict):
        if node.get("__module__") == module and node.get("__class__") == name:
            node = {**node, "__module__": new_module, "__class__": new_name}
        return {key: _rename(value, module, name, new_module, new_name) for key, value in node.items()}
    if isinstance(node, list):
        return [_rename(value, module, name, new_module, new_name) for value in node]
    return node
