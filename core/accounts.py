"""Linked Telegram accounts: linking, listing, enabling, unlinking, status changes, key rotation.

Who may do what (DESIGN §2): any member of the workspace links accounts and disables or
enables them; only the owner unlinks. Status changes are told to the workspace owner.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

from core.dto import AccountDTO, AccountStatus
from core.errors import NotFound
from core.interfaces import Dal, Notifier
from core.limits import InviteLimits, rest_after_flood
from core.outcomes import Concerns, Refusal
from core.pagination import Page, read_page
from core.secretbox import SessionCipher, SessionDecryptError
from core.settings import Settings, parse_session_keys
from core.telegram import AccountInfo, mask_phone
from core.users import ensure_owner, require_workspace

# Statuses a health check looks at; `disabled` is the owner's choice, `banned` is final.
# Restricted and frozen accounts are looked at too: Telegram may lift either.
CHECKED_STATUSES = (
    AccountStatus.ACTIVE,
    AccountStatus.COOLDOWN,
    AccountStatus.PARKED,
    AccountStatus.RESTRICTED,
    AccountStatus.FROZEN,
    AccountStatus.UNAUTHORIZED,
)


DISABLED_BY_USER = "by_user"
# Statuses only Telegram's word (asked by the health check) lifts: never the clock, a
# click of the owner or a flood wait met meanwhile.
TELEGRAM_VERDICTS = frozenset(
    {AccountStatus.PARKED, AccountStatus.RESTRICTED, AccountStatus.FROZEN}
)
_VERDICT_NAMES = frozenset(s.value for s in TELEGRAM_VERDICTS)


def account_label(username: str | None, first_name: str) -> str:
    """How an account is named to people: `@username`, else its first name."""
    return f"@{username}" if username else first_name


async def _account_in(dal: Dal, workspace_id: int, account_id: int) -> AccountDTO:
    """The workspace's account (the caller's membership already checked); else `NotFound`."""
    account = await dal.get_account(workspace_id, account_id)
    if account is None:
        raise NotFound("account", account_id=account_id)
    return account


class AccountService:
    def __init__(self, cipher: SessionCipher, notifier: Notifier | None) -> None:
        self._cipher = cipher
        self._notifier = notifier

    async def link(
        self, dal: Dal, user_id: int, workspace_id: int, info: AccountInfo, session: str
    ) -> tuple[AccountDTO, bool]:
        """Store a freshly authorized session (sealed); linking it again refreshes it."""
        await require_workspace(dal, user_id, workspace_id)
        account, created = await dal.add_account(
            workspace_id,
            user_id,
            info,
            mask_phone(info.phone),
            lambda account_id: self._cipher.seal(
                session, workspace_id=workspace_id, account_id=account_id
            ),
        )
        await dal.audit(
            "account.linked" if created else "account.relinked",
            actor_user_id=user_id,
            workspace_id=workspace_id,
            details={"account_id": account.id, "tg_user_id": info.tg_user_id},
        )
        await dal.commit()
        return account, created

    async def page(
        self, dal: Dal, user_id: int, workspace_id: int, *, cursor: int = 0, limit: int = 50
    ) -> Page[AccountDTO]:
        await require_workspace(dal, user_id, workspace_id)
        return await read_page(
            lambda n: dal.list_accounts(workspace_id, after_id=cursor, limit=n),
            limit,
            lambda a: a.id,
        )

    async def get(self, dal: Dal, user_id: int, workspace_id: int, account_id: int) -> AccountDTO:
        await require_workspace(dal, user_id, workspace_id)
        return await _account_in(dal, workspace_id, account_id)

    async def set_enabled(
        self, dal: Dal, user_id: int, workspace_id: int, account_id: int, *, enabled: bool
    ) -> AccountDTO:
        """Disable or enable an account. Disabling keeps what Telegram said of it, so that
        enabling a spam-restricted, frozen or parked account never skips Telegram's verdict:
        it comes back `parked` past its rest, and the next health check asks @SpamBot."""
        account = await self.get(dal, user_id, workspace_id, account_id)
        if enabled and account.status is AccountStatus.DISABLED:
            before = (account.status_reason or "").removeprefix(f"{DISABLED_BY_USER}:")
            if before in _VERDICT_NAMES:
                await dal.set_account_status(
                    account.id, AccountStatus.PARKED, "re_enabled", datetime.now(UTC)
                )
            else:
                await dal.set_account_status(account.id, AccountStatus.ACTIVE, None)
        elif not enabled and account.status is not AccountStatus.DISABLED:
            reason = DISABLED_BY_USER
            if account.status in TELEGRAM_VERDICTS:
                reason = f"{DISABLED_BY_USER}:{account.status.value}"
            await dal.set_account_status(account.id, AccountStatus.DISABLED, reason)
        else:
            return account
        await dal.audit(
            "account.enabled" if enabled else "account.disabled",
            actor_user_id=user_id,
            workspace_id=workspace_id,
            details={"account_id": account.id},
        )
        await dal.commit()
        return await self.get(dal, user_id, workspace_id, account_id)

    async def check_unlink(
        self, dal: Dal, user_id: int, workspace_id: int, account_id: int
    ) -> AccountDTO:
        """The account, if this user may unlink it: only the owner (others: `Forbidden`)."""
        role = await require_workspace(dal, user_id, workspace_id)
        account = await _account_in(dal, workspace_id, account_id)
        ensure_owner(role)
        return account

    async def forget(
        self, dal: Dal, user_id: int, account: AccountDTO, *, logged_out: bool
    ) -> None:
        await dal.delete_account(account.id)
        await dal.audit(
            "account.unlinked",
            actor_user_id=user_id,
            workspace_id=account.workspace_id,
            details={
                "account_id": account.id,
                "tg_user_id": account.tg_user_id,
                "logged_out": logged_out,
            },
        )
        await dal.commit()

    async def session_of(self, dal: Dal, account: AccountDTO) -> str:
        """Decrypt the session: only for the process holding the account's lease."""
        sealed = await dal.sealed_session(account.id)
        if sealed is None:
            raise NotFound("account", account_id=account.id)
        return self._cipher.open(sealed, workspace_id=account.workspace_id, account_id=account.id)

    async def change_status(
        self,
        dal: Dal,
        account_id: int,
        status: AccountStatus,
        reason: str | None,
        *,
        cooldown_until: datetime | None = None,
    ) -> bool:
        """Record a status; when it differs from before, the workspace owner is told."""
        before = await dal.set_account_status(account_id, status, reason, cooldown_until)
        if before is None:
            await dal.rollback()
            return False
        changed = before.status is not status
        if changed:
            await dal.audit(
                "account.status",
                workspace_id=before.workspace_id,
                details={
                    "account_id": account_id,
                    "from": before.status.value,
                    "to": status.value,
                    "reason": reason or "",
                },
            )
        owner = await dal.workspace_owner_telegram_id(before.workspace_id) if changed else None
        await dal.commit()
        if owner is not None and self._notifier is not None:
            await self._notifier.notify(
                owner,
                "account_status",
                {
                    "account": account_label(before.username, before.first_name),
                    "status": status.value,
                    "reason": reason or "",
                },
            )
        return changed


async def rotate_session_keys(
    open_dal: Callable[[], AbstractAsyncContextManager[Dal]],
    cipher: SessionCipher,
    *,
    batch: int = 100,
) -> tuple[int, int]:
    """Re-seal every session under the newest key, batch by batch, while the product runs.

    Rows are locked with SKIP LOCKED, so two rotations (or a rotation and a relink) never
    fight. Returns (re-sealed, undecryptable); undecryptable rows are left as they are.
    """
    done = failed = 0
    skip: set[int] = set()
    while True:
        async with open_dal() as dal:
            rows = [
                r
                for r in await dal.sealed_batch_not_under(cipher.current_key_id, batch + len(skip))
                if r[0] not in skip
            ][:batch]
            if not rows:
                return done, failed
            for account_id, workspace_id, sealed in rows:
                try:
                    fresh = cipher.reseal(sealed, workspace_id=workspace_id, account_id=account_id)
                except SessionDecryptError:
                    failed += 1
                    skip.add(account_id)
                    continue
                if fresh is not None:
                    await dal.replace_sealed(account_id, fresh)
                    done += 1
            await dal.commit()


def build_account_service(settings: Settings, notifier: Notifier | None) -> AccountService:
    return AccountService(
        SessionCipher(parse_session_keys(settings.session_keys.get_secret_value())), notifier
    )


# A PEER_FLOOD within this long of the previous one makes the account `restricted`: the
# day's rest did not lift Telegram's limit, so only @SpamBot can say when it ends.
PEER_FLOOD_REPEAT_S = 7 * 86400


def status_after(
    refusal: Refusal,
    account: AccountDTO,
    now: datetime,
    limits: InviteLimits,
    wait_s: int | None = None,
) -> tuple[AccountStatus, datetime | None] | None:
    """The status one of Telegram's refusals gives the account that met it, and until when
    (None: the status does not change — e.g. lost rights in one chat only).

    FLOOD_WAIT_X: `cooldown` for X s plus the buffer. PEER_FLOOD: `parked` for the park
    time, `restricted` when it comes again within `PEER_FLOOD_REPEAT_S`. Restricted, frozen,
    unauthorized and banned accounts have no end time: a check (@SpamBot, the health check,
    linking again) ends them.
    """
    if refusal.concerns is not Concerns.ACCOUNT or refusal.status is None:
        return None
    status = refusal.status
    if status is AccountStatus.COOLDOWN:
        return status, rest_after_flood(now, wait_s or 0, limits.flood_buffer_s)
    if status is AccountStatus.PARKED:
        last = account.last_peer_flood_at
        if last is not None and now - last < timedelta(seconds=PEER_FLOOD_REPEAT_S):
            return AccountStatus.RESTRICTED, None
        return status, now + timedelta(seconds=limits.peer_flood_park_s)
    return status, None


def can_work(account: AccountDTO, now: datetime) -> bool:
    """Whether an account may be used now: active, or cooling down past its flood wait.

    A `parked` account (PEER_FLOOD, or errors nobody described) does not go back to work by
    the clock: after its rest the health check asks @SpamBot, and only its answer makes it
    `active` again (DESIGN §5).
    """
    if account.status is AccountStatus.ACTIVE:
        return True
    if account.status is AccountStatus.COOLDOWN:
        return account.cooldown_until is None or account.cooldown_until <= now
    return False
