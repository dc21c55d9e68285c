"""The external services some tests need: a Docker engine, PostgreSQL, a browser.

A test that needs one takes its fixture (``docker_client``, ``postgres_uri``, ``chromium``) and skips with
a reason when the service is missing. ``PACK_TEST_WITHOUT=docker,postgres,browser`` makes those tests skip
even where the service exists: CI runs the README's test command that way, proving the suite passes on a
machine that has none of them, then runs the tests marked with the service's name with the services up.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

SERVICES = ("docker", "postgres", "browser")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def without(service: str) -> bool:
    """Whether ``PACK_TEST_WITHOUT`` asks the tests to act as if ``service`` were missing."""
    return service in {name.strip() for name in os.environ.get("PACK_TEST_WITHOUT", "").split(",")}


def skip_without(service: str) -> None:
    """Skip the calling test when ``PACK_TEST_WITHOUT`` names ``service``."""
    if without(service):
        pytest.skip(f"PACK_TEST_WITHOUT names {service}")


def chromium_path() -> Path:
    """Debian's chromium (``PACK_TEST_CHROMIUM`` overrides), or skip with the reason."""
    skip_without("browser")
    found = os.environ.get("PACK_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        pytest.skip("needs Debian's chromium (apt-get install chromium; .ci/services/chromium.sh)")
    return Path(found)
