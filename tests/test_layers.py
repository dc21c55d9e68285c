"""The import contracts in pyproject.toml enforce the design: each one fails when its rule is broken.

Each test copies the package, adds one import the design forbids, and runs lint-imports on the copy
(only the contract under test): it must report that contract broken. The real tree keeps them all.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = {
    c["id"]: c for c in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
}

# contract id -> (module file that gets the import, the import)
VIOLATIONS = {
    "layers": ("pack/store/entities.py", "import pack.registry.services"),
    "serving": ("pack/serving/codecs.py", "import pack.store"),
    "builders": ("pack/builders/output.py", "import pack.registry"),
    "flavors": ("pack/flavors/schema.py", "import pack.store.entities"),
    "tf-formats": ("pack/flavors/keras.py", "import pack.flavors.tensorflow"),
    "base": ("pack/refs.py", "import pack.flavors.mlmodel"),
    "top-level": ("pack/sklearn.py", "import pack.cli.main"),
    "projects": ("pack/projects/spec.py", "import pack.store"),
    "ui": ("pack/ui/assets.py", "import pack.store"),
}


def _lint(tree: Path, contract: str) -> subprocess.CompletedProcess[str]:
    command = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [sys.executable, "-c", command, "--no-cache", "--no-logo", "--contract", contract],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("tree")
    shutil.copytree(ROOT / "pack", tree / "pack", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_every_contract_has_a_violation_that_proves_it() -> None:
    assert set(VIOLATIONS) == set(CONTRACTS)


@pytest.mark.parametrize("contract", sorted(VIOLATIONS))
def test_the_contract_fails_when_broken(contract: str, pristine: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(pristine, tree)
    kept = _lint(tree, contract)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    module, statement = VIOLATIONS[contract]
    with open(tree / module, "a", encoding="utf-8") as handle:
        handle.write(f"\n{statement}  # the violation under test\n")
    broken = _lint(tree, contract)
    assert broken.returncode != 0, broken.stdout
    assert "BROKEN" in broken.stdout and statement.split()[-1] in broken.stdout, broken.stdout


def test_the_top_level_contract_lists_every_top_level_module() -> None:
    listed = set(CONTRACTS["top-level"]["source_modules"])
    found = {"pack" if path.stem == "__init__" else f"pack.{path.stem}" for path in (ROOT / "pack").glob("*.py")}
    found.discard("pack.__main__")
    assert listed == found
