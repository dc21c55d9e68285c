"""The README's main job: examples/quickstart.py in a fresh directory, on the embedded defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart.py"


@pytest.mark.slow
def test_quickstart_trains_logs_registers_promotes_and_loads(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACK_")}
    env["PACK_CACHE_DIR"] = str(tmp_path / ".cache")
    env["PYTHONPATH"] = str(QUICKSTART.parents[1])
    for attempt in (1, 2):  # a second run registers and promotes version 2
        done = subprocess.run(
            [sys.executable, str(QUICKSTART)], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        assert f"registered RandomForestClassifier version {attempt}, promoted to Production" in done.stdout
        assert "models:/RandomForestClassifier/Production predicts like the estimator" in done.stdout
        assert "None -> Production" in done.stdout
    assert (tmp_path / "pack.db").is_file() and (tmp_path / "packruns").is_dir()
    import pack

    client = pack.Client(tracking_uri=f"sqlite:///{tmp_path}/pack.db")
    stages = {v.version: v.current_stage for v in client.search_model_versions("name='RandomForestClassifier'")}
    assert stages == {1: "Archived", 2: "Production"}
    from pack.registry.default import process_default

    process_default().reset()
