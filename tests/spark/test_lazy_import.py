"""pyspark is imported only when Spark is used: not by ``import pack``, ``pack.pyfunc`` or the CLI."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return {line.split(".")[0] for line in out.split()}


def test_pyfunc_and_the_cli_import_no_pyspark():
    loaded = _modules_after("import pack, pack.pyfunc; from pack.cli.main import cli")
    assert not loaded & {"pyspark", "py4j"}, sorted(loaded & {"pyspark", "py4j"})
