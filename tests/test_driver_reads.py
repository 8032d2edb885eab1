"""Reads through the driver (`db/driver.py`) see what the same unit of work wrote and has not
sent yet, as a statement through the SQLAlchemy session does (its autoflush): a membership
added to the session is read back before the commit, and an object changed in the session
is read as changed. A unit of work that rolls back leaves nothing behind."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.dto import TelegramProfile, WorkspaceRole
from core.users import register
from db.dal import open_dal
from db.driver import fetchval
from db.models import Membership, User


async def test_a_read_through_the_driver_sees_what_is_not_sent_yet(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with open_dal(sessionmaker) as dal:
        owner, _ = await register(
            dal, TelegramProfile(990_001, "drv_owner", "Dora", None, "en"), ()
        )
        other, _ = await register(
            dal, TelegramProfile(990_002, "drv_other", "Olga", None, "en"), ()
        )
        team = (await dal.list_workspaces(owner.id))[0].id
    async with open_dal(sessionmaker) as dal:
        dal.session.add(Membership(workspace_id=team, user_id=other.id, role=WorkspaceRole.MANAGER))
        assert dal.session.new  # not sent yet
        assert await dal.workspace_role(other.id, team) is WorkspaceRole.MANAGER
        assert team in [w.id for w in await dal.list_workspaces(other.id)]
        row = await dal.session.scalar(select(User).where(User.id == owner.id))
        assert row is not None
        row.first_name = "Renamed"
        assert dal.session.dirty
        found = await dal.get_user(owner.id)
        assert found is not None and found.first_name == "Renamed"
        await dal.rollback()
    async with open_dal(sessionmaker) as dal:
        assert await dal.workspace_role(other.id, team) is None
        found = await dal.get_user(owner.id)
        assert found is not None and found.first_name == "Dora"


async def test_the_products_connections_run_without_jit(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Set when a connection opens (`db.engine._no_jit`), and kept through the transactions
    and rollbacks of the units of work that use it after."""
    for _ in range(3):  # the pool hands the same connection back each time
        async with sessionmaker() as session:
            assert await session.scalar(text("SHOW jit")) == "off"  # inside a transaction
            await session.rollback()
            assert await fetchval(session, "SHOW jit") == "off"
