"""Parameters are checked against their declared types before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from pack.errors import InvalidInput
from pack.projects import EntryPoint, Parameter
from pack.projects.params import parse_assignments, resolve_parameters

ENTRY = EntryPoint(
    "main",
    "python t.py",
    (
        Parameter("alpha", "float"),
        Parameter("epochs", "int", "10"),
        Parameter("name", "str", "x"),
        Parameter("data", "path", "data.csv"),
        Parameter("source", "uri", "s3://bucket/key"),
        Parameter("mode", "anything", "fast"),
    ),
)


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    project, caller = tmp_path / "project", tmp_path / "caller"
    project.mkdir()
    caller.mkdir()
    (project / "data.csv").write_text("a\n1\n")
    (caller / "mine.csv").write_text("a\n2\n")
    return project, caller


def resolve(given, dirs):
    project, caller = dirs
    return resolve_parameters(ENTRY, given, project_dir=project, cwd=caller, download_dir=lambda: caller / "dl")


def test_defaults_fill_in_and_values_are_logged_as_given(dirs):
    resolved = resolve({"alpha": "0.5", "epochs": 3, "extra_key": "v w"}, dirs)
    assert resolved.values["alpha"] == "0.5" and resolved.values["epochs"] == "3"
    assert resolved.values["data"] == str(dirs[0] / "data.csv")  # a default is relative to the project
    assert resolved.paths == {"data": dirs[0] / "data.csv"}
    assert resolved.extras == {"extra_key": "v w"}
    assert resolved.logged == {
        "alpha": "0.5",
        "epochs": "3",
        "name": "x",
        "data": "data.csv",
        "source": "s3://bucket/key",
        "mode": "fast",
        "extra_key": "v w",
    }


def test_a_path_given_by_the_caller_is_relative_to_the_caller(dirs):
    resolved = resolve({"alpha": "1", "data": "mine.csv"}, dirs)
    assert resolved.values["data"] == str(dirs[1] / "mine.csv")
    assert resolve({"alpha": "1", "data": f"file://{dirs[1]}/mine.csv"}, dirs).values["data"] == str(
        dirs[1] / "mine.csv"
    )


def test_a_remote_path_is_downloaded(dirs, tmp_path):
    import fsspec

    with fsspec.open("memory://bucket/table.csv", "w") as handle:
        handle.write("a\n3\n")
    resolved = resolve({"alpha": "1", "data": "memory://bucket/table.csv"}, dirs)
    assert Path(resolved.values["data"]).read_text() == "a\n3\n"
    assert Path(resolved.values["data"]).is_relative_to(dirs[1] / "dl")
    with pytest.raises(InvalidInput, match=r"nothing at memory://bucket/missing\.csv"):
        resolve({"alpha": "1", "data": "memory://bucket/missing.csv"}, dirs)


@pytest.mark.parametrize(
    ("given", "error", "message"),
    [
        ({}, InvalidInput, r"needs a value for 'alpha' \(-P alpha=VALUE\)"),
        ({"alpha": "fast"}, InvalidInput, "parameter 'alpha' must be a float, got 'fast'"),
        ({"alpha": "nan"}, InvalidInput, "must be a float"),
        ({"alpha": "1", "epochs": "3.5"}, InvalidInput, "parameter 'epochs' must be an int, got '3.5'"),
        ({"alpha": "1", "epochs": "1_000"}, InvalidInput, "must be an int"),
        ({"alpha": "1", "source": "bucket/key"}, InvalidInput, "must be a URI with a scheme"),
        ({"alpha": "1", "data": "missing.csv"}, InvalidInput, "no such file or directory 'missing.csv'"),
        ({"alpha": "1", "x; rm": "1"}, InvalidInput, "parameter name 'x; rm' must be"),
        ({"alpha": "1\x00"}, InvalidInput, "NUL"),
    ],
)
def test_bad_parameters_are_refused(dirs, given, error, message):
    with pytest.raises(error, match=message):
        resolve(given, dirs)


def test_numbers_in_every_decimal_form_pass():
    for value in ("1", "-2", "+3.5", ".5", "1e-3", "2.E4"):
        resolve_parameters(
            EntryPoint("m", "x", (Parameter("v", "float"),)),
            {"v": value},
            project_dir=Path("."),
            cwd=Path("."),
            download_dir=Path,
        )


def test_parse_assignments():
    assert parse_assignments(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(InvalidInput, match="'oops' must be KEY=VALUE"):
        parse_assignments(["oops"])
