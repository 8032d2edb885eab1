"""TELEGRAM_PROXY in the forms Telethon and aiogram take it.

`core.settings` parses and checks the setting; this module only translates it. Telethon
reaches a SOCKS5 or HTTP proxy through python-socks (`proxy=` as a dict, telethon/network/
connection/connection.py `_parse_proxy`) and an MTProxy through its own connection class
with `proxy=(host, port, secret)` (telethon/network/connection/tcpmtproxy.py). aiogram's
`AiohttpSession(proxy=...)` takes a proxy URL and connects through aiohttp-socks
(aiogram/client/session/aiohttp.py `_retrieve_basic`).

The Bot API is HTTPS, which an MTProxy cannot carry: with an MTProxy the bot goes direct.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from telethon.network.connection import ConnectionTcpMTProxyRandomizedIntermediate

from core.settings import TelegramProxy


def telethon_proxy_options(proxy: TelegramProxy | None) -> dict[str, Any]:
    """Keyword arguments for `TelegramClient`: `proxy=` and, for an MTProxy, `connection=`."""
    if proxy is None:
        return {}
    if proxy.kind == "mtproxy":
        # Randomized intermediate is the codec a dd secret requires, and a proxy with a plain
        # secret accepts it too (telethon's MTProxyIO.init_header).
        return {
            "connection": ConnectionTcpMTProxyRandomizedIntermediate,
            "proxy": (proxy.host, proxy.port, proxy.secret),
        }
    return {
        "proxy": {
            "proxy_type": proxy.kind,
            "addr": proxy.host,
            "port": proxy.port,
            "username": proxy.username,
            "password": proxy.password,
            # Names are resolved by the proxy: where Telegram is throttled, DNS may be too.
            "rdns": True,
        }
    }


def bot_api_proxy(proxy: TelegramProxy | None) -> str | None:
    """The proxy URL `AiohttpSession(proxy=...)` takes, or None for a direct connection.

    User and password are percent-quoted: python-socks' `parse_proxy_url` unquotes them, so
    any character of a password arrives as it was set.
    """
    if proxy is None or proxy.kind == "mtproxy":
        return None
    host = f"[{proxy.host}]" if ":" in proxy.host else proxy.host
    auth = ""
    if proxy.username is not None:
        auth = f"{quote(proxy.username, safe='')}:{quote(proxy.password or '', safe='')}@"
    return f"{proxy.kind}://{auth}{host}:{proxy.port}"
