"""``ModelSource``: a model directory's identity, checksum and Python; name helpers."""

from __future__ import annotations

import shutil

import pytest
import yaml

from pack.builders.base import ModelSource, dns_name, label_value, tree_checksum
from pack.errors import InvalidInput, NotFound


def test_local_directory_names_itself(rf_model, rf_source):
    mlmodel = yaml.safe_load((rf_model / "MLmodel").read_text())
    assert rf_source.name == "RandomForestClassifier"
    assert rf_source.version == mlmodel["model_uuid"][:12]
    assert rf_source.source_uri == "RandomForestClassifier"  # no host path
    assert rf_source.python_version == ".".join(mlmodel["flavors"]["python_function"]["python_version"].split(".")[:2])
    assert "scikit-learn" in " ".join(rf_source.requirements)
    assert rf_source.checksum.startswith("sha256:") and len(rf_source.checksum) == 71


def test_registry_identity_overrides_the_directory(rf_model):
    source = ModelSource.from_directory(rf_model, name="rf", version="3", source_uri="models:/rf/3")
    assert (source.name, source.version, source.source_uri) == ("rf", "3", "models:/rf/3")
    assert source.labels()["pack.model.source"] == "models:/rf/3"


def test_checksum_follows_names_and_contents(rf_model, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(rf_model, copy)
    assert tree_checksum(copy) == tree_checksum(rf_model)
    (copy / "requirements.txt").write_text("numpy\n")
    changed = tree_checksum(copy)
    assert changed != tree_checksum(rf_model)
    (copy / "requirements.txt").rename(copy / "reqs.txt")
    assert tree_checksum(copy) not in (changed, tree_checksum(rf_model))


def test_metadata_name_and_version_win_over_defaults(rf_model, tmp_path):
    copy = tmp_path / "dir-name"
    shutil.copytree(rf_model, copy)
    mlmodel = yaml.safe_load((copy / "MLmodel").read_text())
    mlmodel["metadata"] = {"name": "churn", "version": "7"}
    (copy / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    source = ModelSource.from_directory(copy)
    assert (source.name, source.version) == ("churn", "7")


def test_a_directory_without_mlmodel_is_refused(tmp_path):
    with pytest.raises(NotFound):
        ModelSource.from_directory(tmp_path)


def test_kubernetes_names():
    assert dns_name("RandomForest_Classifier v2") == "randomforest-classifier-v2"
    assert dns_name("3rd model") == "m-3rd-model"
    assert len(dns_name("x" * 100)) == 63
    assert label_value("models:/rf@champion") == "models_rf_champion"
    with pytest.raises(InvalidInput):
        dns_name("___")
