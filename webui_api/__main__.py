"""`python -m webui_api`: the API process (composition root)."""

from __future__ import annotations

import asyncio
import signal

from aiohttp import web

from core.logs import get_logger, setup_logging
from core.runtime import freeze_startup_heap
from core.settings import Settings, load_settings
from webui_api.app import init_app
from webui_api.http import ApiRunner


async def serve(settings: Settings) -> None:
    """Serve until SIGTERM or SIGINT. `web.run_app` would build a plain `web.AppRunner`;
    `ApiRunner` answers requests aiohttp cannot parse in the API's error envelope."""
    runner = ApiRunner(
        init_app(settings), access_log=None, shutdown_timeout=5, handle_signals=False
    )
    await runner.setup()
    freeze_startup_heap()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await web.TCPSite(runner, settings.api_host, settings.api_port).start()
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    settings = load_settings()
    setup_logging(
        "api",
        level=settings.log_level,
        fmt=settings.log_format,
        secrets=[settings.effective_bot_token, settings.jwt_secret.get_secret_value()],
    )
    log = get_logger("webui_api")
    log.info("api starting", host=settings.api_host, port=settings.api_port)
    asyncio.run(serve(settings))
    log.info("api stopped")


if __name__ == "__main__":
    main()
