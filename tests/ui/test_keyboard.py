"""The web UI by keyboard: a skip link, visible focus, arrow keys through the runs table, selection and
compare without a mouse, chart legends as a row of toggle buttons, dialogs that Escape cancels."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.ui.conftest import Watch, settle, shot
from tests.ui.seed import Seeded


def focused(page: Any) -> str:
    return page.evaluate(
        "() => document.activeElement.getAttribute('aria-label') || document.activeElement.textContent"
    )


def test_runs_table_and_compare_by_keyboard(page: Any, ui_server: Any, seeded: Seeded) -> None:
    watch = Watch(page)
    page.goto(f"{ui_server.url}/experiments/{seeded.experiment_id}?order=attributes.run_name+ASC")
    settle(page)
    page.keyboard.press("Tab")
    assert focused(page) == "Skip to content"
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    page.get_by_role("link", name="child-of-run-0").focus()
    page.keyboard.press("ArrowDown")
    assert focused(page) == "run-0"
    page.keyboard.press("ArrowDown")
    assert focused(page) == "run-1"
    page.keyboard.press("End")
    assert focused(page) == "run-4"
    page.keyboard.press("Home")
    assert focused(page).startswith("<script>")
    # select two runs with the keyboard, then compare them
    page.get_by_label("Select run-0").focus()
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    assert focused(page) == "Select run-1"
    page.keyboard.press("Space")
    compare = page.get_by_role("button", name="Compare 2 selected")
    expect(compare).to_be_enabled()
    compare.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("main h1 >> text=Compare 2 runs")
    assert page.locator("table.compare thead th").all_inner_texts() == ["run-0", "run-1"]
    assert watch.errors == []


def test_chart_legend_by_keyboard(page: Any, ui_server: Any, seeded: Seeded) -> None:
    runs = ",".join(seeded.runs[f"run-{i}"] for i in range(3))
    page.goto(f"{ui_server.url}/compare?runs={runs}&tab=charts")
    settle(page)
    page.wait_for_selector(".chart[data-metric=loss][data-drawn]")
    legend = page.locator(".chart[data-metric=loss] .legend-item")
    assert legend.count() == 3
    assert [legend.nth(i).get_attribute("tabindex") for i in range(3)] == ["0", "-1", "-1"]  # one tab stop
    legend.first.focus()
    page.keyboard.press("ArrowRight")
    assert focused(page).strip() == "run-1"
    page.keyboard.press("Space")
    assert legend.nth(1).get_attribute("aria-pressed") == "false"
    page.keyboard.press("Enter")
    assert legend.nth(1).get_attribute("aria-pressed") == "true"
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert focused(page).strip() == "run-2"  # wraps around
    shot(page, "keyboard-legend")


def test_escape_cancels_a_confirmation(page: Any, ui_server: Any, seeded: Seeded) -> None:
    page.goto(f"{ui_server.url}/models/{seeded.model}/versions/2")
    settle(page)
    page.get_by_label("Move to stage").select_option("Production")
    page.get_by_role("button", name="Move…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    assert focused(page) == "Cancel"  # the safe choice has the focus
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    answer = ui_server.client.get("/api/2.0/mlflow/model-versions/get", params={"name": seeded.model, "version": "2"})
    assert answer.json()["model_version"]["current_stage"] == "None"
    assert focused(page) == "Move…"  # focus returns to the button that opened it
