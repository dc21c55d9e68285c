"""The MLproject file as MLflow reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pack.errors import InvalidInput, NotFound
from pack.projects import EnvKind, Parameter, load_project

SEED = """\
name: my_ml_project
conda_env: conda.yaml
entry_points:
  main:
    parameters:
      data_path: {type: str, default: "data.csv"}
      epochs: {type: int, default: 10}
    command: "python train.py --data_path {data_path} --epochs {epochs}"
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_seed_project_reads_as_written(tmp_path):
    project = load_project(write(tmp_path, {"MLproject": SEED, "conda.yaml": "dependencies: [python=3.11]\n"}))
    assert project.name == "my_ml_project"
    assert project.env_kind is EnvKind.CONDA and project.env_file == (tmp_path / "conda.yaml").resolve()
    main = project.entry_point("main")
    assert main.command == "python train.py --data_path {data_path} --epochs {epochs}"
    assert main.parameters == (Parameter("data_path", "str", "data.csv"), Parameter("epochs", "int", "10"))


def test_bare_type_is_required_and_bare_number_is_a_default(tmp_path):
    text = "entry_points:\n  main:\n    parameters: {alpha: float, l1: 0.5, n: 3}\n    command: python t.py\n"
    params = load_project(write(tmp_path, {"mlproject": text})).entry_point("main").parameters
    assert params == (Parameter("alpha", "float", None), Parameter("l1", "float", "0.5"), Parameter("n", "int", "3"))
    assert params[0].required and not params[1].required


def test_file_name_is_case_insensitive_and_default_env_files_are_found(tmp_path):
    write(tmp_path, {"mlProject": "name: x\n", "python_env.yaml": "python: '3.11'\n"})
    project = load_project(tmp_path)
    assert project.has_mlproject and project.env_kind is EnvKind.PYTHON


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("python_env: p.yaml\nconda_env: c.yaml\n", "several environments (python_env, conda_env)"),
        ("conda_env: missing.yaml\n", "conda_env file 'missing.yaml' not found"),
        ("python_env: ../outside.yaml\n", "outside the project"),
        ("docker_env: {volumes: [/a:/a]}\n", "docker_env needs an 'image'"),
        ("docker_env: {image: x, volumes: /a:/a}\n", "volumes must be a list of strings"),
        ("docker_env: {image: x, environment: [[A, b, c]]}\n", "names to copy from the host or [NAME, value]"),
        ("entry_points: {main: {parameters: {}}}\n", "needs a 'command' string"),
        ("entry_points: {main: {command: x, parameters: [a]}}\n", "must be a mapping"),
        ("entry_points: {main: {command: x, parameters: {a: {default: [1]}}}}\n", "must be a single value"),
        ("- a list\n", "must be a mapping of keys"),
        ("name: [\n", "not valid YAML"),
    ],
)
def test_malformed_mlproject_is_one_clear_error(tmp_path, text, message):
    (tmp_path / "outside.yaml").write_text("python: '3.11'\n")
    project_dir = tmp_path / "p"
    project_dir.mkdir()
    (project_dir / "MLproject").write_text(text)
    with pytest.raises(InvalidInput) as caught:
        load_project(project_dir)
    assert message in str(caught.value)


def test_docker_env_volumes_and_environment(tmp_path):
    text = "name: d\ndocker_env:\n  image: img:1\n  volumes: ['/data:/data']\n  environment: [[A, '1'], HOME]\n"
    docker = load_project(write(tmp_path, {"MLproject": text})).docker
    assert docker is not None
    assert (docker.image, docker.volumes, docker.environment) == ("img:1", ("/data:/data",), (("A", "1"), "HOME"))


def test_scripts_are_entry_points_without_an_mlproject(tmp_path):
    project = load_project(write(tmp_path, {"train.py": "", "tools/prep.sh": "", "my file.py": ""}))
    assert project.env_kind is EnvKind.NONE and not project.has_mlproject
    assert project.entry_point("train.py").command == "python train.py"
    assert project.entry_point("tools/prep.sh").command == "bash tools/prep.sh"
    assert project.entry_point("my file.py").command == "python 'my file.py'"


def test_unknown_or_escaping_entry_points_are_refused(tmp_path):
    (tmp_path / "outside.py").write_text("")
    project_dir = write(tmp_path / "p", {"MLproject": "entry_points: {main: {command: x}, eval: {command: y}}\n"})
    project = load_project(project_dir)
    with pytest.raises(InvalidInput, match=r"no entry point 'train' \(entry points: eval, main\)"):
        project.entry_point("train")
    with pytest.raises(InvalidInput, match="outside the project"):
        project.entry_point("../outside.py")
    with pytest.raises(InvalidInput, match="no such file"):
        project.entry_point("missing.py")


def test_missing_directory_is_not_found(tmp_path):
    with pytest.raises(NotFound):
        load_project(tmp_path / "nope")
