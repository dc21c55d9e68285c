"""How the web UI is served: one page for every UI address, static files under a build hash with
immutable caching and gzip, nothing else answered (no licences, no other builds, no writes), and the runs
page's weight; its small helpers checked in the browser that runs them."""

from __future__ import annotations

import gzip
import re
from typing import Any

import pytest

from pack.ui.app import is_page
from pack.ui.assets import Assets
from tests.ui.conftest import settle
from tests.ui.seed import Seeded

RUNS_PAGE_BUDGET = 300 * 1024


def static_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_every_ui_address_gets_the_page_and_nothing_else(ui_server: Any) -> None:
    client = ui_server.client
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["cache-control"] == "no-cache"
    for path in ("/experiments", "/experiments/1,2", "/runs/abc", "/compare", "/models/m", "/models/m/versions/3"):
        assert client.get(path).text == page.text, path
    for path in ("/favicon.ico", "/experimentsx", "/static/0000/js/main.js", "/random"):
        missing = client.get(path)
        assert missing.status_code == 404 and missing.json()["error_code"] == "ENDPOINT_NOT_FOUND", path
        assert missing.json()["request_id"] == missing.headers["x-request-id"]  # answered as the server's own
    refused = client.post("/experiments", content=b"x")
    assert refused.status_code == 405 and refused.json()["error_code"] == "BAD_REQUEST"
    assert refused.json()["message"] == "method not allowed: POST /experiments"
    assert client.get("/health").text == "OK" and client.get("/api/2.0/mlflow/nothing").status_code == 404


def test_static_files_are_hashed_compressed_and_cached_forever(ui_server: Any) -> None:
    client = ui_server.client
    urls = static_urls(client.get("/").text)
    assert len(urls) >= 6 and len({u.split("/")[2] for u in urls}) == 1  # one build hash
    for url in urls:
        plain = client.get(url, headers={"Accept-Encoding": "identity"})
        assert plain.status_code == 200 and "content-encoding" not in plain.headers
        assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert plain.headers["x-content-type-options"] == "nosniff"
        if url.endswith((".js", ".css")):
            packed = client.get(url, headers={"Accept-Encoding": "gzip"})
            assert packed.headers["content-encoding"] == "gzip" and packed.headers["vary"] == "accept-encoding"
            assert int(packed.headers["content-length"]) < len(plain.content)
            assert packed.content == plain.content  # httpx decoded it
        head = client.head(url)
        assert head.status_code == 200 and head.content == b"" and head.headers["content-length"]
    prefix = urls[0].rsplit("/js/", 1)[0].rsplit("/css/", 1)[0].rsplit("/icon", 1)[0]
    for hidden in ("vendor/uplot/LICENSE", "vendor/README.md", "../index.html"):
        assert client.get(f"{prefix}/{hidden}").status_code == 404


def test_the_build_hash_follows_the_files(tmp_path: Any) -> None:
    root = tmp_path / "static"
    (root / "js").mkdir(parents=True)
    (root / "js" / "a.js").write_text("export const a = 1;\n" * 50)
    index = tmp_path / "index.html"
    index.write_text('<script type="module" src="{{static}}js/a.js"></script>')
    first = Assets(root, index)
    assert first.index.body.decode() == f'<script type="module" src="/static/{first.version}/js/a.js"></script>'
    assert first.find(f"/static/{first.version}/js/a.js").gzipped is not None
    assert (
        gzip.decompress(first.find(f"/static/{first.version}/js/a.js").gzipped) == (root / "js" / "a.js").read_bytes()
    )
    assert Assets(root, index).version == first.version
    (root / "js" / "a.js").write_text("export const a = 2;\n")
    assert Assets(root, index).version != first.version


@pytest.mark.parametrize(
    ("path", "page"),
    [("/", True), ("/experiments", True), ("/experimentsx", False), ("/runs", False), ("/runs/1", True), ("/x", False)],
)
def test_which_addresses_are_pages(path: str, page: bool) -> None:
    assert is_page(path) is page


def test_the_runs_page_weighs_at_most_300_kb(browser: Any, ui_server: Any, seeded: Seeded) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        responses: list[Any] = []
        page.on("response", lambda response: responses.append(response))  # noqa: PLW0108 - playwright needs a function
        page.goto(f"{ui_server.url}/experiments/{seeded.experiment_id}")
        settle(page)
        code = [r for r in responses if r.request.resource_type in ("document", "script", "stylesheet")]
        size = sum(len(r.body()) for r in code)
        assert size <= RUNS_PAGE_BUDGET, f"{size} bytes"
        sent = sum(r.request.sizes()["responseBodySize"] for r in code)
        assert sent < size / 2  # compressed on the wire
        api = [r for r in responses if "/ajax-api/" in r.url]
        assert api and all(r.status == 200 for r in api)
    finally:
        context.close()


def test_helpers_in_the_browser(page: Any, ui_server: Any) -> None:
    page.goto(ui_server.url + "/")
    settle(page)
    base = page.evaluate("() => document.querySelector('script[type=module]').src.replace(/js\\/main\\.js$/, '')")
    results = page.evaluate(
        '''async (base) => {
          const dom = await import(base + 'js/dom.js');
          const preview = await import(base + 'js/preview.js');
          const plots = await import(base + 'js/plots.js');
          const charts = await import(base + 'js/charts.js');
          const experiments = await import(base + 'js/experiments.js');
          return {
            csv: preview.parseCsv('a,b\\n"x, y","say ""hi"""\\r\\n"multi\\nline",3'),
            kinds: ['MLmodel', 'a/b.PNG', 'r.html', 'd.json', 't.tsv', 'requirements.txt', 'x.bin', 'Makefile']
              .map(preview.kindOf),
            quote: ['models:/m@champion', "it's", 'a b', 'ok-1.2/x'].map(dom.shellQuote),
            urls: ['javascript:alert(1)', '/runs/1', '//evil.example', 'https://x.example/a', 'data:text/html,x']
              .map(dom.safeUrl),
            ticks: plots.ticks(0, 1, 5),
            smooth: charts.smooth([1, 1, 1, 1], 0.9).map((v) => Math.round(v * 1000) / 1000),
            filters: [experiments.nameFilter("iris's"), experiments.nameFilter("tags.team = 'x'"),
              experiments.nameFilter('')],
            duration: [dom.fmt.duration(500), dom.fmt.duration(61000), dom.fmt.duration(3723000)],
          };
        }''',
        base,
    )
    assert results["csv"] == [["a", "b"], ["x, y", 'say "hi"'], ["multi\nline", "3"]]
    assert results["kinds"] == ["mlmodel", "image", "html", "json", "csv", "text", "binary", "text"]
    assert results["quote"] == ["models:/m@champion", "'it'\\''s'", "'a b'", "ok-1.2/x"]
    assert results["urls"] == [None, "/runs/1", "http://evil.example/", "https://x.example/a", None]  # http(s) only
    assert results["ticks"] == [0, 0.2, 0.4, 0.6, 0.8, 1]
    assert results["smooth"] == [1, 1, 1, 1]  # debiased: a constant stays constant
    assert results["filters"] == ["name ILIKE '%iris\\'s%'", "tags.team = 'x'", ""]
    assert results["duration"] == ["500 ms", "1 min 1 s", "1 h 2 min"]
