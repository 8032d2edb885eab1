"""`python -m webui_api`: the API process (composition root)."""

from __future__ import annotations

from aiohttp import web

from core.logs import get_logger, setup_logging
from core.settings import load_settings
from webui_api.app import init_app


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
    web.run_app(
        init_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        access_log=None,
        print=None,
        shutdown_timeout=5,
    )
    log.info("api stopped")


if __name__ == "__main__":
    main()
