"""Logins of Telegram accounts started from the web panel, while they are open.

The login itself is `gateway.pending_login`'s, shared with the bot (`/link`): the 5-minute
life, three tries, the QR renewal schedule, what Telegram's refusals mean, one open login
per user (a new one abandons the old), and a half-made authorization logged out whatever
ends it. What is the panel's: `PanelLogins` (made in `init_app`'s resources, closed on
shutdown) binds each login to the user and the API session that started it, the panel
polls it, and the API renders its state and its last refusal in the caller's language. A
request that reaches another API process finds no such login (404), so several API
processes need the panel's requests of one login to reach the same one.

An ended login stays readable for `KEEP_ENDED_S`, so the panel's next poll learns how it
ended; then it is forgotten. Cancelling it, or logging out the session that started it,
forgets it at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import qrcode
from qrcode.image.svg import SvgPathImage

from core.errors import Busy, NotFound
from core.logs import get_logger
from gateway import pending_login
from gateway.pending_login import LoginState, PendingLogin, Stop

log = get_logger(__name__)

KEEP_ENDED_S = 120.0
"""How long an ended login still answers a poll (then 404)."""


class WrongStage(Busy):
    """An answer the login is not waiting for (it moved on, or it ended)."""

    code = "login_stage"


@dataclass(frozen=True, slots=True)
class ApiSession:
    session_id: str
    """The API session (`sid`) that started the login: its logout ends the login."""


PanelLogin = PendingLogin[ApiSession]


class PanelLogins(pending_login.PendingLogins[ApiSession]):
    """Open logins by id; see the module docstring. Every method that reads or answers a
    login raises `NotFound` for an unknown id or another user's login, and `WrongStage`
    for an answer the login does not wait for."""

    keep_ended_s = KEEP_ENDED_S

    async def start(
        self, user_id: int, session_id: str, workspace_id: int, method: str
    ) -> PanelLogin:
        """A new login for the user (abandoning their open one), into `workspace_id`, which
        the caller has checked the user belongs to. A QR login answers with its first code."""
        return await self._begin(user_id, workspace_id, method, ApiSession(session_id))

    def get(self, user_id: int, login_id: str) -> PanelLogin:
        pending = self._logins.get(login_id)
        # Another user's login is as absent as a made-up id (DESIGN §2: never a 403).
        if pending is None or pending.user_id != user_id:
            raise NotFound("login")
        return pending

    async def answer(self, user_id: int, login_id: str, state: LoginState, text: str) -> PanelLogin:
        """`text` as the answer the login waits for in `state` (see `renew_qr`, `phone`,
        `code`, `password`)."""
        pending = self.get(user_id, login_id)
        if not await self._answer(pending, state, text):
            raise WrongStage(f"login is {pending.state.value}, not {state.value}")
        return pending

    async def renew_qr(self, user_id: int, login_id: str) -> PanelLogin:
        """A new QR code now, in place of the shown one."""
        return await self.answer(user_id, login_id, LoginState.WAITING, "")

    async def phone(self, user_id: int, login_id: str, raw: str) -> PanelLogin:
        """The phone number: Telegram sends the login code to it."""
        return await self.answer(user_id, login_id, LoginState.PHONE, raw)

    async def code(self, user_id: int, login_id: str, raw: str) -> PanelLogin:
        """The login code (spaces and dashes allowed)."""
        return await self.answer(user_id, login_id, LoginState.CODE, raw)

    async def password(self, user_id: int, login_id: str, password: str) -> PanelLogin:
        """The 2FA password: handed to Telethon's SRP check and to nothing else."""
        return await self.answer(user_id, login_id, LoginState.PASSWORD, password)

    async def cancel(self, user_id: int, login_id: str) -> None:
        """End the login and forget it at once."""
        await self._drop(self.get(user_id, login_id), Stop.CANCELLED)
        log.info("panel login cancelled", user_id=user_id)

    async def end_session(self, session_id: str) -> None:
        """A logout: the logins that session started end and are forgotten."""
        for pending in [p for p in self._logins.values() if p.edge.session_id == session_id]:
            await self._drop(pending, Stop.CANCELLED)


def qr_svg(url: str) -> str:
    """The QR code of `url` as an SVG document (one path: small, and sharp at any size)."""
    image = qrcode.make(url, image_factory=SvgPathImage, box_size=10, border=4)
    svg: str = image.to_string(encoding="unicode")
    return svg
