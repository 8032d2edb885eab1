"""The Telethon gateway: the one module of the product that imports Telethon.

Clients come from a factory (`ClientFactory`): the real one builds `TelegramClient`s with
the installation's API credentials; the sandbox provides its own, plugged into the same
Telethon code at the sender seam. Everything that leaves this module is plain data or a
domain error from `core.telegram`, so callers never see Telethon types.

`flood_sleep_threshold` is small on purpose: Telethon would otherwise sleep through flood
waits of up to a minute inside a call, holding an account lease and hiding the limit from
the rules that must honour it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from telethon import TelegramClient, errors, events, functions, types
from telethon.sessions import StringSession

from core import telegram as tg
from core.parsing import LastSeen, Person, last_seen_bucket
from core.search import Community
from core.settings import Settings

FLOOD_SLEEP_THRESHOLD_S = 3
DEVICE_MODEL = "tg-inviter"


class ClientFactory(Protocol):
    def __call__(self, session: str | None = None) -> TelegramClient: ...


class RealClientFactory:
    def __init__(self, api_id: int, api_hash: str) -> None:
        self._api_id = api_id
        self._api_hash = api_hash

    def __call__(self, session: str | None = None) -> TelegramClient:
        return TelegramClient(
            StringSession(session),
            self._api_id,
            self._api_hash,
            flood_sleep_threshold=FLOOD_SLEEP_THRESHOLD_S,
            device_model=DEVICE_MODEL,
            app_version="1.0",
        )


def client_factory(settings: Settings) -> ClientFactory:
    """The sandbox's clients when Telegram is simulated, real ones otherwise."""
    if settings.sandbox_active:
        from sandbox.world.client import SandboxClientFactory

        return SandboxClientFactory(settings.sandbox_url, flood_sleep_threshold=FLOOD_SLEEP_THRESHOLD_S)
    if settings.telegram_api_id is None or settings.telegram_api_hash is None:
        raise RuntimeError("TELEGRAM_API_ID and TELEGRAM_API_HASH are required without the sandbox")
    return RealClientFactory(settings.telegram_api_id, settings.telegram_api_hash.get_secret_value())


# --- errors ---------------------------------------------------------------------------
_UNAUTHORIZED = (
    errors.AuthKeyUnregisteredError,
    errors.SessionRevokedError,
    errors.SessionExpiredError,
    errors.AuthKeyInvalidError,
)
_BANNED = (
    errors.UserDeactivatedError,
    errors.UserDeactivatedBanError,
    errors.PhoneNumberBannedError,
)


def _rpc_name(exc: BaseException) -> str:
    """Telegram's name of the error: Telethon keeps it only in the class name
    (`AuthKeyUnregisteredError` → `AUTH_KEY_UNREGISTERED`); generic classes keep `.message`."""
    cls = type(exc)
    if cls.__module__.endswith("rpcerrorlist"):
        return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__.removesuffix("Error")).upper()
    return str(getattr(exc, "message", "") or cls.__name__)


def translate(exc: BaseException) -> BaseException:
    """The domain error for a Telethon error; other exceptions pass through unchanged."""
    rpc = _rpc_name(exc)
    if isinstance(exc, errors.FloodWaitError):
        return tg.FloodWait(int(exc.seconds), rpc)
    if isinstance(exc, errors.PeerFloodError):
        return tg.PeerFlood(rpc)
    if isinstance(exc, errors.AuthKeyDuplicatedError):
        return tg.AuthKeyDuplicated(rpc)
    if isinstance(exc, _UNAUTHORIZED):
        return tg.AccountUnauthorized(rpc)
    if isinstance(exc, _BANNED):
        return tg.AccountBanned(rpc)
    if isinstance(exc, errors.SessionPasswordNeededError):
        return tg.PasswordNeeded(rpc)
    if isinstance(exc, errors.PasswordHashInvalidError):
        return tg.WrongPassword(rpc)
    if isinstance(exc, (errors.PhoneCodeInvalidError, errors.PhoneCodeEmptyError)):
        return tg.WrongCode(rpc)
    if isinstance(exc, errors.PhoneCodeExpiredError):
        return tg.CodeExpired(rpc)
    if isinstance(exc, errors.PhoneNumberInvalidError):
        return tg.PhoneInvalid(rpc)
    if isinstance(exc, errors.PhoneNumberUnoccupiedError):
        return tg.PhoneNotRegistered(rpc)
    if isinstance(exc, errors.RPCError):
        return tg.TelegramError(rpc)
    return exc


@contextlib.contextmanager
def translated() -> Any:
    try:
        yield
    except (errors.RPCError, errors.FloodWaitError) as exc:
        raise translate(exc) from exc


def _info(user: Any) -> tg.AccountInfo:
    return tg.AccountInfo(
        tg_user_id=int(user.id),
        username=user.username,
        first_name=user.first_name or "",
        phone=user.phone,
    )


# --- reading chats -------------------------------------------------------------------------
# Errors that say something about the chat being read rather than about the account.
_NOT_FOUND = (errors.UsernameNotOccupiedError, errors.UsernameInvalidError)
_NO_ACCESS = (
    errors.ChannelPrivateError,
    errors.ChannelInvalidError,
    errors.ChatAdminRequiredError,
    errors.ChatForbiddenError,
    errors.ChatIdInvalidError,
    errors.UserBannedInChannelError,
    errors.PeerIdInvalidError,
)


@contextlib.contextmanager
def reading_chat() -> Any:
    """Like `translated()`, with the errors of reading a chat mapped to `tg.SourceError`s."""
    try:
        yield
    except errors.RPCError as exc:
        if isinstance(exc, _NOT_FOUND):
            raise tg.SourceNotFound(_rpc_name(exc)) from exc
        if isinstance(exc, _NO_ACCESS):
            raise tg.NoAccess(_rpc_name(exc)) from exc
        raise translate(exc) from exc


_STATUS_BUCKETS: dict[type, LastSeen] = {
    types.UserStatusOnline: LastSeen.ONLINE,
    types.UserStatusRecently: LastSeen.RECENTLY,
    types.UserStatusLastWeek: LastSeen.WEEK,
    types.UserStatusLastMonth: LastSeen.MONTH,
    # Telegram shows an empty status as "last seen a long time ago".
    types.UserStatusEmpty: LastSeen.LONG_AGO,
}


def _last_seen(status: Any, now: datetime) -> LastSeen:
    if status is None:
        return LastSeen.UNKNOWN
    if isinstance(status, types.UserStatusOffline):
        return last_seen_bucket(now - status.was_online)
    return _STATUS_BUCKETS.get(type(status), LastSeen.UNKNOWN)


def person_of(user: Any, now: datetime) -> Person | None:
    """A Telethon user as the parser sees it; None for anything that is not a user."""
    if not isinstance(user, types.User):
        return None
    if user.deleted:
        return Person(user.id, None, "", None, LastSeen.UNKNOWN, False, False,
                      False, True, False, False, user.access_hash)
    photo = user.photo
    # Positional, in Person's field order: this runs once for every member read.
    return Person(
        user.id,
        user.username,
        user.first_name or "",
        user.last_name,
        _last_seen(user.status, now),
        bool(user.premium),
        photo is not None and not isinstance(photo, types.UserProfilePhotoEmpty),
        bool(user.bot),
        False,
        bool(user.scam),
        bool(user.fake),
        user.access_hash,
    )


def _authors(messages: list[Any], users: list[Any], now: datetime, since: datetime | None = None) -> list[Person]:
    """The distinct people who wrote `messages` (in order), skipping service messages,
    posts signed by a chat, and messages older than `since`."""
    by_id = {u.id: u for u in users}
    seen: set[int] = set()
    people: list[Person] = []
    for message in messages:
        if not isinstance(message, types.Message) or (since is not None and message.date < since):
            continue
        sender = message.from_id
        if not isinstance(sender, types.PeerUser) or sender.user_id in seen:
            continue
        seen.add(sender.user_id)
        found = person_of(by_id.get(sender.user_id), now)
        if found is not None:
            people.append(found)
    return people


# --- sessions of linked accounts ----------------------------------------------------------
class AccountClient:
    """A connected client of one linked account (use inside its lease)."""

    def __init__(self, client: TelegramClient) -> None:
        self._client = client
        # Access hashes of the channels this client resolved: valid for this account only.
        self._channel_hashes: dict[int, int] = {}
        self._basic_groups: dict[int, Any] = {}

    async def me(self) -> tg.AccountInfo:
        """The account's own profile; `AccountUnauthorized` / `AccountBanned` when it is gone."""
        # A raw call, not `get_me()`: that one swallows every 401 (revoked *and* banned)
        # into None, and the two need different statuses.
        with translated():
            users = await self._client(functions.users.GetUsersRequest([types.InputUserSelf()]))
        if not users or isinstance(users[0], types.UserEmpty):
            raise tg.AccountUnauthorized("NOT_AUTHORIZED")
        return _info(users[0])

    async def log_out(self) -> None:
        with translated():
            await self._client.log_out()

    def session_string(self) -> str:
        return StringSession.save(self._client.session)

    # --- reading chats (audience collection) ------------------------------------------
    async def resolve_source(self, ref: str | int) -> tg.SourceChat:
        """The chat behind a public username, or a basic group by id (the account must be in it).

        Raises `SourceNotFound` (no such username), `NotAGroup` (the username is a person),
        `NoAccess` (this account cannot read the chat).
        """
        if isinstance(ref, int):
            return await self._basic_group(ref)
        with reading_chat():
            resolved = await self._client(functions.contacts.ResolveUsernameRequest(ref))
        peer = resolved.peer
        if isinstance(peer, types.PeerUser):
            raise tg.NotAGroup("PEER_IS_USER")
        if isinstance(peer, types.PeerChat):
            return await self._basic_group(peer.chat_id)
        channel = next((c for c in resolved.chats if c.id == peer.channel_id), None)
        if not isinstance(channel, types.Channel):
            raise tg.NoAccess("CHANNEL_FORBIDDEN")
        self._channel_hashes[channel.id] = channel.access_hash
        inp = types.InputChannel(channel.id, channel.access_hash)
        with reading_chat():
            full = await self._client(functions.channels.GetFullChannelRequest(inp))
        info = full.full_chat
        linked = info.linked_chat_id
        for chat in full.chats:
            if isinstance(chat, types.Channel) and chat.id == linked and chat.access_hash:
                self._channel_hashes[chat.id] = chat.access_hash
        admins = await self._admin_ids(channel.id)
        if channel.broadcast and linked in self._channel_hashes:
            admins |= await self._admin_ids(linked)
        return tg.SourceChat(
            chat_id=channel.id,
            kind="channel" if channel.broadcast else "megagroup",
            title=channel.title,
            username=channel.username,
            members_count=info.participants_count,
            linked_chat_id=linked,
            admin_ids=admins,
            members_hidden=bool(getattr(info, "participants_hidden", False)),
            can_view_members=bool(info.can_view_participants),
        )

    async def _basic_group(self, chat_id: int) -> tg.SourceChat:
        with reading_chat():
            full = await self._client(functions.messages.GetFullChatRequest(chat_id))
        participants = full.full_chat.participants
        if not isinstance(participants, types.ChatParticipants):
            raise tg.NoAccess("CHAT_PARTICIPANTS_FORBIDDEN")
        self._basic_groups[chat_id] = full
        chat = next((c for c in full.chats if c.id == chat_id), None)
        admins = frozenset(
            p.user_id for p in participants.participants
            if isinstance(p, (types.ChatParticipantCreator, types.ChatParticipantAdmin))
        )
        return tg.SourceChat(
            chat_id=chat_id,
            kind="group",
            title=getattr(chat, "title", "") or "",
            username=None,
            members_count=len(participants.participants),
            admin_ids=admins,
        )

    async def _admin_ids(self, channel_id: int) -> frozenset[int]:
        """Best effort: who administers the chat, or nobody when the list is not shown."""
        request = functions.channels.GetParticipantsRequest(
            self._input_channel(channel_id), types.ChannelParticipantsAdmins(), 0, 200, 0
        )
        try:
            with reading_chat():
                answer = await self._client(request)
        except (tg.NoAccess, tg.SourceNotFound):
            return frozenset()
        except tg.FloodWait:
            raise
        except tg.TelegramError:
            return frozenset()
        return frozenset(
            p.user_id for p in getattr(answer, "participants", ()) if hasattr(p, "user_id")
        )

    def _input_channel(self, channel_id: int) -> types.InputChannel:
        access_hash = self._channel_hashes.get(channel_id)
        if access_hash is None:
            raise LookupError(f"chat {channel_id} was not resolved by this account")
        return types.InputChannel(channel_id, access_hash)

    def _input_peer(self, chat: tg.SourceChat) -> Any:
        if chat.kind == "group":
            return types.InputPeerChat(chat.chat_id)
        channel = self._input_channel(chat.chat_id)
        return types.InputPeerChannel(channel.channel_id, channel.access_hash)

    async def participants(
        self, chat: tg.SourceChat, offset: int, limit: int, query: str | None = None
    ) -> tg.PeoplePage:
        """One page of a group's members, newest first (`query`: members whose name or
        username starts with it). A basic group answers with all its members at once."""
        now = datetime.now(UTC)
        if chat.kind == "group":
            full = self._basic_groups.get(chat.chat_id)
            if full is None:
                await self._basic_group(chat.chat_id)
                full = self._basic_groups[chat.chat_id]
            users = {u.id: u for u in full.users}
            rows = full.full_chat.participants.participants
            people = [p for p in (person_of(users.get(r.user_id), now) for r in rows) if p]
            return tg.PeoplePage(people, len(rows), None, total=len(rows))
        flt: Any = (
            types.ChannelParticipantsRecent() if query is None else types.ChannelParticipantsSearch(query)
        )
        request = functions.channels.GetParticipantsRequest(
            self._input_channel(chat.chat_id), flt, offset, limit, 0
        )
        with reading_chat():
            answer = await self._client(request)
        if not isinstance(answer, types.channels.ChannelParticipants):
            return tg.PeoplePage([], 0, None)
        users = {u.id: u for u in answer.users}
        people = []
        for row in answer.participants:
            user_id = getattr(row, "user_id", None)  # left and banned rows carry a peer instead
            found = person_of(users.get(user_id), now) if user_id is not None else None
            if found is not None:
                people.append(found)
        fetched = len(answer.participants)
        return tg.PeoplePage(people, fetched, offset + fetched if fetched else None, total=answer.count)

    async def channel_posts(self, chat: tg.SourceChat, offset_id: int, limit: int) -> tg.PostsPage:
        """Posts of a broadcast channel, newest first, with how many comments each has."""
        request = functions.messages.GetHistoryRequest(
            self._input_peer(chat), offset_id, None, 0, limit, 0, 0, 0
        )
        with reading_chat():
            answer = await self._client(request)
        messages = [m for m in answer.messages if isinstance(m, (types.Message, types.MessageService))]
        posts = [tg.Post(m.id, _comments(m)) for m in messages if isinstance(m, types.Message)]
        more = len(answer.messages) >= limit and messages
        return tg.PostsPage(posts, messages[-1].id if more else None)

    async def channel_post(self, chat: tg.SourceChat, post_id: int) -> tg.Post | None:
        request = functions.channels.GetMessagesRequest(
            self._input_channel(chat.chat_id), [types.InputMessageID(post_id)]
        )
        with reading_chat():
            answer = await self._client(request)
        message = next((m for m in answer.messages if isinstance(m, types.Message)), None)
        return tg.Post(message.id, _comments(message)) if message is not None else None

    async def comment_authors(
        self, chat: tg.SourceChat, post_id: int, offset_id: int, limit: int
    ) -> tg.PeoplePage:
        """Authors of one page of comments under a channel post, newest comments first."""
        request = functions.messages.GetRepliesRequest(
            self._input_peer(chat), post_id, offset_id, None, 0, limit, 0, 0, 0
        )
        try:
            with reading_chat():
                answer = await self._client(request)
        except tg.TelegramError as exc:
            if exc.rpc == "MSG_ID_INVALID":  # a post without a comment thread
                return tg.PeoplePage([], 0, None, total=0)
            raise
        now = datetime.now(UTC)
        messages = answer.messages
        people = _authors(messages, answer.users, now)
        more = len(messages) >= limit and messages
        return tg.PeoplePage(
            people, len(messages), messages[-1].id if more else None,
            total=getattr(answer, "count", None),
        )

    async def message_authors(
        self, chat: tg.SourceChat, offset_id: int, limit: int, since: datetime
    ) -> tg.PeoplePage:
        """Authors of one page of a group's history, newest first; the page that reaches
        messages older than `since` is the last one."""
        request = functions.messages.GetHistoryRequest(
            self._input_peer(chat), offset_id, None, 0, limit, 0, 0, 0
        )
        with reading_chat():
            answer = await self._client(request)
        now = datetime.now(UTC)
        messages = answer.messages
        people = _authors(messages, answer.users, now, since)
        dated = [m.date for m in messages if getattr(m, "date", None) is not None]
        oldest = min(dated) if dated else None
        more = len(messages) >= limit and messages and (oldest is None or oldest >= since)
        return tg.PeoplePage(
            people, len(messages), messages[-1].id if more else None,
            total=getattr(answer, "count", None), oldest=oldest,
        )


def _forget(tlo: Any) -> None:
    return None


def _comments(message: Any) -> int:
    replies = getattr(message, "replies", None)
    return int(replies.replies) if replies is not None and replies.comments else 0


@dataclass
class TelegramGateway:
    factory: ClientFactory

    @contextlib.asynccontextmanager
    async def account(
        self, session: str, *, remember_entities: bool = True
    ) -> AsyncIterator[AccountClient]:
        """A connected client of a linked account (use inside its lease).

        `remember_entities=False` for bulk reading: Telethon would otherwise keep every user
        it is shown in the session's memory, which the collectors never read back (they
        build their input peers themselves) and which grows with each page.
        """
        client = self.factory(session)
        if not remember_entities:
            client.session.process_entities = _forget  # type: ignore[method-assign]
        try:
            # A connect that fails half-way (e.g. AUTH_KEY_DUPLICATED on the first request)
            # leaves the connection open: closed here too, or the next attempt with this
            # session would collide with it.
            with translated():
                await client.connect()
            yield AccountClient(client)
        finally:
            await client.disconnect()

    def qr_login(self) -> QrLogin:
        return QrLogin(self.factory(None))

    def phone_login(self) -> PhoneLogin:
        return PhoneLogin(self.factory(None))


# --- linking -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class QrToken:
    url: str
    expires_at: datetime


class _Login:
    """A fresh, not yet authorized client; `close()` it whatever happens."""

    def __init__(self, client: TelegramClient) -> None:
        self._client = client
        self._connected = False

    async def _connect(self) -> None:
        if not self._connected:
            with translated():
                await self._client.connect()
            self._connected = True

    async def check_password(self, password: str) -> tg.AccountInfo:
        """Finish a login that needs the 2FA password; `WrongPassword` lets the user retry."""
        with translated():
            user = await self._client.sign_in(password=password)
        return _info(user)

    def session_string(self) -> str:
        return StringSession.save(self._client.session)

    async def close(self) -> None:
        if self._connected:
            await self._client.disconnect()
            self._connected = False

    async def abandon(self) -> None:
        """Throw away a half-done login, logging the new authorization out if there is one."""
        if self._connected:
            with contextlib.suppress(Exception):
                if await self._client.is_user_authorized():
                    await self._client.log_out()
        await self.close()


class QrLogin(_Login):
    """A login by QR code, scanned with Telegram on a phone that is already logged in.

    Telegram announces a scan once, with `UpdateLoginToken`, and never replays it. So the
    listener is installed before the first code exists and stays until the login ends, and
    every export of a token (the first one, each refresh, and the one that collects the
    result after a scan) runs under one lock: a scan that lands while a refresh is under way
    is collected by whichever export comes first, and `wait()` hears about it either way.
    """

    def __init__(self, client: TelegramClient) -> None:
        super().__init__(client)
        self._lock = asyncio.Lock()
        self._outcome: asyncio.Future[tg.AccountInfo] | None = None
        self._listening = False
        self._collector: asyncio.Task[None] | None = None

    def _future(self) -> asyncio.Future[tg.AccountInfo]:
        if self._outcome is None:
            self._outcome = asyncio.get_running_loop().create_future()
            # Nobody may be waiting when the login fails (e.g. it expired meanwhile).
            self._outcome.add_done_callback(lambda f: f.cancelled() or f.exception())
        return self._outcome

    def _settle(self, result: tg.AccountInfo | None = None, error: BaseException | None = None) -> None:
        outcome = self._future()
        if outcome.done():
            return
        if error is not None:
            outcome.set_exception(error)
        else:
            outcome.set_result(result)  # type: ignore[arg-type]

    async def token(self) -> QrToken | None:
        """A new login QR (also to replace one about to expire).

        None when the previous QR has been scanned meanwhile: `wait()` then answers at once.
        """
        await self._connect()
        outcome = self._future()
        if not self._listening:
            self._client.add_event_handler(self._on_scan, events.Raw(types.UpdateLoginToken))
            self._listening = True
        async with self._lock:
            if outcome.done():
                return None
            answer = await self._export()
        if isinstance(answer, types.auth.LoginToken):
            return QrToken(url=_login_url(answer.token), expires_at=answer.expires)
        return None

    async def _export(self) -> Any:
        """One `auth.exportLoginToken` (under the lock); a finished login settles the outcome."""
        request = functions.auth.ExportLoginTokenRequest(
            self._client.api_id, self._client.api_hash, except_ids=[]
        )
        try:
            with translated():
                answer = await self._client(request)
                if isinstance(answer, types.auth.LoginTokenMigrateTo):
                    await self._client._switch_dc(answer.dc_id)
                    answer = await self._client(functions.auth.ImportLoginTokenRequest(answer.token))
        except tg.PasswordNeeded as exc:
            self._settle(error=exc)
            return None
        if isinstance(answer, types.auth.LoginTokenSuccess):
            user = answer.authorization.user
            # What Telethon's own QR login does once it has the user: marks the client logged in.
            with translated():
                await self._client._on_login(user)
            self._settle(_info(user))
            return None
        return answer

    async def _on_scan(self, update: Any) -> None:
        # Collect in a task of our own, so closing the login can stop it.
        if self._collector is None or self._collector.done():
            self._collector = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        async with self._lock:
            if self._future().done():
                return
            try:
                await self._export()
            except Exception as exc:
                self._settle(error=translate(exc))

    async def wait(self, timeout_s: float) -> tg.AccountInfo:
        """The account once the QR is scanned; `PasswordNeeded` when 2FA is on,
        `LoginTimeout` when nobody scanned it within `timeout_s`.

        Timing out (or being cancelled) ends nothing: call it again, e.g. after a refresh.
        """
        try:
            return await asyncio.wait_for(asyncio.shield(self._future()), max(timeout_s, 0.0))
        except TimeoutError:
            raise tg.LoginTimeout("QR_NOT_SCANNED") from None

    async def close(self) -> None:
        if self._listening:
            self._client.remove_event_handler(self._on_scan)
            self._listening = False
        collector, self._collector = self._collector, None
        if collector is not None and not collector.done():
            collector.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await collector
        if self._outcome is not None and not self._outcome.done():
            self._outcome.cancel()
        await super().close()


def _login_url(token: bytes) -> str:
    return "tg://login?token=" + base64.urlsafe_b64encode(token).decode().rstrip("=")


class PhoneLogin(_Login):
    def __init__(self, client: TelegramClient) -> None:
        super().__init__(client)
        self._phone: str | None = None
        self._hash: str | None = None

    async def send_code(self, phone: str) -> None:
        await self._connect()
        with translated():
            sent = await self._client.send_code_request(phone)
        self._phone, self._hash = phone, sent.phone_code_hash

    async def sign_in(self, code: str) -> tg.AccountInfo:
        with translated():
            user = await self._client.sign_in(self._phone, code, phone_code_hash=self._hash)
        return _info(user)




# --- invites ---------------------------------------------------------------------------------
from core import campaigns as cg  # noqa: E402  (kept with the section that uses it)


class Inviter:
    """Invites into one target chat with one account's connected client (inside its lease).

    Access hashes are per account: a person is addressed with the hash the inviting account
    saw, or resolved by username with this account; a channel is resolved by this account.
    """

    def __init__(self, account: AccountClient) -> None:
        self._client = account._client
        self._channels: dict[int, int] = {}
        self._users: dict[int, int] = {}
        self._me: int | None = None  # this account's own id, asked once per client

    async def resolve_target(self, ref: str | int) -> cg.TargetChat:
        """The chat behind a public username, or a basic group by id.

        Raises `SourceNotFound` (no such chat), `NotAGroup` (a person), `NoAccess`.
        """
        if isinstance(ref, int) or (isinstance(ref, str) and ref.lstrip("-").isdigit()):
            chat_id = int(ref)
            with reading_chat():
                full = await self._client(functions.messages.GetFullChatRequest(chat_id))
            chat = next((c for c in full.chats if c.id == chat_id), None)
            return cg.TargetChat(chat_id, "group", getattr(chat, "title", "") or "", None)
        with reading_chat():
            resolved = await self._client(functions.contacts.ResolveUsernameRequest(ref.lstrip("@")))
        peer = resolved.peer
        if isinstance(peer, types.PeerUser):
            raise tg.NotAGroup("PEER_IS_USER")
        if isinstance(peer, types.PeerChat):
            return await self.resolve_target(peer.chat_id)
        channel = next((c for c in resolved.chats if c.id == peer.channel_id), None)
        if not isinstance(channel, types.Channel):
            raise tg.NoAccess("CHANNEL_FORBIDDEN")
        self._channels[channel.id] = channel.access_hash
        kind = "channel" if channel.broadcast else "megagroup"
        return cg.TargetChat(channel.id, kind, channel.title, channel.username)

    def _channel(self, chat: cg.TargetChat) -> types.InputChannel:
        access_hash = self._channels.get(chat.chat_id)
        if access_hash is None:
            raise LookupError(f"chat {chat.chat_id} was not resolved by this account")
        return types.InputChannel(chat.chat_id, access_hash)

    async def my_rights(self, chat: cg.TargetChat) -> cg.ChatRights:
        """Whether this account is in the chat, and may add people to it."""
        if chat.kind == "group":
            with reading_chat():
                full = await self._client(functions.messages.GetFullChatRequest(chat.chat_id))
            if self._me is None:
                self._me = (await self._client(functions.users.GetUsersRequest([types.InputUserSelf()])))[0].id
            me = self._me
            rows = getattr(full.full_chat.participants, "participants", [])
            row = next((p for p in rows if p.user_id == me), None)
            if row is None:
                return cg.ChatRights(member=False)
            creator = isinstance(row, types.ChatParticipantCreator)
            admin = creator or isinstance(row, types.ChatParticipantAdmin)
            # In a basic group every member may add people unless the chat forbids it.
            return cg.ChatRights(member=True, creator=creator, admin=admin, can_invite=True)
        try:
            with reading_chat():
                answer = await self._client(
                    functions.channels.GetParticipantRequest(self._channel(chat), types.InputPeerSelf())
                )
        except tg.TelegramError as exc:
            if exc.rpc == "USER_NOT_PARTICIPANT":
                return cg.ChatRights(member=False)
            raise
        row = answer.participant
        if isinstance(row, types.ChannelParticipantCreator):
            return cg.ChatRights(member=True, creator=True, admin=True, can_invite=True)
        if isinstance(row, types.ChannelParticipantAdmin):
            rights = row.admin_rights
            return cg.ChatRights(member=True, admin=True, can_invite=bool(rights and rights.invite_users))
        return cg.ChatRights(member=True)

    async def _input_user(self, user_id: int, access_hash: int | None, username: str | None) -> types.InputUser:
        """The person as this account may name them: a hash it saw, or its own resolve."""
        if access_hash is None:
            access_hash = self._users.get(user_id)
        if access_hash is None and username:
            with translated():
                resolved = await self._client(functions.contacts.ResolveUsernameRequest(username))
            found = next((u for u in resolved.users if isinstance(u, types.User)), None)
            if found is None or found.id != user_id:
                # The username now belongs to someone else (or nobody): never invite a stranger.
                raise tg.TelegramError("USERNAME_NOT_OCCUPIED")
            access_hash = found.access_hash
            self._users[user_id] = access_hash
        return types.InputUser(user_id, access_hash or 0)

    async def resolve_person(self, username: str) -> tuple[int, int, bool] | None:
        """(id, access hash for this account, is a bot) of the person behind a username;
        None when nobody (or a chat) has it."""
        try:
            with translated():
                resolved = await self._client(functions.contacts.ResolveUsernameRequest(username.lstrip("@")))
        except tg.TelegramError as exc:
            if exc.rpc in ("USERNAME_NOT_OCCUPIED", "USERNAME_INVALID"):
                return None
            raise
        found = next((u for u in resolved.users if isinstance(u, types.User)), None)
        if found is None or not isinstance(resolved.peer, types.PeerUser):
            return None
        self._users[found.id] = found.access_hash
        return found.id, found.access_hash, bool(found.bot)

    async def invite(
        self, chat: cg.TargetChat, user_id: int, access_hash: int | None, username: str | None
    ) -> cg.Sent:
        """Add one person; failures are domain errors (`tg.TelegramError.rpc` names the RPC)."""
        user = await self._input_user(user_id, access_hash, username)
        try:
            with translated():
                if chat.kind == "group":
                    answer = await self._client(
                        functions.messages.AddChatUserRequest(chat.chat_id, user, fwd_limit=0)
                    )
                else:
                    answer = await self._client(
                        functions.channels.InviteToChannelRequest(self._channel(chat), [user])
                    )
        except tg.TelegramError as exc:
            if exc.rpc == "USER_ALREADY_PARTICIPANT":
                return cg.Sent.ALREADY_MEMBER
            raise
        missing = {m.user_id for m in getattr(answer, "missing_invitees", None) or ()}
        return cg.Sent.MISSING_INVITEE if user_id in missing else cg.Sent.ADDED

    async def is_member(
        self, chat: cg.TargetChat, user_id: int, access_hash: int | None, username: str | None
    ) -> bool:
        """A membership check, to resolve an invite whose result was never recorded."""
        if chat.kind == "group":
            with reading_chat():
                full = await self._client(functions.messages.GetFullChatRequest(chat.chat_id))
            rows = getattr(full.full_chat.participants, "participants", [])
            return any(p.user_id == user_id for p in rows)
        user = await self._input_user(user_id, access_hash, username)
        peer = types.InputPeerUser(user.user_id, user.access_hash)
        try:
            with translated():
                await self._client(functions.channels.GetParticipantRequest(self._channel(chat), peer))
        except tg.TelegramError as exc:
            if exc.rpc == "USER_NOT_PARTICIPANT":
                return False
            raise
        return True

    async def member_ids(self, chat: cg.TargetChat, limit: int, page: int = 200) -> tuple[set[int], bool]:
        """Ids of the chat's members this account can list (newest first, up to `limit`),
        and whether that was all of them. Used by the pre-flight only."""
        if chat.kind == "group":
            with reading_chat():
                full = await self._client(functions.messages.GetFullChatRequest(chat.chat_id))
            rows = getattr(full.full_chat.participants, "participants", [])
            return {p.user_id for p in rows}, True
        seen: set[int] = set()
        offset = 0
        total: int | None = None
        while offset < limit:
            request = functions.channels.GetParticipantsRequest(
                self._channel(chat), types.ChannelParticipantsRecent(), offset, min(page, limit - offset), 0
            )
            with reading_chat():
                answer = await self._client(request)
            if not isinstance(answer, types.channels.ChannelParticipants) or not answer.participants:
                break
            total = answer.count
            seen.update(uid for p in answer.participants if (uid := getattr(p, "user_id", None)) is not None)
            offset += len(answer.participants)
            if total is not None and offset >= total:
                break
        return seen, total is None or offset >= total

    async def invite_link(self, chat: cg.TargetChat) -> str | None:
        """A link the owner can share with the people an invite could not add."""
        peer: Any = (
            types.InputPeerChat(chat.chat_id) if chat.kind == "group"
            else types.InputPeerChannel(chat.chat_id, self._channel(chat).access_hash)
        )
        try:
            with translated():
                answer = await self._client(functions.messages.ExportChatInviteRequest(peer))
        except tg.TelegramError:
            return None
        return getattr(answer, "link", None)


# --- community search ------------------------------------------------------------------------
# One search asks Telegram for little and stays well inside the account lease it runs under:
# a few keyword variants, then the details of the biggest candidates only.
SEARCH_PER_VARIANT = 50  # chats asked per keyword variant
SEARCH_DETAILED = 15  # candidates whose activity is looked at
SEARCH_RECENT_POSTS = 20  # channel posts looked at for comments
SEARCH_THREADS = 2  # comment threads read per channel
SEARCH_RECENT_MESSAGES = 100  # group messages (or comments of a thread) looked at


@dataclass(frozen=True, slots=True)
class CommunityScan:
    """What one account found; `flood_wait_s` is set when Telegram asked it to slow down
    part-way (the rest was left without details) and the account must rest that long."""

    found: list[Community]
    flood_wait_s: int | None = None


_ACCOUNT_GONE = (tg.AccountUnauthorized, tg.AccountBanned, tg.AuthKeyDuplicated)


async def scan_communities(
    account: AccountClient, variants: list[str], *, budget_s: float = 20.0
) -> CommunityScan:
    """Groups and channels matching any of `variants`, with members and recent activity.

    Groups get their member count and the distinct authors of their latest messages;
    broadcast channels whether they have a discussion group and the distinct authors of
    comments under their latest posts. Candidates past `SEARCH_DETAILED` or `budget_s`
    keep what the search itself showed. Raises `FloodWait` only when nothing was found
    before Telegram asked to slow down, and the account errors (`AccountUnauthorized`, ...).
    """
    # The raw client of this very module: the search is a reading feature of the account.
    client = account._client
    chats: dict[int, Any] = {}
    flood: int | None = None
    for variant in variants:
        try:
            with translated():
                found = await client(functions.contacts.SearchRequest(variant, SEARCH_PER_VARIANT))
        except tg.FloodWait as exc:
            if not chats:
                raise
            flood = exc.seconds
            break
        except _ACCOUNT_GONE:
            raise
        except tg.TelegramError:
            continue  # e.g. a variant Telegram finds too short: the others still count
        for chat in found.chats:
            if _searchable(chat):
                chats.setdefault(chat.id, chat)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget_s
    ordered = sorted(chats.values(), key=lambda c: (-(getattr(c, "participants_count", None) or 0), c.id))
    results: list[Community] = []
    for n, chat in enumerate(ordered):
        community = _community_of(chat)
        if flood is None and n < SEARCH_DETAILED and loop.time() < deadline:
            try:
                community = await _detailed(client, chat, community)
            except tg.FloodWait as exc:
                flood = exc.seconds
            except _ACCOUNT_GONE:
                raise
            except tg.TelegramError:
                pass  # this chat cannot be read: it keeps what the search showed
        results.append(community)
    return CommunityScan(results, flood)


def _searchable(chat: Any) -> bool:
    if isinstance(chat, types.Channel):
        return True
    return isinstance(chat, types.Chat) and not chat.deactivated and chat.migrated_to is None


def _community_of(chat: Any, members: int | None = None, has_discussion: bool = False,
                  commenters: int = 0) -> Community:
    if isinstance(chat, types.Channel):
        kind = "channel" if chat.broadcast else "megagroup"
    else:
        kind = "group"
    return Community(
        chat_id=int(chat.id),
        username=getattr(chat, "username", None),
        title=chat.title or "",
        kind=kind,
        members=int(members if members is not None else getattr(chat, "participants_count", None) or 0),
        has_discussion=has_discussion,
        recent_commenters=commenters,
    )


def _user_senders(messages: list[Any]) -> set[int]:
    return {
        m.from_id.user_id for m in messages
        if isinstance(m, types.Message) and isinstance(m.from_id, types.PeerUser)
    }


def _history(peer: Any, limit: int) -> Any:
    return functions.messages.GetHistoryRequest(peer, 0, None, 0, limit, 0, 0, 0)


async def _detailed(client: TelegramClient, chat: Any, community: Community) -> Community:
    if isinstance(chat, types.Chat):
        with reading_chat():
            history = await client(_history(types.InputPeerChat(chat.id), SEARCH_RECENT_MESSAGES))
        return _community_of(chat, community.members, commenters=len(_user_senders(history.messages)))
    if chat.access_hash is None or getattr(chat, "min", False):
        return community  # seen without a usable access hash: nothing more can be asked
    channel = types.InputChannel(chat.id, chat.access_hash)
    peer = types.InputPeerChannel(chat.id, chat.access_hash)
    with reading_chat():
        full = await client(functions.channels.GetFullChannelRequest(channel))
    info = full.full_chat
    members = info.participants_count or community.members
    if not chat.broadcast:
        with reading_chat():
            history = await client(_history(peer, SEARCH_RECENT_MESSAGES))
        return _community_of(chat, members, commenters=len(_user_senders(history.messages)))
    if info.linked_chat_id is None:
        return _community_of(chat, members)
    with reading_chat():
        history = await client(_history(peer, SEARCH_RECENT_POSTS))
    posts = sorted(
        (m for m in history.messages if isinstance(m, types.Message) and _comments(m) > 0),
        key=_comments, reverse=True,
    )
    people: set[int] = set()
    for post in posts:
        people |= {p.user_id for p in post.replies.recent_repliers or () if isinstance(p, types.PeerUser)}
    for post in posts[:SEARCH_THREADS]:
        request = functions.messages.GetRepliesRequest(
            peer, post.id, 0, None, 0, SEARCH_RECENT_MESSAGES, 0, 0, 0
        )
        try:
            with reading_chat():
                replies = await client(request)
        except tg.FloodWait:
            raise
        except tg.SourceError:
            continue
        except tg.TelegramError as exc:
            if exc.rpc == "MSG_ID_INVALID":
                continue
            raise
        people |= _user_senders(replies.messages)
    return _community_of(chat, members, has_discussion=True, commenters=len(people))
