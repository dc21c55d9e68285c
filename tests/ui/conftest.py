"""The web UI in a real Chromium (Debian's, driven by playwright) against ``pack server`` in a subprocess.

Every test here takes the ``chromium`` fixture, so it is marked ``browser`` and skips without one.
Screenshots go to ``test-output/ui/`` (``PACK_TEST_OUTPUT`` overrides the folder).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.support import TrackingServerProcess
from tests.services import CHROMIUM_FLAGS
from tests.ui.seed import Seeded, Seeder

AXE = Path(__file__).with_name("vendor") / "axe-core" / "axe.min.js"
OUTPUT = Path(os.environ.get("PACK_TEST_OUTPUT", Path(__file__).resolve().parents[2] / "test-output")) / "ui"
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrackingServerProcess]:
    root = tmp_path_factory.mktemp("ui")
    server = TrackingServerProcess(
        ["--backend-store-uri", f"sqlite:///{root}/pack.db", "--default-artifact-root", str(root / "runs")],
        root / "server.log",
    )
    yield server
    assert server.stop() == 0
    assert "Traceback" not in server.output


@pytest.fixture(scope="module")
def seeded(ui_server: TrackingServerProcess) -> Seeded:
    return Seeder(ui_server.client).seed()


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


class Watch:
    """What went wrong on a page: console errors, uncaught exceptions, failed requests and error answers.

    A fetch the page itself cancels when the user moves on (``net::ERR_ABORTED``) is not a failure.
    """

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.console: list[str] = []
        self.requests: list[Any] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)
        page.on("request", lambda request: self.requests.append(request))  # noqa: PLW0108 - playwright needs a function

    def _console(self, message: Any) -> None:
        self.console.append(f"{message.type}: {message.text}")
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def _failed(self, request: Any) -> None:
        if request.failure != "net::ERR_ABORTED":
            self.errors.append(f"failed: {request.method} {request.url} {request.failure}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.errors.append(f"HTTP {response.status}: {response.request.method} {response.url}")


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    made = browser.new_context(viewport=DESKTOP)
    yield made
    made.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


def shot(page: Any, name: str, *, full_page: bool = False) -> Path:
    """A screenshot of ``page`` in the test-output folder."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def settle(page: Any) -> None:
    """Wait until the page has drawn and its requests are done."""
    page.wait_for_selector("main h1")
    page.wait_for_load_state("networkidle")


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now (needs a context with
    ``bypass_csp``: axe is injected as a script)."""
    page.add_script_tag(content=AXE.read_text())
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, { resultTypes: ['violations'] })).violations
            .filter((v) => ['serious', 'critical'].includes(v.impact))
            .map((v) => ({
              id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
            }))"""
    )
    return found
