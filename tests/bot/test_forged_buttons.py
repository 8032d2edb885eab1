"""Callback data is typed by the client: a forged button is a stale one, never a crash.

A number past PostgreSQL's bigint would have reached the driver ("value out of int64
range") and ended as "something went wrong" with a traceback in the log; text where a
number belongs never matched. Both are now answered as any button the bot no longer knows:
the spinner stops, nothing else happens."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiogram.methods import AnswerCallbackQuery, SendMessage

from tests.bot.conftest import TgUser
from tests.logcapture import captured_logs, lines

BIG = str(2**63)


@pytest.mark.parametrize(
    "data",
    [
        f"cg:open:{BIG}:1",
        f"cg:open:1:-{BIG}1",
        f"cj:1:1:{BIG}",
        f"acc:off:{BIG}:1",
        f"cn:pick:1:{BIG}",
        "cg:open:²:1",
        "cg:open:1:①",
    ],
)
async def test_a_forged_button_is_answered_as_a_stale_one(
    make_user: Callable[..., TgUser], data: str
) -> None:
    user = make_user(881_001, username="forger")
    calls = await user.send("/start")
    shown = next(c for c in calls if isinstance(c, SendMessage))
    with captured_logs("bot") as buffer:
        calls = await user.press(shown, data)
    assert [type(c) for c in calls] == [AnswerCallbackQuery], calls
    answer = calls[0]
    assert isinstance(answer, AnswerCallbackQuery) and answer.text is None
    logged = lines(buffer)
    assert not [line for line in logged if line.get("level") in ("error", "critical")], logged
