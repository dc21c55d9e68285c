"""``pack serve``'s command line: model arguments, names, and errors before anything is bound."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pack.cli.main import cli
from pack.cli.serve import default_name_version, parse_model_arg


def test_model_arguments(tmp_path: Path) -> None:
    assert parse_model_arg("iris=models:/iris/3") == ("iris", None, "models:/iris/3")
    assert parse_model_arg("iris:7=./m") == ("iris", "7", "./m")
    assert parse_model_arg("./m") == (None, None, "./m")
    assert parse_model_arg("runs:/abc/model") == (None, None, "runs:/abc/model")
    odd = tmp_path / "a=b"
    odd.mkdir()
    assert parse_model_arg(str(odd)) == (None, None, str(odd))


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("runs:/0a1b/my model", ("my-model", "1")),
        ("/srv/models/fraud v2/", ("fraud-v2", "1")),
        ("file:///srv/x", ("x", "1")),
    ],
)
def test_default_names(uri: str, expected: tuple[str, str]) -> None:
    assert default_name_version(uri, Path("/resolved/x")) == expected


def test_errors_come_before_binding(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(cli, ["serve", str(tmp_path / "nope")])
    assert missing.exit_code == 1
    assert "no model at" in missing.output
    (tmp_path / "empty").mkdir()
    not_a_model = runner.invoke(cli, ["serve", str(tmp_path / "empty")])
    assert not_a_model.exit_code == 1
    assert "no MLmodel" in not_a_model.output
    bad_port = runner.invoke(cli, ["serve", str(tmp_path / "empty"), "-p", "70000"])
    assert bad_port.exit_code == 2
    assert "port" in bad_port.output
    from_env = runner.invoke(cli, ["serve", str(tmp_path / "empty")], env={"PACK_SERVE_WORKERS": "0"})
    assert from_env.exit_code == 2
    assert "PACK_SERVE_WORKERS (workers) Input should be greater than or equal to 1" in from_env.output
    assert "Traceback" not in missing.output + not_a_model.output + bad_port.output


def test_duplicate_names_are_refused(rf_model_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", f"a={rf_model_dir}", f"a={rf_model_dir}"])
    assert result.exit_code == 2
    assert "two models would be served as 'a'" in result.output


@pytest.fixture
def rf_model_dir(tmp_path: Path) -> Path:
    from sklearn.linear_model import LogisticRegression

    import pack

    model = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    path = tmp_path / "lr"
    pack.save_model(model, path)
    return path


def test_a_failed_serve_leaves_the_collector_as_it_found_it(tmp_path: Path) -> None:
    """``pack serve`` pauses the garbage collector while it starts; a start that fails turns it back on."""
    import gc

    assert gc.isenabled()
    result = CliRunner().invoke(cli, ["serve", str(tmp_path / "nope")])
    assert result.exit_code == 1
    assert gc.isenabled()
