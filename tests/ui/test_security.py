"""The web UI under attack: hostile names, params, tags, descriptions and files stay inert text; HTML
files render only in a sandboxed frame and SVG only as an image; the page's CSP allows no inline script;
a page on another site cannot make a logged-in browser change anything (CSRF); and with --auth the
buttons follow the user's role while the server enforces it."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.server.support import TrackingServerProcess
from tests.ui.conftest import DESKTOP, Watch, settle, shot
from tests.ui.seed import XSS_NAME, Seeded, Seeder

API = "/api/2.0/mlflow"
EXPECTED_CONSOLE = re.compile(r"Blocked script execution in 'blob:.*' because the document's frame is sandboxed")


def hostile_pages(seeded: Seeded) -> dict[str, str]:
    xss = seeded.xss_run
    return {
        "experiments": "/experiments",
        "runs": f"/experiments/{seeded.experiment_id}",
        "run": f"/runs/{xss}",
        "html-file": f"/runs/{xss}?tab=artifacts&path=report.html",
        "svg-file": f"/runs/{xss}?tab=artifacts&path=drawing.svg",
        "text-file": f"/runs/{xss}?tab=artifacts&path=evil.txt",
        "compare": f"/compare?runs={xss},{seeded.runs['run-0']}",
        "compare-parallel": f"/compare?runs={xss},{seeded.runs['run-0']}&tab=parallel",
        "model": f"/models/{seeded.model}",
        "version": f"/models/{seeded.model}/versions/2",
    }


@pytest.mark.parametrize("name", list(hostile_pages(Seeded("1", {"run-0": "y"}, xss_run="x"))))
def test_hostile_values_stay_inert_text(name: str, page: Any, ui_server: Any, seeded: Seeded) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    watch = Watch(page)
    page.goto(ui_server.url + hostile_pages(seeded)[name])
    settle(page)
    page.wait_for_timeout(300)  # anything injected would have run by now
    assert page.evaluate("() => window.__xss") is None
    assert page.evaluate("() => parent.__xss") is None
    assert dialogs == []
    assert page.locator("main script, main img[src='x'], main [onerror], main [onload]").count() == 0
    assert not [r.url for r in watch.requests if r.url.rstrip("/").endswith("/x")]
    if name in ("run", "runs", "compare", "model", "version", "text-file", "experiments"):
        assert XSS_NAME in page.locator("main").inner_text()  # shown, as text
    assert [e for e in watch.errors if not EXPECTED_CONSOLE.search(e)] == []
    shot(page, f"xss-{name}")


def test_html_files_render_sandboxed_and_svg_only_as_an_image(page: Any, ui_server: Any, seeded: Seeded) -> None:
    watch = Watch(page)
    page.goto(ui_server.url + hostile_pages(seeded)["html-file"])
    settle(page)
    frame = page.locator("iframe.sandboxed")
    assert frame.get_attribute("sandbox") == ""
    assert frame.get_attribute("src").startswith("blob:")
    assert page.frame_locator("iframe.sandboxed").locator("#inside").inner_text() == "report"
    assert page.title().startswith("<script>")  # the frame could not retitle the page
    assert any(EXPECTED_CONSOLE.search(line) for line in watch.console)  # the browser refused its script
    page.goto(ui_server.url + hostile_pages(seeded)["svg-file"])
    settle(page)
    assert page.locator(".preview img").get_attribute("alt") == "Image drawing.svg"
    assert page.locator(".preview svg, .preview object, .preview embed").count() == 0


def test_the_page_policy_allows_no_inline_script(ui_server: Any) -> None:
    answer = ui_server.client.get("/experiments")
    policy = answer.headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert directives["require-trusted-types-for"] == "'script'" and directives["frame-ancestors"] == "'none'"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in answer.text.replace('<script type="module"', "")  # one external module, nothing inline


class Attacker:
    """A page on another site that tries to make the visitor's browser change things on the server."""

    def __init__(self, target: str) -> None:
        page = f"""<!doctype html><html><body>
<form id="f" method="POST" enctype="text/plain" action="{target}{API}/experiments/create">
<input name='{{"name": "csrf-form", "x": "' value='"}}'></form>
<script>
fetch("{target}{API}/experiments/create", {{method: "POST", mode: "no-cors", credentials: "include",
  headers: {{"Content-Type": "text/plain"}}, body: JSON.stringify({{name: "csrf-fetch"}})}})
  .finally(() => document.getElementById("f").submit());
</script></body></html>""".encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://localhost:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrackingServerProcess]:
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("secured")
    store = ["--backend-store-uri", f"sqlite:///{root}/pack.db"]
    for name in ("reader", "editor", "admin"):
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "from pack.cli.main import main; main()",
                "server",
                *store,
                "users",
                "add",
                name,
                "--role",
                name,
                "--password",
                f"{name}-pw",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    server = TrackingServerProcess(
        [*store, "--default-artifact-root", str(root / "runs"), "--auth"], root / "server.log"
    )
    server.client.auth = ("admin", "admin-pw")
    server.seeded = Seeder(server.client).seed()
    yield server
    assert server.stop() == 0


@pytest.mark.parametrize("who", [None, "admin"])
def test_another_site_cannot_write_through_the_browser(
    who: str | None, browser: Any, ui_server: Any, secured: Any
) -> None:
    target = secured if who else ui_server
    credentials = {"username": who, "password": f"{who}-pw"} if who else None
    attacker = Attacker(target.url)
    before = len(target.requests())
    context = browser.new_context(viewport=DESKTOP, http_credentials=credentials)
    try:
        page = context.new_page()
        if who:  # the victim is logged in to the UI in this browser
            page.goto(target.url + "/experiments")
            settle(page)
        page.goto(attacker.url)
        page.wait_for_url(f"{target.url}/**")  # the form went off
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
        attacker.close()
    names = [e["name"] for e in target.client.get(f"{API}/experiments/search").json()["experiments"]]
    assert not [n for n in names if n.startswith("csrf")]
    tried = [r for r in target.requests()[before:] if r[:2] == ("POST", f"{API}/experiments/create")]
    assert [status for *_, status in tried] == [403, 403]  # the fetch, then the form


def test_buttons_follow_the_role_and_the_server_enforces_it(browser: Any, secured: Any) -> None:
    seeded = secured.seeded
    version = f"{secured.url}/models/{seeded.model}/versions/1"
    anonymous = browser.new_context(viewport=DESKTOP)
    try:
        answer = anonymous.request.get(version)
        assert answer.status == 401 and answer.headers["www-authenticate"] == 'Basic realm="pack"'
    finally:
        anonymous.close()
    reader = browser.new_context(viewport=DESKTOP, http_credentials={"username": "reader", "password": "reader-pw"})
    try:
        page = reader.new_page()
        page.goto(version)
        settle(page)
        assert page.locator("#who").inner_text() == "reader (reader)"
        move = page.get_by_role("button", name="Move…")
        assert move.is_disabled() and move.get_attribute("title") == "Needs the admin role (you are reader)"
        assert page.get_by_role("button", name="Add tag").is_disabled()
        shot(page, "role-reader")
        refused = page.request.post(
            f"{secured.url}/ajax-api/2.0/mlflow/model-versions/transition-stage",
            data={"name": seeded.model, "version": "1", "stage": "Archived"},
        )
        assert refused.status == 403 and "admin role" in refused.json()["message"]
    finally:
        reader.close()
    admin = browser.new_context(viewport=DESKTOP, http_credentials={"username": "admin", "password": "admin-pw"})
    try:
        page = admin.new_page()
        watch = Watch(page)
        page.goto(version)
        settle(page)
        page.get_by_label("Move to stage").select_option("Archived")
        page.get_by_role("button", name="Move…").click()
        page.get_by_role("dialog").get_by_role("button", name="Move to Archived").click()
        page.wait_for_selector(".title-row .badge >> text=Archived")
        assert "by admin" in page.locator(".timeline li").first.inner_text()
        assert watch.errors == []
    finally:
        admin.close()
