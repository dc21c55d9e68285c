"""``--trusted-types`` / ``PACK_TRUSTED_TYPES``: the commands that load models pass the extra skops types
they are told to trust, and nothing else."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner

import pack
from pack.cli.load_options import load_options
from pack.cli.main import cli

CUSTOM = textwrap.dedent(
    """
    from sklearn.base import BaseEstimator, TransformerMixin

    class Tripler(TransformerMixin, BaseEstimator):
        def fit(self, X, y=None):
            return self

        def transform(self, X):
            return X * 3
    """
)


def test_load_options_split_the_list():
    assert load_options(" mylib.Scaler, other.Thing ,") == {"trusted_types": ["mylib.Scaler", "other.Thing"]}
    assert load_options("") == {}


@pytest.fixture
def custom_model(tmp_path, monkeypatch, classification_data):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    frame, labels = classification_data
    (tmp_path / "trusted_steps.py").write_text(CUSTOM)
    monkeypatch.syspath_prepend(str(tmp_path))
    from trusted_steps import Tripler

    pipeline = make_pipeline(Tripler(), LogisticRegression()).fit(frame.to_numpy(), labels)
    pack.save_model(pipeline, tmp_path / "m", skops_trusted_types=["trusted_steps.Tripler"])
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps({"inputs": frame.head(3).to_numpy().tolist()}))
    return tmp_path, pipeline.predict(frame.head(3).to_numpy()).tolist()


def test_predict_trusts_only_what_it_is_told(custom_model, monkeypatch):
    root, expected = custom_model
    monkeypatch.delenv("PACK_TRUSTED_TYPES", raising=False)
    args = ["predict", "-m", str(root / "m"), "-i", str(root / "rows.json")]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 2 and "not trusted: ['trusted_steps.Tripler']" in refused.stderr
    by_flag = CliRunner().invoke(cli, [*args, "--trusted-types", "trusted_steps.Tripler"])
    by_env = CliRunner().invoke(cli, args, env={"PACK_TRUSTED_TYPES": "other.Thing, trusted_steps.Tripler"})
    for result in (by_flag, by_env):
        assert result.exit_code == 0, result.output
        assert np.array_equal(json.loads(result.stdout)["predictions"], expected)
