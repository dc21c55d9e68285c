"""``import pack`` stays light: no framework, pandas, server or database import."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "numpy",
    "pandas",
    "sklearn",
    "skops",
    "torch",
    "tensorflow",
    "onnxruntime",
    "sqlalchemy",
    "starlette",
    "uvicorn",
    "yaml",
    "pydantic",
    "kubernetes",
    "boto3",
    "docker",
)


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return {line.split(".")[0] for line in out.split()}


def test_import_pack_imports_no_heavy_module():
    loaded = _modules_after("import pack")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_version_and_lazy_verbs():
    import pack

    assert pack.__version__.count(".") == 2
    assert callable(pack.save_model) and callable(pack.load_model)


def test_cli_version_imports_no_framework():
    loaded = _modules_after("from pack.cli.main import cli")
    assert not loaded & {"numpy", "pandas", "sklearn", "torch", "sqlalchemy", "starlette"}


def test_pyfunc_and_the_cli_import_no_pyspark():
    loaded = _modules_after("import pack, pack.pyfunc; from pack.cli.main import cli")
    assert not loaded & {"pyspark", "py4j"}, sorted(loaded & {"pyspark", "py4j"})
