"""Drive the sandbox control API from tests, acting as Telegram users in private chats.

Bot replies arrive asynchronously (the bot long-polls the sandbox), so tests wait for the
message they expect instead of sleeping; a timeout fails with the whole chat transcript,
which is usually all one needs to see why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp

Message = dict[str, Any]

POLL_INTERVAL_S = 0.05


def format_transcript(messages: list[Message]) -> str:
    if not messages:
        return "  (no messages)"
    lines = []
    for m in messages:
        flags = [name for name in ("edited", "deleted") if m.get(name)]
        extras = []
        if m.get("photo"):
            extras.append("[photo]")
        if m.get("document"):
            extras.append(f"[document {m['document'].get('file_name')!r}]")
        for row in m.get("buttons") or []:
            labels = ", ".join(f"{b['text']}({b.get('data') or b.get('url') or ''})" for b in row)
            extras.append(f"[{labels}]")
        suffix = f" ({', '.join(flags)})" if flags else ""
        lines.append(f"  #{m['id']} {m['from']}: {m['text']!r} {' '.join(extras)}{suffix}")
    return "\n".join(lines)


class SandboxChat:
    """Private chats with the bot through `/sandbox/chat/...` of a running sandbox."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session

    def _url(self, user_id: int, tail: str) -> str:
        return f"{self.base_url}/sandbox/chat/{user_id}/{tail}"

    async def _json(self, method: str, url: str, body: Message | None = None) -> Any:
        async with self.session.request(method, url, json=body) as response:
            if response.status != 200:
                raise AssertionError(
                    f"{method} {url} -> {response.status}: {await response.text()}"
                )
            return await response.json()

    async def send(self, user_id: int, text: str, **profile: str) -> int:
        """Send `text` as the user (profile: username, first_name, language_code)."""
        body = await self._json("POST", self._url(user_id, "send"), {"text": text, **profile})
        return int(body["message_id"])

    async def press(self, user_id: int, message_id: int, data: str) -> None:
        await self._json(
            "POST", self._url(user_id, "press"), {"message_id": message_id, "data": data}
        )

    async def messages(self, user_id: int) -> list[Message]:
        body = await self._json("GET", self._url(user_id, "messages"))
        return list(body["messages"])

    async def wait_for(
        self,
        user_id: int,
        predicate: Callable[[Message], bool],
        timeout: float = 10.0,
        *,
        after: int = 0,
    ) -> Message:
        """The first bot message with id > `after` that satisfies `predicate`.

        Raises AssertionError with the transcript when none shows up within `timeout`.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            messages = await self.messages(user_id)
            for message in messages:
                if message["from"] == "bot" and message["id"] > after and predicate(message):
                    return message
            if loop.time() >= deadline:
                raise AssertionError(
                    f"no matching bot message in chat {user_id} within {timeout} s; "
                    f"transcript:\n{format_transcript(messages)}"
                )
            await asyncio.sleep(POLL_INTERVAL_S)

    async def file(self, user_id: int, message_id: int) -> bytes:
        url = self._url(user_id, f"files/{message_id}")
        async with self.session.get(url) as response:
            if response.status != 200:
                raise AssertionError(f"GET {url} -> {response.status}: {await response.text()}")
            return await response.read()
