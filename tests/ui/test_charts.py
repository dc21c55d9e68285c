"""Metric charts in Chromium: a long history is drawn from the server's down-sampled points and zooming in
asks the server for the steps in view; the x axis, smoothing, log scale and overlaying are in the URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

from tests.ui.conftest import Watch, settle, shot
from tests.ui.seed import Seeded, Seeder

POINTS = 100_000


def test_a_long_history_is_down_sampled_and_zoom_asks_for_detail(page: Any, ui_server: Any, seeded: Seeded) -> None:
    seeder = Seeder(ui_server.client)
    run = seeder.run(seeded.experiment_id, "long", 1_764_000_000_000)
    run_id = run["info"]["run_id"]
    seeder.curve(run_id, "loss", [1 / (1 + s / 1000) for s in range(POINTS)], 1_764_000_000_000)
    watch = Watch(page)
    page.goto(f"{ui_server.url}/runs/{run_id}?tab=charts")
    settle(page)
    chart = page.locator(".chart[data-metric=loss]")
    page.wait_for_selector(".chart[data-metric=loss][data-drawn]")
    assert chart.get_attribute("data-points") == "1000"
    asked = [parse_qs(urlparse(r.url).query) for r in watch.requests if "get-history-bulk-interval" in r.url]
    assert asked[0]["max_results"] == ["1000"] and "start_step" not in asked[0]
    assert "Down-sampled by the server" in chart.inner_text()
    chart.get_by_role("button", name="Zoom in").click()
    expect(chart).to_contain_text("in full detail")
    zoomed = [parse_qs(urlparse(r.url).query) for r in watch.requests if "get-history-bulk-interval" in r.url][-1]
    low, high = int(zoomed["start_step"][0]), int(zoomed["end_step"][0])
    assert 20_000 < low < high < 80_000  # the middle half of the steps
    chart.get_by_role("button", name="Reset zoom").click()
    expect(chart).not_to_contain_text("in full detail")
    shot(page, "chart-long-history")
    assert watch.errors == []


def test_chart_settings_live_in_the_url(page: Any, ui_server: Any, seeded: Seeded) -> None:
    watch = Watch(page)
    page.goto(f"{ui_server.url}/runs/{seeded.runs['run-1']}?tab=charts")
    settle(page)
    page.wait_for_selector(".chart[data-metric=acc][data-drawn]")
    page.get_by_label("X axis").select_option("relative")
    page.wait_for_url("**x=relative*")
    plot = page.locator(".chart[data-metric=acc] .plot")
    expect(plot).to_have_attribute("aria-label", "Chart of acc against time since the run started")
    page.get_by_label("Log scale").check()
    page.wait_for_url("**log=1*")
    page.get_by_label("All in one chart").check()
    page.wait_for_url("**overlay=1*")
    page.wait_for_selector(".chart[data-metric='acc,loss'][data-drawn]")
    expect(page.locator(".chart")).to_have_count(1)
    assert page.locator(".chart .legend-item").all_inner_texts() == ["acc", "loss"]
    page.get_by_label("Smoothing").fill("0.6")
    page.get_by_label("Smoothing").dispatch_event("change")
    page.wait_for_url("**smooth=0.6*")
    page.wait_for_selector(".chart[data-drawn]")
    shot(page, "chart-settings")
    page.reload()
    settle(page)
    page.wait_for_selector(".chart[data-drawn]")
    assert page.get_by_label("X axis").input_value() == "relative" and page.get_by_label("Log scale").is_checked()
    assert page.get_by_label("All in one chart").is_checked() and page.locator("output").inner_text() == "0.60"
    assert watch.errors == []
