"""A user's journey through the web UI in Chromium, on data written through the REST API: sort and filter
the runs table (a bad filter explains itself inline), back and forward through the URL's state, open a run,
see its charts, preview its files, open the model and move a version to Production after a confirmation,
then see the new entry of its promotion history."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.ui.conftest import Watch, settle, shot
from tests.ui.seed import Seeded


def run_names(page: Any) -> list[str]:
    return page.locator("table.runs tbody th a").all_inner_texts()


def test_sort_filter_open_chart_preview_and_promote(page: Any, ui_server: Any, seeded: Seeded) -> None:
    watch = Watch(page)
    page.goto(ui_server.url + "/")
    settle(page)
    page.get_by_role("link", name="ui-demo").click()
    page.wait_for_selector("table.runs")
    assert len(run_names(page)) == 7 and page.title() == "Runs of ui-demo · pack"

    # sort by the metric column, one way then the other (runs without the metric stay last going down)
    page.get_by_role("button", name="metric acc (sort ascending)").click()
    page.wait_for_url("**order=metrics.%60acc%60+ASC*")
    page.wait_for_selector("th[aria-sort=ascending]")
    assert run_names(page)[-5:] == ["run-4", "run-3", "run-2", "run-1", "run-0"]
    page.get_by_role("button", name="metric acc (sort descending)").click()
    page.wait_for_selector("th[aria-sort=descending] >> text=acc")
    assert run_names(page)[:5] == ["run-0", "run-1", "run-2", "run-3", "run-4"]

    # filter in the API's syntax; a bad filter says what is wrong right at the filter
    box = page.get_by_label("Filter runs")
    box.fill("metrics.acc > 0.8995 and params.depth = '4'")
    box.press("Enter")
    page.wait_for_url("**filter=*")
    expect(page.locator("table.runs tbody tr")).to_have_count(1)
    assert run_names(page) == ["run-0"]
    box = page.get_by_label("Filter runs")
    box.fill("metrics.acc >> 1")
    box.press("Enter")
    error = page.locator("#run-filter-error")
    error.wait_for()
    assert "invalid filter" in error.inner_text().lower() and error.get_attribute("role") == "alert"
    assert page.get_by_label("Filter runs").get_attribute("aria-invalid") == "true"
    shot(page, "journey-bad-filter")

    # the URL holds the state: back restores the good filter and its one row
    page.go_back()
    expect(page.locator("table.runs tbody tr")).to_have_count(1)
    assert page.get_by_label("Filter runs").input_value() == "metrics.acc > 0.8995 and params.depth = '4'"
    page.go_back()
    expect(page.locator("table.runs tbody tr")).to_have_count(7)

    # the run, its charts, its files
    page.get_by_role("link", name="run-0", exact=True).click()
    page.wait_for_selector("main h1 >> text=run-0")
    assert page.get_by_text("dirty: uncommitted changes").is_visible()
    assert page.get_by_role("link", name="child-of-run-0").is_visible()
    page.get_by_role("link", name="Charts").click()
    page.wait_for_selector(".chart[data-metric=acc][data-drawn]")
    page.wait_for_selector(".chart[data-metric=loss][data-drawn]")
    assert page.locator(".chart[data-metric=acc]").get_attribute("data-points") == "200"
    legend = page.locator(".chart[data-metric=loss] .legend-item").first
    legend.click()
    assert legend.get_attribute("aria-pressed") == "false"
    shot(page, "journey-charts")
    page.get_by_role("link", name="Files").click()
    page.get_by_role("link", name="notes.txt").click()
    page.wait_for_selector("pre.file >> text=second line")
    page.get_by_role("button", name="data").click()
    page.get_by_role("link", name="sample.csv").click()
    page.wait_for_selector(".preview table >> text=Paris, FR")
    assert page.locator(".preview table thead th").all_inner_texts() == ["city", "population"]
    page.get_by_role("button", name="model", exact=True).click()
    page.get_by_role("link", name="MLmodel", exact=True).click()
    page.wait_for_selector(".preview >> text=sepal_length")
    assert page.get_by_text("scikit-learn==1.5.0").is_visible()
    shot(page, "journey-mlmodel")

    # the registry: open the version, cancel once, then move it to Production
    page.get_by_role("link", name="Models", exact=True).click()
    page.get_by_role("link", name=seeded.model).click()
    page.get_by_role("link", name="Version 1").click()
    page.wait_for_selector("main h1 >> text=version 1")
    page.get_by_label("Move to stage").select_option("Production")
    page.get_by_role("button", name="Move…").click()
    dialog = page.get_by_role("dialog")
    assert "Move version 1 to Production?" in dialog.inner_text()
    dialog.get_by_role("button", name="Cancel").click()
    stage = ui_server.client.get("/api/2.0/mlflow/model-versions/get", params={"name": seeded.model, "version": "1"})
    assert stage.json()["model_version"]["current_stage"] == "Staging"
    page.get_by_label("Move to stage").select_option("Production")
    page.get_by_role("button", name="Move…").click()
    page.get_by_role("dialog").get_by_role("button", name="Move to Production").click()
    page.wait_for_selector(".title-row .badge >> text=Production")
    newest = page.locator(".timeline li").first
    assert "Staging → Production" in newest.inner_text() and "by anonymous" in newest.inner_text()
    stage = ui_server.client.get("/api/2.0/mlflow/model-versions/get", params={"name": seeded.model, "version": "1"})
    assert stage.json()["model_version"]["current_stage"] == "Production"
    shot(page, "journey-promoted", full_page=True)
    # the bad filter's 400 is the one error answer (and Chromium's console line about it)
    assert [e for e in watch.errors if "runs/search" in e] == [
        f"HTTP 400: POST {ui_server.url}/ajax-api/2.0/mlflow/runs/search"
    ]
    assert [e for e in watch.errors if "runs/search" not in e and "status of 400" not in e] == []
