"""The README's screenshots of the web UI: ``pack server`` on demo data, Debian's chromium, 1280x800.

Run: python devtools/ui_screenshots.py [OUTPUT_DIR]   (default: docs/; pngquant, when installed, shrinks them)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.server.support import TrackingServerProcess
from tests.services import CHROMIUM_FLAGS
from tests.ui.seed import Seeder


def main() -> None:
    from playwright.sync_api import sync_playwright

    out = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docs")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        server = TrackingServerProcess(
            ["--backend-store-uri", f"sqlite:///{root}/pack.db", "--default-artifact-root", str(root / "runs")],
            root / "server.log",
        )
        try:
            now = int(time.time() * 1000)
            seeded = Seeder(server.client).seed(
                "iris", runs=8, model="iris-classifier", base=now - 3_600_000, hostile=False
            )
            client = server.client
            api = "/api/2.0/mlflow"
            client.post(
                f"{api}/model-versions/transition-stage",
                json={"name": seeded.model, "version": "2", "stage": "Staging"},
            )
            client.post(
                f"{api}/model-versions/transition-stage",
                json={"name": seeded.model, "version": "1", "stage": "Production"},
            )
            pages = {
                "ui-runs.png": f"/experiments/{seeded.experiment_id}?order=metrics.%60acc%60+DESC",
                "ui-version.png": f"/models/{seeded.model}/versions/1",
            }
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=CHROMIUM_FLAGS
                )
                try:
                    page = browser.new_page(viewport={"width": 1280, "height": 800})
                    for name, path in pages.items():
                        page.goto(server.url + path)
                        page.wait_for_selector("main h1")
                        page.wait_for_load_state("networkidle")
                        page.screenshot(path=str(out / name))
                finally:
                    browser.close()
        finally:
            server.stop()
    if shutil.which("pngquant"):
        for name in pages:
            subprocess.run(["pngquant", "--force", "--ext", ".png", "--quality", "60-85", str(out / name)], check=True)
    for name in pages:
        print(f"{out / name}: {(out / name).stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
