"""A worker process killed mid-task: another worker resumes the task from its cursor.

The world lives in this process behind a loopback sandbox server; the workers are real
`python -m workers` processes reaching it over SANDBOX_PORT, as separate installations do.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from core.parsing import ParseStatus
from core.settings import PROJECT_ROOT
from sandbox.server import SandboxServer
from tests.parsing.conftest import Setup
from tests.parsing.test_control import seed_group, wait_until

ACC = 100
SIZE = 3000

pytestmark = pytest.mark.e2e


async def _worker(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "workers",
        cwd=PROJECT_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def test_a_killed_workers_task_resumes_elsewhere(
    setup: Setup, test_env: dict[str, str]
) -> None:
    async with SandboxServer(world=setup.world) as sandbox:
        await setup.link(ACC)
        everyone = seed_group(setup, SIZE)
        task_id = await setup.task("@group", speed="safe")  # pages of 100
        env = {
            **os.environ,
            **test_env,
            "SANDBOX_PORT": sandbox.url.rsplit(":", 1)[1],
            "PARSE_DELAY_SCALE": "0.02",  # 60 ms between pages instead of 3 s
            "PARSE_CLAIM_TTL_S": "2",
            "ACCOUNT_LEASE_TTL_S": "3",
            "LOG_LEVEL": "WARNING",
        }
        first = await _worker(env)
        try:

            async def under_way() -> bool:
                return (await setup.row(task_id)).progress_done >= 500

            await wait_until(under_way, timeout=30)
        finally:
            first.send_signal(signal.SIGKILL)
            await first.communicate()
        stopped = await setup.row(task_id)
        assert stopped.status == ParseStatus.RUNNING and stopped.progress_done < SIZE

        second = await _worker(env)
        try:

            async def finished() -> bool:
                return (await setup.row(task_id)).status == ParseStatus.DONE

            await wait_until(finished, timeout=40)
        finally:
            second.send_signal(signal.SIGTERM)
            out, _ = await asyncio.wait_for(second.communicate(), 15)
        assert second.returncode == 0, out.decode()

    done = await setup.row(task_id)
    assert await setup.members(task_id) == everyone
    assert done.collected == done.new_members == done.progress_done == SIZE
    assert await setup.audience_size(task_id) == SIZE
    assert sum(done.accounts_used.values()) == SIZE  # no page written twice
    assert done.claim_epoch >= 2 and done.claimed_by != stopped.claimed_by
    # the second worker went on from the stored cursor instead of starting over
    offsets = [c for c in setup.world.calls("GetParticipantsRequest") if not c.error]
    assert len(offsets) < SIZE // 100 + 10
