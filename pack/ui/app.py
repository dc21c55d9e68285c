"""The web UI's ASGI app, mounted at ``/`` of ``pack server`` and ``pack ui`` (the server's ``extra``).

It serves one page for every UI address (``/``, ``/experiments/...``, ``/runs/...``, ``/compare``,
``/models/...``) and the static files that page loads; everything the page shows comes from the
server's REST API (``/ajax-api/...``), which checks access, roles and cross-origin writes. The page
is sent with a Content-Security-Policy that allows only this server's own scripts and styles (no
inline script or style, no ``eval``), Trusted Types (no HTML written from strings), frames only for
sandboxed previews, and no embedding elsewhere. Static files are gzip-compressed and cached forever
under their build hash; the page itself is revalidated on every visit. A path or method it does not
answer raises starlette's ``HTTPException``, which the server answers like its own (a JSON error with
the request's id).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from pack.ui.assets import Asset, Assets

CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob:",
        "connect-src 'self'",
        "frame-src blob:",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    )
)
PAGE_PREFIXES = ("/experiments", "/runs/", "/compare", "/models")
_PAGE_HEADERS = (
    (b"cache-control", b"no-cache"),
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)
_STATIC_HEADERS = (
    (b"cache-control", b"public, max-age=31536000, immutable"),
    (b"x-content-type-options", b"nosniff"),
)


def is_page(path: str) -> bool:
    """Whether ``path`` is an address of the UI (answered with the page)."""
    return path == "/" or any(path == p or path.startswith(p if p.endswith("/") else p + "/") for p in PAGE_PREFIXES)


class WebUI:
    """The app; see the module docstring."""

    def __init__(self, assets: Assets) -> None:
        self.assets = assets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if method not in ("GET", "HEAD"):
            raise HTTPException(405, "method not allowed")
        if path.startswith("/static/"):
            asset = self.assets.find(path)
            if asset is None:
                raise HTTPException(404, "no such file")
            await _send_asset(send, scope, asset, _STATIC_HEADERS)
        elif is_page(path):
            await _send_asset(send, scope, self.assets.index, _PAGE_HEADERS)
        else:
            raise HTTPException(404, "no such endpoint")


def _accepts_gzip(scope: Scope) -> bool:
    for key, value in scope["headers"]:
        if key == b"accept-encoding":
            return any(part.split(b";", 1)[0].strip() == b"gzip" for part in value.lower().split(b","))
    return False


async def _send_asset(send: Send, scope: Scope, asset: Asset, extra: Iterable[tuple[bytes, bytes]]) -> None:
    body = asset.body
    headers = [(b"content-type", asset.content_type.encode()), *extra]
    if asset.gzipped is not None:
        headers.append((b"vary", b"accept-encoding"))
        if _accepts_gzip(scope):
            body = asset.gzipped
            headers.append((b"content-encoding", b"gzip"))
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


def create_app() -> WebUI:
    """The web UI over the files in the package (what ``pack server`` mounts at ``/``)."""
    return WebUI(Assets())


__all__ = ["CSP", "WebUI", "create_app", "is_page"]
