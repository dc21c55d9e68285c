"""models:/ and runs:/ URIs: parsing, and every form resolved through pack's one URI entry point."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import pack
import pack.pyfunc
from devtools.cli import run_pack
from pack._fs import safe_relpath
from pack.errors import InvalidInput, NotFound
from pack.refs import ModelRef, RunArtifactRef, Stage
from pack.registry.default import process_default
from pack.uris import ResolvedModel, resolve, scheme_of


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("models:/m/3", ModelRef("m", version=3)),
        ("models:/m/Production", ModelRef("m", stage=Stage.PRODUCTION)),
        ("models:/m/production", ModelRef("m", stage=Stage.PRODUCTION)),
        ("models:/m/staging", ModelRef("m", stage=Stage.STAGING)),
        ("models:/m/None", ModelRef("m", stage=Stage.NONE)),
        ("models:/m/latest", ModelRef("m", latest=True)),
        ("models:/m/LATEST", ModelRef("m", latest=True)),
        ("models:/m@champion", ModelRef("m", alias="champion")),
        ("models:///m@champion", ModelRef("m", alias="champion")),
        ("models:/My%20Model/2", ModelRef("My Model", version=2)),
    ],
)
def test_model_ref_parses_every_form(uri: str, expected: ModelRef) -> None:
    assert ModelRef.parse(uri) == expected


@pytest.mark.parametrize(
    "uri",
    ["models:/m", "models:/m/Prod", "models:/m/1/2", "models:/@alias", "models:/m@", "models://host/m/1", "runs:/x/y"],
)
def test_model_ref_refuses_malformed_uris(uri: str) -> None:
    with pytest.raises(InvalidInput):
        ModelRef.parse(uri)


def test_model_ref_round_trips_to_text() -> None:
    for text in ("models:/m/3", "models:/m/Production", "models:/m/latest", "models:/m@champion"):
        assert str(ModelRef.parse(text)) == text


def test_run_artifact_ref() -> None:
    assert RunArtifactRef.parse("runs:/abc123/model") == RunArtifactRef("abc123", "model")
    assert RunArtifactRef.parse("runs:/abc123/a/b/") == RunArtifactRef("abc123", "a/b")
    assert RunArtifactRef.parse("runs:/abc123") == RunArtifactRef("abc123", "")
    for bad in ("runs:/abc/../../etc", "runs:/../x", "runs:/abc//etc/passwd/.."):
        with pytest.raises(InvalidInput):
            RunArtifactRef.parse(bad)


@pytest.mark.parametrize("path", ["../x", "a/../../b", "/etc/passwd", "a\\b", "C:/x", "a\x00b"])
def test_artifact_paths_refuse_escapes(path: str) -> None:
    with pytest.raises(InvalidInput):
        safe_relpath(path)


@pytest.fixture
def registered(model_dir, settings, monkeypatch):
    """Three versions of 'iris': v1 Production (@champion), v2 Staging, v3 None; the process's current
    settings (from the environment) point at this store, so plain URIs resolve."""
    for key, value in settings.model_dump().items():
        if value is not None:
            monkeypatch.setenv(f"PACK_{key.upper()}", str(value))
    process_default().reset()
    client = pack.Client()
    client.create_registered_model("iris")
    for _ in range(3):
        client.create_model_version("iris", str(model_dir))
    client.transition_model_version_stage("iris", 1, "Production")
    client.transition_model_version_stage("iris", 2, "Staging")
    client.set_registered_model_alias("iris", "champion", 1)
    yield client
    process_default().reset()


@pytest.mark.parametrize(
    ("uri", "version"),
    [
        ("models:/iris/1", 1),
        ("models:/iris/2", 2),
        ("models:/iris/Production", 1),
        ("models:/iris/Staging", 2),
        ("models:/iris/latest", 3),
        ("models:/iris@champion", 1),
    ],
)
def test_every_model_uri_form_resolves_to_its_version(registered, uri: str, version: int) -> None:
    resolved = resolve(uri)
    expected = registered.get_model_version("iris", version)
    assert resolved.path == Path(expected.storage_location)
    assert (resolved.path / "MLmodel").is_file()
    assert (resolved.uri, resolved.name, resolved.version, resolved.run_id) == (uri, "iris", version, None)
    recorded = registered.get_model_version_files("iris", version)
    assert resolved.files == tuple(recorded) and "MLmodel" in {f.path for f in recorded}


def test_local_paths_resolve_without_registry_facts(model_dir) -> None:
    for uri in (str(model_dir), f"file://{model_dir}"):
        assert resolve(uri) == ResolvedModel(path=model_dir.absolute(), uri=uri)
    with pytest.raises(NotFound, match="no model at"):
        resolve(str(model_dir / "absent"))
    with pytest.raises(InvalidInput, match="unsupported model URI scheme 'ftp'"):
        resolve("ftp://host/model")


@pytest.mark.parametrize(
    ("uri", "scheme"),
    [
        ("models:/m/1", "models"),
        ("RUNS:/abc/model", "runs"),
        ("s3://bucket/prefix", "s3"),
        ("mlflow-artifacts:/1/abc", "mlflow-artifacts"),
        ("file:///tmp/m", "file"),
        ("sqlite:///pack.db", "sqlite"),
        ("/tmp/model", ""),
        ("relative/dir", ""),
        ("C:/models/m", ""),
        ("C:\\models\\m", ""),
        ("dir/with:/colon", ""),
    ],
)
def test_scheme_of_is_the_one_scheme_reader(uri: str, scheme: str) -> None:
    assert scheme_of(uri) == scheme


def test_pyfunc_loads_each_uri_form_and_predicts(registered, trained) -> None:
    _, estimator, features = trained
    rows = features.head(5)
    for uri in ("models:/iris/Production", "models:/iris@champion", "models:/iris/latest", "models:/iris/2"):
        predictions = pack.pyfunc.load_model(uri).predict(rows)
        assert np.array_equal(predictions, estimator.predict(rows)), uri


def test_runs_uri_resolves_inside_the_runs_artifacts(registered, trained) -> None:
    _, estimator, features = trained
    run = registered.create_run("0")
    registered.log_artifacts(run.info.run_id, trained[0], "clf")
    resolved = resolve(f"runs:/{run.info.run_id}/clf")
    assert resolved.path == Path(run.info.artifact_uri) / "clf"
    assert (resolved.run_id, resolved.name, resolved.version, resolved.files) == (run.info.run_id, None, None, ())
    loaded = pack.pyfunc.load_model(f"runs:/{run.info.run_id}/clf")
    assert np.array_equal(loaded.predict(features.head(3)), estimator.predict(features.head(3)))
    with pytest.raises(NotFound):
        resolve(f"runs:/{run.info.run_id}/missing")
    with pytest.raises(NotFound):
        resolve("runs:/0123456789abcdef/clf")
    with pytest.raises(InvalidInput):
        resolve(f"runs:/{run.info.run_id}/../../..")


@pytest.mark.parametrize(
    "uri", ["models:/iris/9", "models:/iris/Archived", "models:/nope/1", "models:/nope/latest", "models:/iris@ghost"]
)
def test_unresolvable_model_uris_are_not_found(registered, uri: str) -> None:
    with pytest.raises(NotFound):
        resolve(uri)


def test_pack_predict_cli_accepts_models_uri(registered, trained, tmp_path) -> None:
    _, estimator, features = trained
    rows = tmp_path / "rows.csv"
    features.head(4).to_csv(rows, index=False)
    done = run_pack("predict", "-m", "models:/iris@champion", "-i", str(rows), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f'"predictions":{estimator.predict(features.head(4)).tolist()}'.replace(" ", "") in done.stdout.replace(
        " ", ""
    )
