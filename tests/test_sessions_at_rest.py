"""Linked sessions at rest: sealed, bound to their row, rotatable under load."""

from __future__ import annotations

import asyncio
import base64
import os

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.accounts import AccountService, rotate_session_keys
from core.dto import TelegramProfile
from core.secretbox import SessionCipher, SessionDecryptError
from core.telegram import AccountInfo
from core.users import register
from db.dal import open_dal
from db.models import TelegramAccount


def _session_string() -> str:
    # The shape of a Telethon StringSession: version '1' + base64 of dc, address, port, key.
    return "1" + base64.urlsafe_b64encode(os.urandom(263)).decode()


async def _owner(
    sessionmaker: async_sessionmaker[AsyncSession], tg_id: int = 9001
) -> tuple[int, int]:
    async with open_dal(sessionmaker) as dal:
        user, _ = await register(dal, TelegramProfile(tg_id, f"owner{tg_id}", "O", None, "en"), ())
        ws = (await dal.list_workspaces(user.id))[0].id
    return user.id, ws


@pytest.fixture
def cipher() -> SessionCipher:
    return SessionCipher({"k1": os.urandom(32)})


async def test_no_plaintext_session_anywhere_in_the_database(
    sessionmaker: async_sessionmaker[AsyncSession], cipher: SessionCipher
) -> None:
    user_id, ws = await _owner(sessionmaker)
    service = AccountService(cipher, None)
    sessions = [_session_string() for _ in range(3)]
    for i, session in enumerate(sessions):
        async with open_dal(sessionmaker) as dal:
            _, created = await service.link(
                dal, user_id, ws, AccountInfo(500 + i, f"acc{i}", "A", "+79991234567"), session
            )
            assert created
    async with sessionmaker() as s:
        tables = (
            (
                await s.execute(
                    text(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                    )
                )
            )
            .scalars()
            .all()
        )
        dump = b""
        for table in tables:
            rows = (await s.execute(text(f'SELECT * FROM "{table}"'))).all()
            dump += repr(rows).encode()
        raw = (
            (await s.execute(text("SELECT session_ciphertext FROM telegram_accounts")))
            .scalars()
            .all()
        )
        phones = (
            (await s.execute(text("SELECT phone_masked FROM telegram_accounts"))).scalars().all()
        )
    assert len(raw) == 3
    for session in sessions:
        assert session.encode() not in dump
        assert session[1:41].encode() not in dump  # not even a piece of it
        assert all(session.encode() not in blob for blob in raw)
    assert set(phones) == {"+7********67"}
    async with sessionmaker() as s:
        row = await s.scalar(select(TelegramAccount).limit(1))
    assert (
        row is not None
        and "ciphertext" not in repr(row)
        and repr(row.session_ciphertext) not in repr(row)
    )
    async with open_dal(sessionmaker) as dal:
        accounts = (await service.page(dal, user_id, ws)).items
        assert [await service.session_of(dal, a) for a in accounts] == sessions


async def test_ciphertext_moved_to_another_row_does_not_open(
    sessionmaker: async_sessionmaker[AsyncSession], cipher: SessionCipher
) -> None:
    user_id, ws = await _owner(sessionmaker)
    service = AccountService(cipher, None)
    async with open_dal(sessionmaker) as dal:
        a, _ = await service.link(
            dal, user_id, ws, AccountInfo(1, "a1", "A", None), _session_string()
        )
        b, _ = await service.link(
            dal, user_id, ws, AccountInfo(2, "b2", "B", None), _session_string()
        )
    async with sessionmaker() as s, s.begin():
        row_a = await s.get(TelegramAccount, a.id)
        assert row_a is not None
        await s.execute(
            update(TelegramAccount)
            .where(TelegramAccount.id == b.id)
            .values(
                session_key_id=row_a.session_key_id,
                session_nonce=row_a.session_nonce,
                session_ciphertext=row_a.session_ciphertext,
            )
        )
    async with open_dal(sessionmaker) as dal:
        await service.session_of(dal, a)
        with pytest.raises(SessionDecryptError):
            await service.session_of(dal, b)


async def test_rotation_of_a_thousand_sessions(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    user_id, ws = await _owner(sessionmaker)
    old_key, new_key = os.urandom(32), os.urandom(32)
    old = SessionCipher({"k1": old_key})
    sessions = {}
    async with sessionmaker() as s, s.begin():
        for i in range(1000):
            account_id = await s.scalar(select(text("nextval('telegram_accounts_id_seq')")))
            sessions[account_id] = _session_string()
            sealed = old.seal(sessions[account_id], workspace_id=ws, account_id=account_id)
            s.add(
                TelegramAccount(
                    id=account_id,
                    workspace_id=ws,
                    added_by_user_id=user_id,
                    tg_user_id=10_000 + i,
                    first_name="x",
                    session_key_id=sealed.key_id,
                    session_nonce=sealed.nonce,
                    session_ciphertext=sealed.ciphertext,
                )
            )
    both = SessionCipher({"k1": old_key, "k2": new_key})
    # two rotations at once (e.g. a second operator run): SKIP LOCKED splits the rows
    results = await asyncio.gather(
        rotate_session_keys(lambda: open_dal(sessionmaker), both, batch=100),
        rotate_session_keys(lambda: open_dal(sessionmaker), both, batch=100),
    )
    assert sum(done for done, _ in results) == 1000
    assert sum(failed for _, failed in results) == 0
    async with sessionmaker() as s:
        counts: dict[str, int] = dict(
            (
                await s.execute(
                    text("SELECT session_key_id, count(*) FROM telegram_accounts GROUP BY 1")
                )
            ).all()
        )
    assert counts == {"k2": 1000}
    only_new = SessionCipher({"k2": new_key})
    async with open_dal(sessionmaker) as dal:
        for account_id in list(sessions)[::97]:
            stored = await dal.sealed_session(account_id)
            assert stored is not None
            assert (
                only_new.open(stored, workspace_id=ws, account_id=account_id)
                == sessions[account_id]
            )


async def test_rotation_command_while_the_product_runs(
    sessionmaker: async_sessionmaker[AsyncSession], test_env: dict[str, str]
) -> None:
    """`python -m workers rotate-session-keys` after adding a key to SESSION_KEYS."""
    import subprocess
    import sys

    from core.settings import PROJECT_ROOT, parse_session_keys

    old_keys = test_env["SESSION_KEYS"]
    cipher = SessionCipher(parse_session_keys(old_keys))
    user_id, ws = await _owner(sessionmaker)
    service = AccountService(cipher, None)
    session = _session_string()
    async with open_dal(sessionmaker) as dal:
        account, _ = await service.link(dal, user_id, ws, AccountInfo(3, "c3", "C", None), session)
    new_keys = old_keys + ",k2:" + base64.b64encode(os.urandom(32)).decode()
    env = {**os.environ, **test_env, "SESSION_KEYS": new_keys}
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "workers", "rotate-session-keys"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "re-sealed 1 session(s) under key 'k2'; 0 could not be decrypted" in result.stdout
    rotated = SessionCipher(parse_session_keys(new_keys))
    async with open_dal(sessionmaker) as dal:
        assert await AccountService(rotated, None).session_of(dal, account) == session
        sealed = await dal.sealed_session(account.id)
    assert sealed is not None and sealed.key_id == "k2"
