"""Registered models on Spark: an alias is pinned to its version at creation; tampered files are refused."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

import pack
import pack.pyfunc
from pack.errors import InvalidModel
from pack.registry.default import process_default

FEATURES = [f"f{i}" for i in range(10)]


@pytest.fixture
def registry(tmp_path, monkeypatch, classification_data):
    """'forest' v1 (@champion) and v2, two forests that disagree on some rows; the process's
    settings point at this store."""
    from sklearn.ensemble import RandomForestClassifier

    monkeypatch.setenv("PACK_TRACKING_URI", f"sqlite:///{tmp_path}/pack.db")
    monkeypatch.setenv("PACK_DEFAULT_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    monkeypatch.setenv("PACK_CACHE_DIR", str(tmp_path / "cache"))
    process_default().reset()
    frame, labels = classification_data
    client = pack.Client()
    client.create_registered_model("forest")
    for seed in (0, 1):
        estimator = RandomForestClassifier(n_estimators=3, max_depth=3, random_state=seed).fit(frame, labels)
        pack.save_model(estimator, tmp_path / f"rf{seed}", input_example=frame.head(3))
        client.create_model_version("forest", str(tmp_path / f"rf{seed}"))
    client.set_registered_model_alias("forest", "champion", 1)
    yield client
    process_default().reset()


def test_an_alias_is_pinned_to_the_version_it_names_at_creation(spark, registry, classification_data):
    frame = classification_data[0].head(80).reset_index(drop=True).assign(id=np.arange(80))
    table = spark.createDataFrame(frame)
    v1 = pack.pyfunc.load_model("models:/forest/1").predict(frame[FEATURES])
    v2 = pack.pyfunc.load_model("models:/forest/2").predict(frame[FEATURES])
    assert (v1 != v2).any()

    udf = pack.pyfunc.spark_udf(spark, "models:/forest@champion")
    assert (udf.model.name, udf.model.version) == ("forest", "1")
    registry.set_registered_model_alias("forest", "champion", 2)  # promoted while the job is defined

    out = table.withColumn("p", udf()).toPandas().sort_values("id")
    np.testing.assert_array_equal(out["p"].to_numpy(), v1)
    later = pack.pyfunc.spark_udf(spark, "models:/forest@champion")
    out = table.withColumn("p", later()).toPandas().sort_values("id")
    np.testing.assert_array_equal(out["p"].to_numpy(), v2)


@pytest.mark.parametrize("verify", ["cached", "off"])
def test_a_tampered_registered_file_is_refused_at_creation(spark, registry, monkeypatch, verify):
    # With PACK_VERIFY=off the registry checks only names and sizes: the UDF still hashes every file.
    monkeypatch.setenv("PACK_VERIFY", verify)
    process_default().reset()
    stored = Path(registry.get_model_version("forest", 1).storage_location)
    target = stored / "model.skops"
    original = target.read_bytes()
    target.chmod(0o644)
    stat = target.stat()
    target.write_bytes(original[:-1] + bytes([original[-1] ^ 0xFF]))  # same size, one byte differs
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    checker = "models:/forest/1" if verify == "cached" else str(stored)  # the registry's check, else the UDF's
    with pytest.raises(InvalidModel, match=re.escape(f"{checker}: model.skops changed after registration")):
        pack.pyfunc.spark_udf(spark, "models:/forest@champion")
    target.write_bytes(original)
    assert pack.pyfunc.spark_udf(spark, "models:/forest@champion").model.version == "1"
