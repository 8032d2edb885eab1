"""A worker while PostgreSQL is away: wait for it, and go on the moment it answers again.

Every durable fact lives in PostgreSQL, so nothing can be done while it is away (a restart,
a failover, a dropped network). What matters is how fast work resumes afterwards: a failed
parse task or account run must not sit out a retry delay or a claim's expiry that was meant
for other failures. So when work fails, the worker asks the database whether it answers;
when it does not, the work waits here (one probe for all of them), then hands its claim or
lease back at once and the next tick — a second or two later — takes it up again.

The scheduler's jobs are guarded the same way: while the database is away they skip their
turn with one log line for the whole outage instead of a traceback every second.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.logs import get_logger

log = get_logger("workers.outage")

PROBE_EVERY_S = 0.5  # while away, the database is asked this often whether it is back
PROBE_TIMEOUT_S = 2.0  # a probe that takes longer counts as "away" (a hung server)

P = ParamSpec("P")


class DatabaseWatch:
    """Whether PostgreSQL answers, and a shared wait for it to answer again."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        probe_every_s: float = PROBE_EVERY_S,
        probe_timeout_s: float = PROBE_TIMEOUT_S,
    ) -> None:
        self._sessionmaker = sessionmaker
        self.probe_every_s = probe_every_s
        self.probe_timeout_s = probe_timeout_s
        self._away = False
        self._back: asyncio.Event = asyncio.Event()
        self._prober: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()

    @property
    def away(self) -> bool:
        """The last look found the database away (cheap: no round trip)."""
        return self._away

    async def answers(self) -> bool:
        """One probe: does the database answer a trivial query now?"""
        try:
            async with asyncio.timeout(self.probe_timeout_s), self._sessionmaker() as session:
                await session.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - whatever the failure, the database does not answer
            return False
        return True

    async def failed(self) -> bool:
        """Work just failed: True when the database is away (then wait with `back()`),
        False when it answers and the failure was something else."""
        if self._away:
            return True
        if await self.answers():
            return False
        self._went_away()
        return True

    async def back(self) -> bool:
        """Wait until the database answers again; False when the worker stops first."""
        if not self._away:
            return True
        if self._prober is None or self._prober.done():
            self._prober = asyncio.create_task(self._probe(), name="database-probe")
        closing = asyncio.create_task(self._closing.wait())
        back = asyncio.create_task(self._back.wait())
        try:
            await asyncio.wait({closing, back}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (closing, back):
                waiter.cancel()
        return self._back.is_set() and not self._closing.is_set()

    def guard(self, job: Callable[P, Awaitable[Any]]) -> Callable[P, Awaitable[Any]]:
        """A scheduler job that skips its turn quietly while the database is away."""

        @functools.wraps(job)
        async def guarded(*args: P.args, **kwargs: P.kwargs) -> Any:
            if self._away:
                return None  # the probe says when it is back; the next turn after that runs
            try:
                return await job(*args, **kwargs)
            except Exception:
                if await self.failed():
                    return None
                raise

        return guarded

    async def close(self) -> None:
        self._closing.set()
        if self._prober is not None:
            self._prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prober

    def _went_away(self) -> None:
        if self._away:
            return
        self._away = True
        self._back = asyncio.Event()
        log.warning("database unreachable: work waits for it", probe_every_s=self.probe_every_s)
        if self._prober is None or self._prober.done():
            self._prober = asyncio.create_task(self._probe(), name="database-probe")

    async def _probe(self) -> None:
        loop = asyncio.get_running_loop()
        since = loop.time()
        # Nothing announces that PostgreSQL is back: asking it again is the only way to know.
        while not await self.answers():  # noqa: ASYNC110
            await asyncio.sleep(self.probe_every_s)
        self._away = False
        self._back.set()
        log.warning("database answers again: work resumes", away_s=round(loop.time() - since, 1))
