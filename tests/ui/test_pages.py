"""Every page of the web UI in Chromium: it loads with no console error, no failed request and no error
answer, axe-core finds nothing serious or critical, in light and dark themes, at desktop size and in a
narrow window; a screenshot of each goes to the test-output folder."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.conftest import DESKTOP, Watch, serious_violations, settle, shot
from tests.ui.seed import Seeded

NARROW = {"width": 390, "height": 844}


def pages(seeded: Seeded) -> dict[str, str]:
    r = seeded.runs
    three = ",".join([r["run-0"], r["run-1"], r["run-2"]])
    e = seeded.experiment_id
    return {
        "experiments": "/experiments",
        "runs": f"/experiments/{e}",
        "runs-charts": f"/experiments/{e}?view=charts",
        "run": f"/runs/{r['run-0']}",
        "run-charts": f"/runs/{r['run-0']}?tab=charts",
        "run-files-mlmodel": f"/runs/{r['run-0']}?tab=artifacts&path=model/MLmodel",
        "run-files-csv": f"/runs/{r['run-0']}?tab=artifacts&path=data/sample.csv",
        "run-files-image": f"/runs/{r['run-0']}?tab=artifacts&path=plots/curve.png",
        "compare": f"/compare?runs={three}",
        "compare-charts": f"/compare?runs={three}&tab=charts",
        "compare-scatter": f"/compare?runs={three}&tab=scatter",
        "compare-parallel": f"/compare?runs={three}&tab=parallel",
        "models": "/models",
        "model": f"/models/{seeded.model}",
        "version": f"/models/{seeded.model}/versions/1",
        "not-found": "/experiments/1/nothing/here",
    }


NAMES = list(pages(Seeded("1", {k: "x" for k in ("run-0", "run-1", "run-2")})))


@pytest.mark.parametrize("name", NAMES)
def test_page_loads_clean_and_accessible(name: str, ui_server: Any, seeded: Seeded, browser: Any) -> None:
    url = ui_server.url + pages(seeded)[name]
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        watch = Watch(page)
        page.goto(url)
        settle(page)
        if "charts" in name:
            page.wait_for_selector(".chart[data-drawn]")
        assert watch.errors == []
        assert page.locator("main h1").count() == 1
        shot(page, name)
    finally:
        context.close()
    # axe injects a script, which the page's CSP rightly refuses: a second visit with CSP bypassed
    for scheme in ("light", "dark"):
        checking = browser.new_context(viewport=DESKTOP, bypass_csp=True, color_scheme=scheme)
        try:
            page = checking.new_page()
            page.goto(url)
            settle(page)
            assert serious_violations(page) == [], f"{name} ({scheme})"
        finally:
            checking.close()


@pytest.mark.parametrize("name", ["runs", "run", "version"])
def test_dark_theme_follows_the_system(name: str, ui_server: Any, seeded: Seeded, browser: Any) -> None:
    context = browser.new_context(viewport=DESKTOP, color_scheme="dark")
    try:
        page = context.new_page()
        page.goto(ui_server.url + pages(seeded)[name])
        settle(page)
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        red, green, blue = (int(c) for c in background.removeprefix("rgb(").rstrip(")").split(","))
        assert max(red, green, blue) < 60, background
        shot(page, f"{name}-dark")
    finally:
        context.close()
    light = browser.new_context(viewport=DESKTOP, color_scheme="light")
    try:
        page = light.new_page()
        page.goto(ui_server.url + pages(seeded)[name])
        settle(page)
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") != background
    finally:
        light.close()


@pytest.mark.parametrize("name", ["experiments", "runs", "run", "run-files-mlmodel", "compare", "version"])
def test_readable_in_a_narrow_window(name: str, ui_server: Any, seeded: Seeded, browser: Any) -> None:
    context = browser.new_context(viewport=NARROW, is_mobile=True)
    try:
        page = context.new_page()
        page.goto(ui_server.url + pages(seeded)[name])
        settle(page)
        # wide tables scroll inside their own region; the page itself never scrolls sideways
        assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"] + 1
        assert page.locator("main h1").is_visible()
        shot(page, f"{name}-narrow", full_page=True)
    finally:
        context.close()
