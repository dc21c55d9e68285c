"""Command templates: each parameter is one argument that no shell ever reads as code."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pack.errors import InvalidInput
from pack.projects.command import render

HOSTILE = ["x; touch pwned", "$(touch pwned)", "`touch pwned`", "a'b\"c", "*", "~", "-- --x", "", "$HOME"]
ECHO = [sys.executable, "-c", "import json, sys; print(json.dumps(sys.argv[1:]))"]


def run(argv) -> list[str]:
    import json

    return json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)


@pytest.mark.parametrize("value", HOSTILE)
def test_values_are_single_arguments_without_a_shell(value, tmp_path):
    command = render("prog --data {d} --n={n} x{d}y", {"d": value, "n": "3"}, {"extra": value})
    assert not command.shell
    assert command.argv == ("prog", "--data", value, "--n=3", f"x{value}y", "--extra", value)


@pytest.mark.parametrize("value", HOSTILE)
def test_values_stay_inert_when_the_template_needs_a_shell(value, tmp_path):
    script = f"{sys.executable} -c 'import json,sys; print(json.dumps(sys.argv[1:]))'"
    template = "true && " + script + " {d} \"q{d}q\" 's{d}s'"
    command = render(template, {"d": value}, {"k": value})
    assert command.shell and command.argv[:2] == ("bash", "-c")
    out = subprocess.run(command.argv, capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    import json

    assert json.loads(out) == [value, f"q{value}q", f"s{value}s", "--k", value]
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    "template",
    [
        "python a.py && python b.py",
        "python a.py | tee out",
        "python a.py > out.txt",
        "PYTHONHASHSEED=0 python a.py",
        "python a.py $HOME",
        'python a.py "$HOME"',
        "python a.py data/*.csv",
    ],
)
def test_shell_syntax_in_the_template_runs_under_a_shell(template):
    assert render(template, {}).shell


@pytest.mark.parametrize("template", ["python a.py --x 1", "python 'a b.py' \"--y=2\"", "python -c 'print($1)'"])
def test_plain_templates_run_without_a_shell(template):
    assert not render(template, {}).shell


def test_display_is_what_a_person_would_type():
    assert render("python t.py --p {p}", {"p": "a b"}, {"e": "$x"}).display == "python t.py --p 'a b' --e '$x'"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("python t.py {nope}", r"uses \{nope\}, which is not a parameter"),
        ("python t.py {p:>5}", "no format specs"),
        ("python t.py {p", "Single '{'|expected '}'"),
        ("python 't.py", "No closing quotation"),
        ("   ", "empty"),
    ],
)
def test_malformed_templates(template, message):
    with pytest.raises(InvalidInput, match=message):
        render(template, {"p": "1"})


def test_doubled_braces_are_literal():
    assert render("prog {{x}} {p}", {"p": "1"}).argv == ("prog", "{x}", "1")
