"""The web panel: static files (`webui_api/static/`) served by the API process.

`/` is the page, `/assets/<name>` its scripts (ES modules), styles and texts. There is no build
step: the files are read once when the application is built, each with a content hash as its
ETag, and answered with `Cache-Control: no-cache`, so browsers revalidate (a 304 when nothing
changed) and never run a stale script after an upgrade. Only the files of that one directory
are reachable, by exact name. The Content-Security-Policy (`webui_api/http.py`) allows scripts,
styles and connections from the panel's own origin only: no inline code anywhere.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from webui_api.routing import ApiRoutes

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
INDEX = "index.html"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".png": "image/png",
}

routes = ApiRoutes(tag="panel")


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    etag: str


PANEL_ASSETS = web.AppKey("panel_assets", dict)


def load_assets(directory: Path = STATIC_DIR) -> dict[str, Asset]:
    assets: dict[str, Asset] = {}
    for path in sorted(directory.iterdir()) if directory.is_dir() else ():
        content_type = CONTENT_TYPES.get(path.suffix)
        if path.is_file() and content_type is not None:
            body = path.read_bytes()
            etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
            assets[path.name] = Asset(body, content_type, etag)
    return assets


def setup(app: web.Application, directory: Path = STATIC_DIR) -> None:
    app[PANEL_ASSETS] = load_assets(directory)


def _serve(request: web.Request, name: str) -> web.Response:
    asset = request.app[PANEL_ASSETS].get(name)
    if asset is None:
        raise web.HTTPNotFound()
    headers = {"ETag": asset.etag, "Cache-Control": "no-cache"}
    if asset.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=asset.body, headers=headers | {"Content-Type": asset.content_type})


@routes.get("/", summary="The web panel", auth=False, errors=(404,), content_type="text/html")
async def panel_page(request: web.Request) -> web.Response:
    return _serve(request, INDEX)


@routes.get(
    "/assets/{name}",
    summary="The web panel's scripts, styles and texts",
    auth=False,
    errors=(404,),
    content_type="application/octet-stream",
)
async def panel_asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name == INDEX:
        raise web.HTTPNotFound()
    return _serve(request, name)
