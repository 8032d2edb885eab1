"""Pages written as plain data (`webui_api.http.json_rows`) read back through the response
model their route declares: nothing missing, nothing extra, every value of its type."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import ClientResponse
from pydantic import BaseModel


async def conforming(resp: ClientResponse, model: type[BaseModel]) -> Any:
    """The body of a 200 answer, once `model` read it and wrote the very same JSON back."""
    raw = await resp.text()
    assert resp.status == 200, raw
    body = json.loads(raw)
    assert json.loads(model.model_validate_json(raw).model_dump_json()) == body
    return body
