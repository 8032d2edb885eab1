"""The sandbox page: chat with the bot as a person of the simulated world, in a browser.

`/` is the page and `/sandbox/page/<name>` its scripts and styles (`sandbox/web/`). Like the
web panel's files (`webui_api/views/panel.py`) there is no build step and no third-party
code: the files are read once when the app is built, each with a content hash as its ETag,
and answered with `Cache-Control: no-cache`; only the files of that directory are reachable,
by exact name. The page talks to the control API on the same origin and nothing else, which
its Content-Security-Policy says. The few lines that load and answer the files repeat the
panel's on purpose: the sandbox stands in for Telegram and imports nothing of the product.

The page exists only where the sandbox runs: with real Telegram credentials nothing serves
it (the sandbox is not started), and `build_app(page=False)` leaves it out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

WEB_DIR = Path(__file__).resolve().parent / "web"
INDEX = "index.html"
ASSET_PREFIX = "/sandbox/page/"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    etag: str


PAGE_ASSETS = web.AppKey("sandbox_page_assets", dict)


def load_assets(directory: Path = WEB_DIR) -> dict[str, Asset]:
    assets: dict[str, Asset] = {}
    for path in sorted(directory.iterdir()) if directory.is_dir() else ():
        content_type = CONTENT_TYPES.get(path.suffix)
        if path.is_file() and content_type is not None:
            body = path.read_bytes()
            etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
            assets[path.name] = Asset(body, content_type, etag)
    return assets


def _serve(request: web.Request, name: str) -> web.Response:
    asset = request.app[PAGE_ASSETS].get(name)
    if asset is None:
        raise web.HTTPNotFound()
    headers = {
        "ETag": asset.etag,
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    }
    if asset.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=asset.body, headers=headers | {"Content-Type": asset.content_type})


async def _page(request: web.Request) -> web.Response:
    return _serve(request, INDEX)


async def _asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name == INDEX:
        raise web.HTTPNotFound()
    return _serve(request, name)


def register_page(app: web.Application, directory: Path = WEB_DIR) -> None:
    """Serve the sandbox page at `/` and its files under /sandbox/page/."""
    app[PAGE_ASSETS] = load_assets(directory)
    app.router.add_get("/", _page)
    app.router.add_get(ASSET_PREFIX + "{name}", _asset)
