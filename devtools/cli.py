"""Run the real ``pack`` console script in a subprocess (tests and benchmarks)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def pack_command() -> list[str]:
    """The ``pack`` console script of this interpreter (or ``python -m pack.cli``)."""
    script = Path(sys.executable).with_name("pack")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pack.cli"]


def run_pack(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``pack ARGS...`` and capture its output (never raises on a non-zero exit)."""
    return subprocess.run(
        [*pack_command(), *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
