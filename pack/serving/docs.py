"""The ``/docs`` page: Swagger UI from the ``swagger-ui-bundle`` package, so it needs no internet."""

from __future__ import annotations

from functools import cache

from pack.errors import NotFound

ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}

# Relative URLs, so the page also works behind a path prefix. No online validator.
PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>pack model server: API</title>
  <link rel="stylesheet" href="docs/static/swagger-ui.css">
  <link rel="icon" type="image/png" href="docs/static/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/static/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "openapi.json",
      dom_id: "#swagger-ui",
      validatorUrl: null,
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis],
    });
  </script>
</body>
</html>
"""


@cache
def asset(name: str) -> tuple[bytes, str]:
    """A Swagger UI file and its media type.

    Raises:
        NotFound: not one of the served files, or swagger-ui-bundle is not installed.
    """
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFound(f"no such file: {name}")
    try:
        import swagger_ui_bundle  # lazy: only the docs page needs it
    except ImportError:
        raise NotFound("the /docs page needs swagger-ui-bundle: pip install swagger-ui-bundle") from None
    return (swagger_ui_bundle.swagger_ui_path / name).read_bytes(), media_type


__all__ = ["ASSETS", "PAGE", "asset"]
