"""Environment specs: python_env.yaml, conda.yaml read for a virtualenv, and their hash."""

from __future__ import annotations

import pytest

from pack.errors import InvalidInput
from pack.projects.envspec import (
    PythonEnv,
    install_arguments,
    python_env_from_conda,
    read_python_env,
    spec_digest,
)

CONDA = """\
name: demo
channels: [conda-forge]
dependencies:
  - python=3.11.7=h955ad1f_0
  - pip
  - numpy=1.26
  - conda-forge::cudatoolkit
  - pip:
      - scikit-learn>=1.3
      - -r requirements.txt
"""


def test_python_env_yaml(tmp_path):
    path = tmp_path / "python_env.yaml"
    path.write_text("python: '3.11'\nbuild_dependencies: [pip]\ndependencies: [-r requirements.txt, numpy==2.0]\n")
    assert read_python_env(path) == PythonEnv("3.11", ("pip",), ("-r requirements.txt", "numpy==2.0"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("python: 3.10\n", "quote the Python version"),
        ("python: three\n", "must be a version"),
        ("dependencies: numpy\n", "must be a list of requirement strings"),
        ("- x\n", "must be a mapping"),
    ],
)
def test_malformed_python_env(tmp_path, text, message):
    path = tmp_path / "python_env.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInput, match=message):
        read_python_env(path)


def test_conda_yaml_keeps_python_and_pip_and_names_what_it_skips(tmp_path):
    path = tmp_path / "conda.yaml"
    path.write_text(CONDA)
    env = python_env_from_conda(path)
    assert env.python == "3.11.7"
    assert env.dependencies == ("scikit-learn>=1.3", "-r requirements.txt")
    assert env.skipped == ("numpy=1.26", "conda-forge::cudatoolkit")


@pytest.mark.parametrize(
    ("spec", "version"),
    [("python=3.11", "3.11"), ("python==3.10.4", "3.10.4"), ("python>=3.9", None), ("python", None)],
)
def test_conda_python_versions(tmp_path, spec, version):
    path = tmp_path / "conda.yaml"
    path.write_text(f"dependencies: ['{spec}']\n")
    assert python_env_from_conda(path).python == version


def test_install_arguments_split_options_only():
    lines = (
        "-r requirements.txt",
        "numpy>=1.2; python_version < '3.12'",
        "# comment",
        "--index-url https://x/simple",
        "",
    )
    assert install_arguments(lines) == [
        "-r",
        "requirements.txt",
        "numpy>=1.2; python_version < '3.12'",
        "--index-url",
        "https://x/simple",
    ]


def test_digest_follows_requirement_files(tmp_path):
    (tmp_path / "requirements.txt").write_text("-r more.txt\n")
    (tmp_path / "more.txt").write_text("numpy==2.0\n")
    env = PythonEnv("3.11", (), ("-r requirements.txt",))
    first = spec_digest(env, tmp_path, "uv")
    assert spec_digest(env, tmp_path, "uv") == first
    assert spec_digest(env, tmp_path, "virtualenv") != first
    (tmp_path / "more.txt").write_text("numpy==2.1\n")
    assert spec_digest(env, tmp_path, "uv") != first
