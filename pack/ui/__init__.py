"""The web UI at ``/`` of ``pack server`` and ``pack ui``: experiments, runs, charts, comparisons, files
and the model registry in the browser.

A small single-page app (ES modules, no build step) over the server's REST API, with uPlot for charts
and js-yaml for MLmodel files vendored from npm. This package only serves its files (``create_app``);
it imports nothing of the server, the stores or the registry.
"""

from pack.ui.app import WebUI, create_app

__all__ = ["WebUI", "create_app"]
