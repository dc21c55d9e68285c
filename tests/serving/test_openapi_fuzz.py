"""schemathesis against ``/openapi.json`` of a column model and a tensor model.

Every check runs but one: no 5xx for any generated request, documented statuses, content types,
headers and response schemas, and schema-violating requests refused with 4xx. Not run:
``positive_data_acceptance`` (every schema-valid request accepted), because what a tensor request
must satisfy beyond its JSON shape (``data`` holds exactly the product of ``shape`` values, every
column has one row count, values fit the signature's width) cannot be said in OpenAPI 3.0's schemas;
those requests get a 400 that names the problem.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.serving.support import ServerProcess

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.mark.skipif(not SCHEMATHESIS.exists() and not shutil.which("schemathesis"), reason="schemathesis not installed")
def test_the_server_does_what_its_openapi_document_says(rf_model: Path, tensor_model: Path, tmp_path: Path) -> None:
    server = ServerProcess([f"rf={rf_model}", f"halves={tensor_model}"], tmp_path / "server.log")
    try:
        server.wait_ready()
        command = [
            str(SCHEMATHESIS if SCHEMATHESIS.exists() else shutil.which("schemathesis")),
            "run",
            f"{server.url}/openapi.json",
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
            "--max-examples",
            "25",
            "--seed",
            "1",
            "--no-color",
            "--generation-database",
            "none",
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path)
    finally:
        server.stop()
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "Tested: 22" in done.stdout  # every operation of both models
