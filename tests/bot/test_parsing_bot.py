"""/parse, /tasks and /audiences through the real Dispatcher: rows, messages, buttons, files."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram import Bot
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendDocument, SendMessage
from redis.asyncio import Redis
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.dto import MemberDTO, WorkspaceRole
from core.i18n import t
from core.parsing import MAX_POSTS, ParseStatus
from core.settings import Settings
from db.dal import open_dal
from db.kv import NOTIFY_GROUP, NOTIFY_STREAM, RedisNotifier
from db.models import Audience, AudienceMember, AudienceUsername, Membership, ParseTask, User
from gateway.telegram import TelegramGateway
from sandbox.world import World
from tests.bot.conftest import RecordingSession, TgUser, only_the_hint
from tests.bot.test_notices import notices_running
from tests.invites.conftest import OWNER_TG, link_accounts


def buttons(markup: Any) -> list[tuple[str, str]]:
    if markup is None:
        return []
    return [(b.text, b.callback_data) for row in markup.inline_keyboard for b in row]


def replies(calls: list[Any]) -> list[SendMessage]:
    return [c for c in calls if isinstance(c, SendMessage)]


async def tasks(sessionmaker: async_sessionmaker[AsyncSession]) -> list[ParseTask]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(ParseTask).order_by(ParseTask.id)))


async def workspace_of(
    sessionmaker: async_sessionmaker[AsyncSession], telegram_id: int
) -> tuple[int, int]:
    async with open_dal(sessionmaker) as dal:
        user = await dal.get_user_by_telegram_id(telegram_id)
        assert user is not None
        return user.id, (await dal.list_workspaces(user.id))[0].id


async def parse(user: TgUser, text: str) -> SendMessage:
    (reply,) = replies(await user.send(text))
    return reply


# --- /parse ------------------------------------------------------------------------------
async def test_parse_queues_a_task_and_remembers_its_message(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    nina = make_user(6001, language_code="en")
    reply = await parse(nina, "/parse https://t.me/Some_Group")

    (task,) = await tasks(sessionmaker)
    _, ws = await workspace_of(sessionmaker, 6001)
    assert (task.source, str(task.kind), task.speed, task.priority) == (
        "@some_group",
        "members",
        "medium",
        1,
    )
    assert task.status is ParseStatus.QUEUED
    assert reply.text.startswith(
        t(
            "en",
            "task.head",
            id=task.id,
            source="@some_group",
            kind=t("en", "task.kind.members"),
            audience="@some_group",
        )
    )
    assert t("en", "task.status", status=t("en", "task.state.queued")) in reply.text
    assert buttons(reply.reply_markup) == [
        (t("en", "task.pause"), f"pt:pause:{ws}:{task.id}"),
        (t("en", "task.cancel"), f"pt:cancel:{ws}:{task.id}"),
    ]
    # The acknowledgment (the bot's first message: id 1000) is what progress notices edit.
    assert (task.notify_chat_id, task.notify_message_id) == (6001, 1000)

    reply = await parse(
        nina, "/parse @news_channel comments speed=fast priority=high posts=50 audience=“My list”"
    )
    second = (await tasks(sessionmaker))[1]
    assert (str(second.kind), second.speed, second.priority, second.params["posts"]) == (
        "comments",
        "fast",
        0,
        50,
    )
    async with sessionmaker() as session:
        audience = await session.get(Audience, second.audience_id)
    assert audience is not None and audience.name == "My list"
    assert "«My list»" in reply.text


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_bad_input_is_explained_and_creates_nothing(
    lang: str, make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    user = make_user(6010 if lang == "en" else 6011, language_code=lang)

    def invalid(key: str, **params: Any) -> str:
        return t(lang, "parse.invalid", problem=t(lang, key, **params))

    assert (await parse(user, "/parse")).text == t(lang, "parse.usage")
    # Private chats by invite link need an account to join them; this user has none.
    assert (await parse(user, "/parse https://t.me/+AbCdEf123")).text == invalid(
        "problem.no_join_account"
    )
    assert (await parse(user, "/parse t.me/joinchat/AbCdEf")).text == invalid(
        "problem.no_join_account"
    )
    assert (await parse(user, "/parse https://example.com/group")).text == invalid(
        "problem.bad_link"
    )
    assert (await parse(user, "/parse @ab")).text == invalid("problem.bad_link")
    assert (await parse(user, "/parse @some_group speed=warp")).text == invalid("problem.speed")
    assert (await parse(user, "/parse @some_group priority=urgent")).text == invalid(
        "problem.priority"
    )
    assert (await parse(user, "/parse @some_group posts=many")).text == invalid(
        "problem.posts", max=MAX_POSTS
    )
    assert (await parse(user, "/parse @some_group posts=5000")).text == invalid(
        "problem.posts", max=MAX_POSTS
    )
    assert (await parse(user, "/parse @some_group everyone")).text == invalid(
        "problem.option", option="everyone"
    )
    assert (await parse(user, "/parse @some_group colour=red")).text == invalid(
        "problem.option", option="colour=red"
    )
    assert (await parse(user, '/parse @some_group audience="unclosed')).text == invalid(
        "problem.quotes"
    )
    assert (await parse(user, "/parse @some_group audience=" + "x" * 129)).text == invalid(
        "problem.name", max=128
    )
    # Commands in groups are not where collections start.
    group_calls = await user.send_in_group("/parse @some_group")
    assert [c.text for c in replies(group_calls)] == [t(lang, "private_only")]
    assert await tasks(sessionmaker) == []


async def test_a_source_telegram_does_not_know_is_refused_before_anything_is_saved(
    make_user: Callable[..., TgUser],
    world: World,
    gateway: TelegramGateway,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    await link_accounts(world, gateway, sessionmaker, settings, [901])
    world.put_users([{"id": 4243, "first_name": "Pat", "username": "pat_person"}])
    world.put_chat(1_700_555, "megagroup", "Real", username="real_group", creator=901)
    owner = make_user(OWNER_TG, language_code="ru")

    def invalid(key: str, source: str) -> str:
        return t("ru", "parse.invalid", problem=t("ru", key, source=source))

    assert (await parse(owner, "/parse @no_such_group_x")).text == invalid(
        "problem.source_not_found", "@no_such_group_x"
    )
    assert (await parse(owner, "/parse https://t.me/pat_person")).text == invalid(
        "problem.source_is_person", "@pat_person"
    )
    assert await tasks(sessionmaker) == []
    async with sessionmaker() as session:
        assert list(await session.scalars(select(Audience))) == []

    await parse(owner, "/parse @real_group")
    (task,) = await tasks(sessionmaker)
    assert task.source == "@real_group" and task.status is ParseStatus.QUEUED
    # The account's lease went back at once: a worker can use it.
    async with sessionmaker() as session:
        free = await session.scalar(
            text("SELECT bool_and(expires_at <= clock_timestamp()) FROM account_leases")
        )
    assert free is True


async def test_buttons_pause_resume_and_cancel_the_task(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    olga = make_user(6020, language_code="ru")
    ack = await parse(olga, "/parse @some_group")
    (task,) = await tasks(sessionmaker)
    ws, tid, mid = task.workspace_id, task.id, task.notify_message_id
    assert mid is not None

    calls = await olga.press(ack, f"pt:pause:{ws}:{tid}", message_id=mid)
    (edit,) = [c for c in calls if isinstance(c, EditMessageText)]
    assert (await tasks(sessionmaker))[0].status is ParseStatus.PAUSED
    assert t("ru", "task.status", status=t("ru", "task.state.paused")) in edit.text
    assert t("ru", "task.paused_hint") in edit.text
    assert buttons(edit.reply_markup) == [
        (t("ru", "task.resume"), f"pt:resume:{ws}:{tid}"),
        (t("ru", "task.cancel"), f"pt:cancel:{ws}:{tid}"),
    ]
    assert [c.text for c in calls if isinstance(c, AnswerCallbackQuery)] == [
        t("ru", "task.paused_done")
    ]

    await olga.press(ack, f"pt:resume:{ws}:{tid}", message_id=mid)
    assert (await tasks(sessionmaker))[0].status is ParseStatus.QUEUED

    calls = await olga.press(ack, f"pt:cancel:{ws}:{tid}", message_id=mid)
    (edit,) = [c for c in calls if isinstance(c, EditMessageText)]
    assert (await tasks(sessionmaker))[0].status is ParseStatus.CANCELLED
    assert edit.reply_markup is None
    assert t("ru", "task.summary_cancelled", collected=0, new=0) in edit.text

    # A stale button of a finished task changes nothing and says why.
    calls = await olga.press(ack, f"pt:pause:{ws}:{tid}", message_id=mid)
    (alert,) = [c for c in calls if isinstance(c, AnswerCallbackQuery)]
    assert alert.text == t("ru", "task.cannot", status=t("ru", "task.state.cancelled"))
    assert (await tasks(sessionmaker))[0].status is ParseStatus.CANCELLED

    # Someone outside the workspace learns nothing.
    stranger = make_user(6021, language_code="en")
    calls = await stranger.press(ack, f"pt:resume:{ws}:{tid}")
    assert [(type(c), c.text) for c in calls] == [(AnswerCallbackQuery, t("en", "error.not_found"))]


# --- progress notices ----------------------------------------------------------------------
async def _set_row(
    sessionmaker: async_sessionmaker[AsyncSession], task_id: int, **values: Any
) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(update(ParseTask).where(ParseTask.id == task_id).values(**values))


async def drained(redis: Redis) -> None:
    """Until the bot has read and handled every notice on the stream."""
    async with asyncio.timeout(10):
        while True:
            latest = (await redis.xrevrange(NOTIFY_STREAM, count=1))[0][0]
            group = next(
                g
                for g in await redis.xinfo_groups(NOTIFY_STREAM)
                if g["name"] == NOTIFY_GROUP.encode()
            )
            if group["last-delivered-id"] == latest and not group["pending"]:
                return
            await asyncio.sleep(0.02)


async def _edits(recording: RecordingSession, message_id: int, count: int) -> list[EditMessageText]:
    async with asyncio.timeout(10):
        while True:
            found = [e for e in recording.sent(EditMessageText) if e.message_id == message_id]
            if len(found) >= count:
                return found
            await asyncio.sleep(0.02)


async def test_progress_and_done_notices_edit_the_one_message(
    make_user: Callable[..., TgUser],
    bot: Bot,
    recording: RecordingSession,
    redis: Redis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    eve = make_user(6030, language_code="en")
    await parse(eve, "/parse @big_group")
    (task,) = await tasks(sessionmaker)
    mid = task.notify_message_id
    assert mid is not None
    started = datetime.now(UTC) - timedelta(seconds=65)
    await _set_row(
        sessionmaker,
        task.id,
        status=ParseStatus.RUNNING,
        started_at=started,
        source_title="Big group",
        progress_done=150,
        progress_total=600,
        collected=120,
        new_members=100,
        skipped=30,
        accounts_used={"1": 140, "2": 10},
    )
    notifier = RedisNotifier(redis)

    async with notices_running(bot, redis, sessionmaker):
        await notifier.notify(6030, "parse_progress", {"task_id": str(task.id)})
        (edit,) = await _edits(recording, mid, 1)
        assert edit.chat_id == 6030
        lines = edit.text.splitlines()
        assert lines[0] == f"Collection #{task.id}: Big group (@big_group) · group members"
        assert "Status: running" in lines
        assert "Fetched: 150 of ~600 (25%)" in lines
        assert "Collected: 120 (new: 100, already known: 20)" in lines
        assert "Skipped by filters: 30" in lines
        assert "Accounts used: 2" in lines
        assert any(re.fullmatch(r"Elapsed: 1 min [5-9] s", line) for line in lines), lines
        assert buttons(edit.reply_markup)[0][1] == f"pt:pause:{task.workspace_id}:{task.id}"

        # Edits of one message are spaced out; the end is always shown.
        await _set_row(sessionmaker, task.id, progress_done=300)
        await notifier.notify(6030, "parse_progress", {"task_id": str(task.id)})
        await drained(redis)
        await _set_row(
            sessionmaker,
            task.id,
            status=ParseStatus.DONE,
            progress_done=600,
            collected=480,
            new_members=400,
            skipped=120,
            found_by_search=12,
            finished_at=started + timedelta(seconds=125),
        )
        await notifier.notify(6030, "parse_done", {"task_id": str(task.id)})
        edits = await _edits(recording, mid, 2)
        await asyncio.sleep(0.2)
        edits = [e for e in recording.sent(EditMessageText) if e.message_id == mid]

    assert len(edits) == 2
    done = edits[-1]
    assert done.reply_markup is None
    assert t("en", "task.summary_done", collected=480, new=400, known=80, skipped=120) in done.text
    assert t("en", "task.summary_found", found=12) in done.text
    assert "Elapsed: 2 min 5 s" in done.text
    assert "Fetched: 600" in done.text.splitlines()


@pytest.mark.parametrize(
    "code",
    [
        "no_discussion",
        "not_a_group",
        "no_access",
        "no_accounts",
        "source_not_found",
        "invite_expired",
    ],
)
async def test_failure_reason_in_the_users_language(
    code: str,
    make_user: Callable[..., TgUser],
    bot: Bot,
    recording: RecordingSession,
    redis: Redis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    from bot.notices import deliver

    ivan = make_user(6040, language_code="ru")
    await parse(ivan, "/parse @some_channel comments")
    (task,) = await tasks(sessionmaker)
    await _set_row(
        sessionmaker, task.id, status=ParseStatus.FAILED, error=code, finished_at=datetime.now(UTC)
    )
    await deliver(bot, sessionmaker, 6040, "parse_done", {"task_id": str(task.id)}, redis=redis)
    (edit,) = recording.sent(EditMessageText)
    assert t("ru", "task.summary_failed", reason=t("ru", f"parse.error.{code}")) in edit.text
    assert edit.reply_markup is None


async def test_a_task_without_a_message_gets_its_summary_sent(
    make_user: Callable[..., TgUser],
    bot: Bot,
    recording: RecordingSession,
    redis: Redis,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A task created in the web panel has no progress message: its end is still told."""
    from bot.notices import deliver

    await parse(make_user(6045, language_code="en"), "/parse @some_group")
    (task,) = await tasks(sessionmaker)
    await _set_row(sessionmaker, task.id, notify_chat_id=None, notify_message_id=None)
    await deliver(bot, sessionmaker, 6045, "parse_progress", {"task_id": str(task.id)}, redis=redis)
    before = len(recording.sent())
    await _set_row(
        sessionmaker,
        task.id,
        status=ParseStatus.DONE,
        collected=3,
        new_members=3,
        finished_at=datetime.now(UTC),
    )
    await deliver(bot, sessionmaker, 6045, "parse_done", {"task_id": str(task.id)}, redis=redis)
    sent = recording.sent()[before:]
    assert len(sent) == 1 and sent[0].chat_id == 6045
    assert t("en", "task.summary_done", collected=3, new=3, known=0, skipped=0) in sent[0].text


# --- /tasks --------------------------------------------------------------------------------
async def test_tasks_lists_newest_first_with_controls_and_pages(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    lena = make_user(6050, language_code="en")
    assert (await parse(lena, "/tasks")).text == t("en", "tasks.empty")
    for n in range(12):
        await parse(lena, f"/parse @group_{n:02d}")
    rows = await tasks(sessionmaker)
    ws = rows[0].workspace_id
    await _set_row(
        sessionmaker,
        rows[-1].id,
        status=ParseStatus.RUNNING,
        progress_done=50,
        progress_total=200,
        collected=40,
    )
    await _set_row(
        sessionmaker, rows[-2].id, status=ParseStatus.DONE, progress_done=10, collected=9
    )

    listing = await parse(lena, "/tasks")
    items = [line for line in listing.text.splitlines() if line.startswith("• ")]
    assert [int(re.match(r"• #(\d+)", line).group(1)) for line in items] == [
        r.id for r in rows[::-1][:10]
    ]  # type: ignore[union-attr]
    assert "fetched 50 of ~200 (25%), collected 40" in listing.text
    kb = buttons(listing.reply_markup)
    newest, done = rows[-1].id, rows[-2].id
    assert (t("en", "tasks.pause", id=newest), f"tl:pause:{ws}:{newest}:0") in kb
    assert not [b for b in kb if f":{done}:" in b[1]]  # a finished task has no controls
    assert kb[-1] == (t("en", "list.next_page"), f"tl:page:{ws}:{rows[2].id}:0")

    calls = await lena.press(listing, f"tl:pause:{ws}:{newest}:0", message_id=555)
    assert (await tasks(sessionmaker))[-1].status is ParseStatus.PAUSED
    edits = [c for c in calls if isinstance(c, EditMessageText)]
    # the list redrawn in place, and the task's own progress message as well
    assert {e.message_id for e in edits} == {555, rows[-1].notify_message_id}
    (redrawn,) = [e for e in edits if e.message_id == 555]
    assert (t("en", "tasks.resume", id=newest), f"tl:resume:{ws}:{newest}:0") in buttons(
        redrawn.reply_markup
    )

    calls = await lena.press(listing, f"tl:page:{ws}:{rows[2].id}:0", message_id=555)
    (page2,) = [c for c in calls if isinstance(c, EditMessageText)]
    assert [int(m) for m in re.findall(r"• #(\d+)", page2.text)] == [rows[1].id, rows[0].id]
    assert buttons(page2.reply_markup)[-1] == (t("en", "list.first_page"), f"tl:page:{ws}:0:0")


# --- /audiences ----------------------------------------------------------------------------
async def _audience_with_members(
    sessionmaker: async_sessionmaker[AsyncSession],
    workspace_id: int,
    user_id: int,
    name: str,
    ids: list[int],
) -> int:
    async with open_dal(sessionmaker) as dal:
        audience = await dal.create_audience(workspace_id, name, "@src", user_id)
        await dal.add_members(
            audience.id,
            [
                MemberDTO(i, f"user{i}", f"First{i}", None, "recently", i % 2 == 0, False, "@src")
                for i in ids
            ],
            [],
            "@src",
        )
        await dal.commit()
        return audience.id


async def test_audiences_export_sends_a_csv_document(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    mark = make_user(6060, language_code="en")
    assert (await parse(mark, "/audiences")).text == t("en", "audiences.empty")
    user_id, ws = await workspace_of(sessionmaker, 6060)
    audience_id = await _audience_with_members(sessionmaker, ws, user_id, "Cats", [11, 12, 13])

    listing = await parse(mark, "/audiences")
    assert t("en", "audiences.item", name="Cats", size=3) in listing.text
    assert buttons(listing.reply_markup) == [
        (t("en", "audiences.export", name="Cats"), f"au:export:{ws}:{audience_id}"),
        (t("en", "audiences.import", name="Cats"), f"au:import:{ws}:{audience_id}"),
        (t("en", "audiences.delete", name="Cats"), f"au:delete:{ws}:{audience_id}"),
    ]

    calls = await mark.press(listing, f"au:export:{ws}:{audience_id}")
    (document,) = [c for c in calls if isinstance(c, SendDocument)]
    assert document.document.filename == f"audience-{audience_id}.csv"  # type: ignore[union-attr]
    assert document.caption == t("en", "audiences.export_caption", name="Cats", size=3)
    rows = list(csv.reader(io.StringIO(document.document.data.decode())))  # type: ignore[union-attr]
    assert rows[0] == [
        "user_id",
        "username",
        "first_name",
        "last_name",
        "last_seen",
        "premium",
        "photo",
        "source",
    ]
    assert [r[:3] for r in rows[1:]] == [
        ["11", "user11", "First11"],
        ["12", "user12", "First12"],
        ["13", "user13", "First13"],
    ]

    stranger = make_user(6061, language_code="en")
    calls = await stranger.press(listing, f"au:export:{ws}:{audience_id}")
    assert not [c for c in calls if isinstance(c, SendDocument)]
    assert [c.text for c in calls if isinstance(c, AnswerCallbackQuery)] == [
        t("en", "error.not_found")
    ]


async def test_import_by_sending_a_document_reports_bad_lines(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    rita = make_user(6070, language_code="ru")
    await rita.send("/start")
    user_id, ws = await workspace_of(sessionmaker, 6070)
    audience_id = await _audience_with_members(sessionmaker, ws, user_id, "Коты", [11])
    listing = await parse(rita, "/audiences")

    calls = await rita.press(listing, f"au:import:{ws}:{audience_id}")
    assert [c.text for c in replies(calls)] == [t("ru", "audiences.import_ask", name="Коты")]
    assert [c.text for c in replies(await rita.send("просто текст"))] == [
        t("ru", "audiences.import_not_document")
    ]

    data = b"user_id,username\n11,user11\n21,\n,bad-name!\n-5,\n,@fresh_name\n22,good_name\n"
    calls = await rita.send_document("people.csv", data)
    (report,) = replies(calls)
    assert report.text.splitlines()[0] == t(
        "ru",
        "audiences.import_report",
        name="Коты",
        lines=6,
        accepted=4,
        new_members=2,
        new_usernames=1,
    )
    assert t("ru", "audiences.import_errors", count=2) in report.text
    assert (
        t(
            "ru",
            "audiences.import_line_value",
            line=4,
            problem=t("ru", "import.problem.bad_username"),
            value="bad-name!",
        )
        in report.text
    )
    assert (
        t(
            "ru",
            "audiences.import_line_value",
            line=5,
            problem=t("ru", "import.problem.bad_user_id"),
            value="-5",
        )
        in report.text
    )
    async with sessionmaker() as session:
        ids = set(
            await session.scalars(
                select(AudienceMember.tg_user_id).where(AudienceMember.audience_id == audience_id)
            )
        )
        names = set(
            await session.scalars(
                select(AudienceUsername.username).where(AudienceUsername.audience_id == audience_id)
            )
        )
    assert ids == {11, 21, 22} and names == {"fresh_name"}
    # The wait is over: the next document is not taken as an import.
    assert only_the_hint(await rita.send_document("again.csv", b"99\n"), "ru")


async def test_import_waits_can_be_cancelled(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    kim = make_user(6075, language_code="en")
    await kim.send("/start")
    user_id, ws = await workspace_of(sessionmaker, 6075)
    audience_id = await _audience_with_members(sessionmaker, ws, user_id, "Dogs", [])
    listing = await parse(kim, "/audiences")
    await kim.press(listing, f"au:import:{ws}:{audience_id}")
    assert (await parse(kim, "/cancel")).text == t("en", "audiences.import_cancelled")
    assert only_the_hint(await kim.send_document("late.csv", b"42\n"), "en")


async def test_delete_needs_the_owner_and_a_confirmation(
    make_user: Callable[..., TgUser], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    owner = make_user(6080, language_code="en")
    await owner.send("/start")
    user_id, ws = await workspace_of(sessionmaker, 6080)
    audience_id = await _audience_with_members(sessionmaker, ws, user_id, "Birds", [1, 2])
    listing = await parse(owner, "/audiences")

    manager = make_user(6081, language_code="ru")
    await manager.send("/start")
    async with sessionmaker() as session:
        manager_id = await session.scalar(select(User.id).where(User.telegram_id == 6081))
        session.add(Membership(workspace_id=ws, user_id=manager_id, role=WorkspaceRole.MANAGER))
        await session.commit()
    for data in (f"au:delete:{ws}:{audience_id}", f"au:yes:{ws}:{audience_id}"):
        calls = await manager.press(listing, data)
        assert [(type(c), c.text, c.show_alert) for c in calls] == [
            (AnswerCallbackQuery, t("ru", "error.forbidden"), True)
        ]
    # a manager still exports
    assert [
        c
        for c in await manager.press(listing, f"au:export:{ws}:{audience_id}")
        if isinstance(c, SendDocument)
    ]
    # and the list drawn for a manager offers no Delete
    (redrawn,) = [
        c for c in await manager.press(listing, f"au:page:{ws}:0") if isinstance(c, EditMessageText)
    ]
    assert [data for _text, data in buttons(redrawn.reply_markup)] == [
        f"au:export:{ws}:{audience_id}",
        f"au:import:{ws}:{audience_id}",
    ]

    calls = await owner.press(listing, f"au:delete:{ws}:{audience_id}")
    (confirm,) = [c for c in calls if isinstance(c, EditMessageText)]
    assert confirm.text == t("en", "audiences.delete_confirm", name="Birds", size=2)
    assert buttons(confirm.reply_markup) == [
        (t("en", "audiences.delete_yes"), f"au:yes:{ws}:{audience_id}"),
        (t("en", "audiences.delete_no"), f"au:no:{ws}:{audience_id}"),
    ]
    calls = await owner.press(listing, f"au:no:{ws}:{audience_id}")
    (back,) = [c for c in calls if isinstance(c, EditMessageText)]
    assert back.text == listing.text
    calls = await owner.press(listing, f"au:yes:{ws}:{audience_id}")
    (gone,) = [c for c in calls if isinstance(c, EditMessageText)]
    assert gone.text == "\n\n".join(
        [t("en", "audiences.deleted", name="Birds"), t("en", "audiences.empty")]
    )
    async with sessionmaker() as session:
        assert await session.get(Audience, audience_id) is None
