"""SQL for linked Telegram accounts (part of `SqlDal`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import ScalarSelect, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.dto import AccountDTO, AccountStatus, WorkspaceRole
from core.limits import day_start
from core.secretbox import Sealed
from core.telegram import AccountInfo
from db.models import InviteEvent, Membership, TelegramAccount, User


def _used_today() -> ScalarSelect[int]:
    """Invites that spent quota since 00:00 UTC — the day the limits count (`core.limits.day_start`)."""
    return (
        select(func.count())
        .where(
            InviteEvent.account_id == TelegramAccount.id,
            InviteEvent.counted.is_(True),
            InviteEvent.at >= day_start(datetime.now(UTC)),
        )
        .correlate(TelegramAccount)
        .scalar_subquery()
    )


def account_dto(row: TelegramAccount, usage_today: int = 0) -> AccountDTO:
    return AccountDTO(
        id=row.id,
        workspace_id=row.workspace_id,
        tg_user_id=row.tg_user_id,
        username=row.username,
        first_name=row.first_name,
        phone_masked=row.phone_masked,
        status=AccountStatus(row.status),
        status_reason=row.status_reason,
        cooldown_until=row.cooldown_until,
        created_at=row.created_at,
        usage_today=usage_today,
        last_peer_flood_at=row.last_peer_flood_at,
        last_checked_at=row.last_checked_at,
    )


class AccountsSql:
    session: AsyncSession

    async def add_account(
        self,
        workspace_id: int,
        added_by: int,
        info: AccountInfo,
        phone_masked: str | None,
        seal: Callable[[int], Sealed],
    ) -> tuple[AccountDTO, bool]:
        existing = await self.session.scalar(
            select(TelegramAccount)
            .where(
                TelegramAccount.workspace_id == workspace_id,
                TelegramAccount.tg_user_id == info.tg_user_id,
            )
            .with_for_update()
        )
        created = existing is None
        if existing is None:
            # The id is part of the sealed session's associated data: take it first.
            account_id = await self.session.scalar(select(func.nextval("telegram_accounts_id_seq")))
            assert account_id is not None
            sealed = seal(account_id)
            existing = TelegramAccount(
                id=account_id,
                workspace_id=workspace_id,
                added_by_user_id=added_by,
                tg_user_id=info.tg_user_id,
                session_key_id=sealed.key_id,
                session_nonce=sealed.nonce,
                session_ciphertext=sealed.ciphertext,
            )
            self.session.add(existing)
        else:
            sealed = seal(existing.id)
            existing.session_key_id = sealed.key_id
            existing.session_nonce = sealed.nonce
            existing.session_ciphertext = sealed.ciphertext
        existing.username = info.username
        existing.first_name = (info.first_name or "")[:128]
        existing.phone_masked = phone_masked
        existing.status = AccountStatus.ACTIVE
        existing.status_reason = None
        existing.cooldown_until = None
        await self.session.flush()
        await self.session.refresh(existing)
        return account_dto(existing), created

    async def list_accounts(
        self, workspace_id: int, *, after_id: int, limit: int
    ) -> list[AccountDTO]:
        rows = await self.session.execute(
            select(TelegramAccount, _used_today())
            .where(TelegramAccount.workspace_id == workspace_id, TelegramAccount.id > after_id)
            .order_by(TelegramAccount.id)
            .limit(limit)
        )
        return [account_dto(r[0], r[1]) for r in rows]

    async def get_account(self, workspace_id: int, account_id: int) -> AccountDTO | None:
        row = await self.session.scalar(
            select(TelegramAccount).where(
                TelegramAccount.id == account_id, TelegramAccount.workspace_id == workspace_id
            )
        )
        return account_dto(row) if row else None

    async def all_accounts(self, *, after_id: int, limit: int) -> list[AccountDTO]:
        rows = await self.session.scalars(
            select(TelegramAccount)
            .where(TelegramAccount.id > after_id)
            .order_by(TelegramAccount.id)
            .limit(limit)
        )
        return [account_dto(r) for r in rows]

    async def sealed_session(self, account_id: int) -> Sealed | None:
        row = (
            await self.session.execute(
                select(
                    TelegramAccount.session_key_id,
                    TelegramAccount.session_nonce,
                    TelegramAccount.session_ciphertext,
                ).where(TelegramAccount.id == account_id)
            )
        ).one_or_none()
        return Sealed(row[0], row[1], row[2]) if row else None

    async def set_account_status(
        self,
        account_id: int,
        status: AccountStatus,
        reason: str | None,
        cooldown_until: datetime | None = None,
    ) -> AccountDTO | None:
        row = await self.session.scalar(
            select(TelegramAccount).where(TelegramAccount.id == account_id).with_for_update()
        )
        if row is None:
            return None
        before = account_dto(row)
        row.status = status
        row.status_reason = reason
        row.cooldown_until = cooldown_until
        if reason == "PEER_FLOOD":  # remembered: a second one soon after means `restricted`
            row.last_peer_flood_at = datetime.now(UTC)
        await self.session.flush()
        return before

    async def touch_account_checked(self, account_id: int) -> None:
        await self.session.execute(
            update(TelegramAccount)
            .where(TelegramAccount.id == account_id)
            .values(last_checked_at=func.now())
        )

    async def delete_account(self, account_id: int) -> None:
        await self.session.execute(delete(TelegramAccount).where(TelegramAccount.id == account_id))

    async def sealed_batch_not_under(
        self, key_id: str, limit: int
    ) -> list[tuple[int, int, Sealed]]:
        rows = await self.session.execute(
            select(
                TelegramAccount.id,
                TelegramAccount.workspace_id,
                TelegramAccount.session_key_id,
                TelegramAccount.session_nonce,
                TelegramAccount.session_ciphertext,
            )
            .where(TelegramAccount.session_key_id != key_id)
            .order_by(TelegramAccount.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [(r[0], r[1], Sealed(r[2], r[3], r[4])) for r in rows]

    async def replace_sealed(self, account_id: int, sealed: Sealed) -> None:
        await self.session.execute(
            update(TelegramAccount)
            .where(TelegramAccount.id == account_id)
            .values(
                session_key_id=sealed.key_id,
                session_nonce=sealed.nonce,
                session_ciphertext=sealed.ciphertext,
            )
        )

    async def workspace_owner_telegram_id(self, workspace_id: int) -> int | None:
        return await self.session.scalar(
            select(User.telegram_id)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.workspace_id == workspace_id, Membership.role == WorkspaceRole.OWNER)
            .limit(1)
        )
