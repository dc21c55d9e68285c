"""skops' verdict on scikit-learn's trees: pack trusts a tree only after checking it, from any source.

The crafted models below are what skops warns about: a tree whose node indices lead scikit-learn's
compiled code outside its arrays. Nothing here predicts on a crafted tree (that would crash the test
process); each must be refused at load, and every genuine tree model must load without a trust list.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.ensemble import (
    BaggingClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    IsolationForest,
    RandomForestClassifier,
)
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

import pack
import pack.pyfunc
from pack.errors import FlavorError, InvalidModel
from pack.flavors.sklearn_trust import untrusted_types

X, Y = np.random.default_rng(0).random((200, 6)), np.arange(200) % 2


@pytest.mark.parametrize(
    "estimator",
    [
        DecisionTreeClassifier(max_depth=5),
        RandomForestClassifier(n_estimators=5, max_depth=4),
        ExtraTreesRegressor(n_estimators=3),
        GradientBoostingClassifier(n_estimators=5),
        HistGradientBoostingClassifier(max_iter=5),
        IsolationForest(n_estimators=5, random_state=0),
        BaggingClassifier(DecisionTreeClassifier(), n_estimators=4, max_features=0.5, random_state=0),
    ],
    ids=lambda e: type(e).__name__,
)
def test_genuine_tree_models_load_without_a_trust_list(estimator, tmp_path):
    fitted = estimator.fit(X, Y)
    pack.save_model(fitted, tmp_path / "m")
    loaded = pack.pyfunc.load_model(tmp_path / "m")
    assert loaded.predict(X[:20]).tolist() == fitted.predict(X[:20]).tolist()


def test_categorical_gradient_boosting_loads(tmp_path):
    frame = pd.DataFrame({"x": X[:, 0], "colour": np.arange(200) % 4})
    fitted = HistGradientBoostingClassifier(max_iter=5, categorical_features=[1]).fit(frame, Y)
    assert any(p.nodes["is_categorical"].any() for it in fitted._predictors for p in it)
    partial = ["functools.partial", "sklearn.utils.validation.check_array"]  # its preprocessing: functions
    pack.save_model(fitted, tmp_path / "m", skops_trusted_types=partial)
    loaded = pack.load_model(tmp_path / "m", model_config={"trusted_types": partial})
    assert loaded.predict(frame).tolist() == fitted.predict(frame).tolist()


READER_REFUSES = "a decision tree node that points outside the tree or its features"


def _tampered(tmp_path, estimator, tamper):
    """Save ``estimator`` with pack, then replace its skops file with a tampered copy."""
    fitted = estimator.fit(X, Y)
    pack.save_model(fitted, tmp_path / "m")
    crafted = sio.loads(
        (tmp_path / "m" / "model.skops").read_bytes(),
        trusted=sio.get_untrusted_types(data=(tmp_path / "m" / "model.skops").read_bytes()),
    )
    tamper(crafted)
    (tmp_path / "m" / "model.skops").write_bytes(sio.dumps(crafted))
    return tmp_path / "m"


def _edit_tree(tree, **changes):
    state = tree.__getstate__()
    nodes = state["nodes"].copy()
    for field, (index, value) in changes.items():
        if field == "max_depth":
            state["max_depth"] = value
        else:
            nodes[field][index] = value
    state["nodes"] = nodes
    tree.__setstate__(state)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"left_child": (0, 10**6)}, r"node 0 points to node 1000000"),
        ({"right_child": (0, -5)}, r"node 0 points to node -5"),
        ({"left_child": (1, 0)}, r"node 1 points to node 0"),  # a cycle back to the root
        ({"feature": (0, 10**6)}, r"splits on feature 1000000 of an input with 6 features"),
        ({"max_depth": (0, 1)}, r"levels deep but records a maximum depth of 1"),
    ],
    ids=["child-out-of-range", "negative-child", "cycle", "feature-out-of-range", "deeper-than-recorded"],
)
def test_a_crafted_decision_tree_is_refused(tmp_path, changes, message):
    path = _tampered(tmp_path, DecisionTreeClassifier(max_depth=5), lambda m: _edit_tree(m.tree_, **changes))
    message = f"{message}|{READER_REFUSES}"  # pack's skops reader refuses some while it builds the tree
    with pytest.raises(InvalidModel, match=message):
        pack.pyfunc.load_model(path)
    with pytest.raises(InvalidModel, match=message):  # an explicit trust list does not skip the check
        pack.pyfunc.load_model(path, model_config={"trusted_types": ["sklearn.tree._tree.Tree"]})


def test_a_forest_narrower_than_its_trees_is_refused(tmp_path):
    def narrow(forest):
        forest.n_features_in_ = 2  # the forest checks 2 columns, then hands them to trees that read 6

    path = _tampered(tmp_path, RandomForestClassifier(n_estimators=3, random_state=0), narrow)
    with pytest.raises(InvalidModel, match="of an input with 2 features"):
        pack.pyfunc.load_model(path)


def test_a_crafted_gradient_boosting_predictor_is_refused(tmp_path):
    def jump(model):
        model._predictors[0][0].nodes["left"][0] = 10**6

    path = _tampered(tmp_path, HistGradientBoostingClassifier(max_iter=3), jump)
    with pytest.raises(InvalidModel, match=r"gradient boosting tree's node 0 points to node 1000000"):
        pack.load_model(path)


def test_neighbour_trees_need_explicit_trust_at_save_and_load(tmp_path):
    knn = KNeighborsClassifier(algorithm="kd_tree").fit(X, Y)
    assert untrusted_types(["sklearn.neighbors._kd_tree.KDTree", "sklearn.tree._tree.Tree"]) == [
        "sklearn.neighbors._kd_tree.KDTree"
    ]
    with pytest.raises(FlavorError, match=r"sklearn.neighbors._kd_tree.KDTree"):
        pack.save_model(knn, tmp_path / "refused")
    trusted = [t for t in sio.get_untrusted_types(data=sio.dumps(knn)) if t.startswith("sklearn.")]
    pack.save_model(knn, tmp_path / "m", skops_trusted_types=trusted)
    with pytest.raises(InvalidModel, match=r"holds types that are not trusted: .*KDTree"):
        pack.pyfunc.load_model(tmp_path / "m")
    loaded = pack.pyfunc.load_model(tmp_path / "m", model_config={"trusted_types": trusted})
    assert loaded.predict(X[:5]).tolist() == knn.predict(X[:5]).tolist()
