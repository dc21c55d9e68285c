"""One exit-code rule for every command: 0 done, 1 something asked for does not exist (or an operation
failed), 2 the input is unusable; each failure is exactly one ``error:`` line on stderr, never a traceback.

Every command of the click tree must appear below (a new command without cases fails the test). The
commands run in this process through ``pack.cli.main.main``, the console script's own entry point.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import pack
from devtools.cli import run_pack
from pack.cli.main import cli, main
from pack.flavors.mlmodel import MLModel
from pack.registry.default import process_default

# (command path, arguments after it); MODEL is a saved model, DEEP a model whose MLmodel is hostile.
NOT_FOUND = {
    "log-model": [
        ["sklearn", "missing.pkl", "-o", "out"],
        ["sklearn", "MODEL", "-o", "o", "--input-example", "no.csv"],
    ],
    "predict": [["-m", "nowhere", "-i", "rows.csv"], ["-m", "MODEL", "-i", "absent.csv"]],
    "serve": [["nowhere"], ["-m", "nowhere"]],
    "convert": [["nowhere", "--to", "onnx", "-o", "out"]],
    "build-docker": [["-m", "nowhere", "--context-only", "ctx"]],
    "build-k8s": [["-m", "nowhere", "--image", "rf:1", "-o", "out"]],
    "build-chart": [["-m", "models:/nope/1", "--image", "rf:1", "-o", "out"]],
    "build-sagemaker": [["-m", "nowhere", "-o", "out"]],
    "models describe": [["nope"]],
    "models versions": [["nope"]],
    "models register": [["nowhere", "lr"]],
    "models transition": [["lr", "7", "Production"]],
    "models alias": [["lr", "champion", "9"]],
    "models tag": [["nope", "k", "v"]],
    "models history": [["nope"]],
    "models delete": [["nope", "--yes"]],
    "models serve": [["-m", "nowhere"]],
    "models predict": [["-m", "models:/nope/Production", "-i", "rows.csv"]],
    "models build-docker": [["-m", "nowhere", "--context-only", "ctx"]],
    "runs list": [["-e", "nope"]],
    "runs describe": [["0123456789abcdef"]],
    "run": [["nowhere"]],
    # No engine or cluster is reachable in these tests (the fixture points DOCKER_HOST and KUBECONFIG at
    # nothing): an operation that cannot be carried out is 1, as a missing thing is.
    "deployments create": [["-t", "docker", "--name", "rf", "-m", "MODEL"]],
    "deployments update": [["-t", "kubernetes", "--name", "rf"]],
    "deployments delete": [["-t", "docker", "--name", "rf"]],
    "deployments get": [["-t", "kubernetes", "--name", "nope"]],
    "deployments list": [["-t", "docker"]],
    "deployments predict": [["-t", "docker", "--name", "rf", "-i", "absent.csv"]],
    "server users remove": [["nope"]],
    "server users set-password": [["nope", "--password", "long-enough-1"]],
    "server users set-role": [["nope", "admin"]],
    "server tokens create": [["--user", "nope"]],
    "server tokens revoke": [["999"]],
}
BAD_INPUT = {
    "log-model": [["keras2", "MODEL", "-o", "out"], ["sklearn", "MODEL", "-o", "MODEL"], ["sklearn"]],
    "predict": [
        ["-m", "MODEL", "-i", "bad.json"],
        ["-m", "MODEL", "-i", "rows.csv", "--env-manager", "conda"],
        ["-m", "MODEL", "-i", "proj"],  # a directory is for --engine spark
    ],
    "serve": [["MODEL", "-p", "70000"], ["MODEL", "--bogus"], [], ["MODEL", "-h"]],
    "convert": [["MODEL", "--to", "onnx"], ["MODEL", "--to", "tflite", "-o", "out"]],
    "build-docker": [["-m", "MODEL"], ["-m", "MODEL", "-n", "Bad/Name:1"]],
    "build-k8s": [["-m", "MODEL", "--image", "rf:1", "-o", "out", "--cpu", "lots"]],
    "build-chart": [["-m", "MODEL", "--image", "RF", "-o", "out"]],
    "build-sagemaker": [["-m", "MODEL", "-o", "out", "--instance-count", "0"]],
    "models list": [["--max-results", "0"], ["--filter", "name ~~ 'x'"]],
    "models describe": [[]],
    "models versions": [["lr", "--stage", "Prodution"]],
    "models register": [["MODEL", "bad/name"]],
    "models transition": [["lr", "1", "Prodution"]],
    "models alias": [["lr", "latest", "1"]],
    "models tag": [["lr", "k"]],
    "models history": [["lr", "--version", "abc"]],
    "models delete": [["lr", "--version", "abc", "--yes"]],
    "models serve": [["MODEL", "--workers", "0"]],
    "models predict": [["-m", "MODEL", "-i", "bad.json"]],
    "models build-docker": [["-m", "MODEL", "-n", "rf:1", "--env-manager", "conda"]],
    "runs list": [["--filter", "metrics.x >>> 1"]],
    "runs describe": [[]],
    "experiments list": [["--bogus"]],
    "experiments create": [[""], ["taken"]],
    "gc": [["--older-than", "soon"], ["--yes", "--bogus"]],
    "run": [["proj", "-P", "novalue"], ["proj", "-P", "n=abc", "--env-manager", "local"]],
    "deployments create": [
        ["-t", "bogus", "--name", "rf", "-m", "MODEL"],
        ["-t", "docker", "--name", "Bad/Name", "-m", "MODEL"],
    ],
    "deployments update": [["-t", "bogus", "--name", "rf"]],
    "deployments delete": [["-t", "docker", "--name", "rf", "-C", "novalue"]],
    "deployments get": [["-t", "bogus", "--name", "rf"]],
    "deployments list": [["-t", "bogus"]],
    "deployments predict": [["-t", "docker", "--name", "rf", "-i", "bad.json"]],
    "deployments help": [["-t", "bogus"], []],
    "server users add": [["alice", "--role", "boss", "--password", "long-enough-1"]],
    "server users remove": [[]],
    "server users set-password": [[]],
    "server users set-role": [["alice", "boss"]],
    "server users list": [["--bogus"]],
    "server tokens create": [[]],
    "server tokens list": [["--bogus"]],
    "server tokens revoke": [["nope"]],
    "ui": [["--port", "70000"], ["--bogus"]],
}
# Commands that read a model directory: a hostile MLmodel (a signature nested 5,000 levels deep) is a
# one-line error with exit code 2 in each of them.
READS_A_MODEL = {
    "predict": ["-m", "DEEP", "-i", "rows.csv"],
    "serve": ["DEEP"],
    "log-model": ["sklearn", "DEEP", "-o", "out"],
    "convert": ["DEEP", "--to", "onnx", "-o", "out"],
    "build-docker": ["-m", "DEEP", "--context-only", "ctx"],
    "build-k8s": ["-m", "DEEP", "--image", "rf:1", "-o", "out"],
    "build-chart": ["-m", "DEEP", "--image", "rf:1", "-o", "out"],
    "build-sagemaker": ["-m", "DEEP", "-o", "out"],
    "models register": ["DEEP", "deep"],
    "models serve": ["DEEP"],
    "models predict": ["-m", "DEEP", "-i", "rows.csv"],
    "models build-docker": ["-m", "DEEP", "--context-only", "ctx"],
}
NOTHING_TO_MISS = {
    "models list",
    "experiments list",
    "experiments create",
    "gc",
    "deployments help",
    "server users add",
    "server users list",
    "server tokens list",  # --user filters: no such user lists nothing
    "ui",
}  # no argument names a thing


def leaf_commands(group: click.Group = cli, prefix: str = "") -> set[str]:
    names = set()
    context = click.Context(group)
    for name in group.list_commands(context):  # the group loads its commands lazily
        command = group.get_command(context, name)
        path = f"{prefix}{name}"
        names |= leaf_commands(command, f"{path} ") if isinstance(command, click.Group) else {path}
    return names


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PACK_TRACKING_URI", f"sqlite:///{tmp_path}/pack.db")
    monkeypatch.setenv("PACK_DEFAULT_ARTIFACT_ROOT", str(tmp_path / "packruns"))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    monkeypatch.delenv("PACK_DEPLOYMENTS_TARGET", raising=False)
    frame = pd.DataFrame({"a": [0.0, 1.0, 0.2], "b": [1.0, 0.0, 0.9]})
    pack.save_model(LogisticRegression().fit(frame, [0, 1, 0]), tmp_path / "model", input_example=frame)
    frame.to_csv(tmp_path / "rows.csv", index=False)
    (tmp_path / "bad.json").write_text("{nope")
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "MLproject").write_text(
        'name: p\nentry_points:\n  main:\n    parameters:\n      n: {type: int}\n    command: "echo {n}"\n'
    )
    pack.save_model(LogisticRegression().fit(frame, [0, 1, 0]), tmp_path / "deep", input_example=frame)
    mlmodel = MLModel.load(tmp_path / "deep")
    nested = "[" * 5000 + "]" * 5000
    raw = mlmodel.to_dict()
    raw["signature"]["inputs"] = nested
    (tmp_path / "deep" / "MLmodel").write_text(json.dumps(raw))  # JSON is YAML
    assert pack_main(["models", "register", "model", "lr"], None) == 0
    assert pack_main(["experiments", "create", "taken"], None) == 0
    yield tmp_path
    process_default().reset()  # the commands ran in this process: forget this test's stores


def pack_main(argv: list[str], capsys) -> int:
    try:
        main(argv)
    except SystemExit as done:
        return int(done.code or 0)
    return 0


def run(capsys, command: str, args: list[str], workdir: Path) -> tuple[int, str]:
    argv = [
        *command.split(),
        *(str(workdir / "model") if a == "MODEL" else str(workdir / "deep") if a == "DEEP" else a for a in args),
    ]
    capsys.readouterr()
    code = pack_main(argv, capsys)
    return code, capsys.readouterr().err


def present(table: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
    """The cases of the commands this build has (the tables also cover commands other branches add)."""
    return {command: cases for command, cases in table.items() if command in leaf_commands()}


def test_every_command_has_cases():
    commands = leaf_commands()
    assert commands <= set(BAD_INPUT), f"commands without bad-input cases: {commands - set(BAD_INPUT)}"
    missing = commands - NOTHING_TO_MISS - set(NOT_FOUND)
    assert not missing, f"commands that name something but have no not-found cases: {missing}"
    assert {"predict", "serve", "models serve", "models predict", "models build-docker", "gc"} <= commands


@pytest.mark.parametrize(("table", "code"), [(NOT_FOUND, 1), (BAD_INPUT, 2)], ids=["not-found", "bad-input"])
def test_one_rule_across_every_command(workdir, capsys, table, code):
    wrong = []
    for command, cases in present(table).items():
        for args in cases:
            got, stderr = run(capsys, command, args, workdir)
            lines = stderr.strip().splitlines()
            if got != code or len(lines) != 1 or not lines[0].startswith("error: "):
                wrong.append((command, args, got, stderr))
    assert not wrong, "\n".join(f"pack {c} {' '.join(a)} -> {g}: {e!r}" for c, a, g, e in wrong)
    for leftover in ("out", "ctx", "o"):
        assert not (workdir / leftover).exists()  # nothing partial left behind


def test_a_hostile_mlmodel_is_one_line_and_exit_2_everywhere(workdir, capsys):
    expected = "error: the MLmodel's signature inputs: schema is nested more than 32 levels deep\n"
    results = {command: run(capsys, command, args, workdir) for command, args in READS_A_MODEL.items()}
    assert results == dict.fromkeys(READS_A_MODEL, (2, expected))


def test_the_console_script_follows_the_same_rule(workdir):
    missing = run_pack("predict", "-m", "model", "-i", "nothere.csv", cwd=workdir)
    assert (missing.returncode, missing.stderr) == (1, "error: nothere.csv does not exist\n")
    hostile = run_pack("serve", "deep", cwd=workdir)
    assert hostile.returncode == 2 and hostile.stderr.startswith("error: ") and "Traceback" not in hostile.stderr
