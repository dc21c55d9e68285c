"""The OpenAPI document (validated) and the /docs page (rendered by a real headless browser)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openapi_spec_validator import validate

from tests.services import CHROMIUM_FLAGS
from tests.serving.support import FEATURES, ServerProcess


def test_openapi_document_is_valid_and_follows_the_signatures(multi_server: ServerProcess) -> None:
    document = multi_server.client.get("/openapi.json").json()
    validate(document)
    paths = document["paths"]
    assert "/invocations" not in paths  # several models: each under its name
    for path in (
        "/invocations/rf",
        "/invocations/echo",
        "/ping",
        "/health",
        "/metrics",
        "/v2/health/live",
        "/v2/health/ready",
        "/v2/models/rf/infer",
        "/v2/models/rf/versions/2/infer",
        "/v2/models/rf/versions/1/ready",
    ):
        assert path in paths, path
    schemas = document["components"]["schemas"]
    rf_request = schemas["rf.v2.InvocationsRequest"]
    row = rf_request["properties"]["dataframe_records"]["items"]
    assert list(row["properties"]) == FEATURES
    assert row["properties"]["f0"] == {"type": "number", "format": "double"}
    assert row["required"] == FEATURES
    scaled = schemas["scaled.v1.InvocationsRequest"]["properties"]["params"]
    assert scaled["properties"]["scale"] == {"type": "number", "format": "double", "default": 1.0}
    halves = schemas["halves.v1.InvocationsRequest"]["properties"]["inputs"]
    assert halves == {
        "type": "array",
        "items": {
            "type": "array",
            "items": {"anyOf": [{"type": "number"}, {"type": "boolean"}]},
            "minItems": 4,
            "maxItems": 4,
        },
    }
    operation = paths["/invocations/rf"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["example"]["dataframe_split"]["columns"] == FEATURES
    predictions = operation["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
    assert predictions["predictions"] == {"type": "array", "items": {"type": "integer", "format": "int64"}}
    assert set(operation["responses"]) >= {"200", "400", "404", "413", "415", "500", "503", "504"}
    metadata = paths["/v2/models/rf"]["get"]["responses"]["200"]["content"]["application/json"]["example"]
    assert metadata == multi_server.client.get("/v2/models/rf").json()


def test_single_model_document_has_plain_invocations(rf_server: ServerProcess) -> None:
    document = rf_server.client.get("/openapi.json").json()
    validate(document)
    assert "/invocations" in document["paths"]


def test_docs_page_renders_without_internet(rf_server: ServerProcess, chromium: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    elsewhere: list[str] = []

    def note(request: Any) -> None:
        if not request.url.startswith((rf_server.url, "data:")):
            elsewhere.append(request.url)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.on("request", note)
            page.goto(f"{rf_server.url}/docs")
            page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
            assert "pack model server" in page.inner_text(".swagger-ui .info .title")
            page.wait_for_selector(".opblock-summary-path[data-path='/invocations/rf']", timeout=30_000)
            page.click(".opblock-summary-path[data-path='/invocations/rf']")
            page.wait_for_selector(".opblock-body .body-param__example, .opblock-body .microlight", timeout=30_000)
            body_text = page.inner_text(".opblock.is-open")
            assert "dataframe_split" in body_text
            page.screenshot(path=str(tmp_path / "docs.png"), full_page=False)
        finally:
            browser.close()
    assert elsewhere == []
