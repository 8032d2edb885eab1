"""Bad settings stop a process with one line naming the variable (DESIGN §9a)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest

from core.settings import PROJECT_ROOT, Settings, parse_session_keys, parse_telegram_proxy

GOOD = {
    "DATABASE_URL": "postgresql://u:p@127.0.0.1:5432/db",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "JWT_SECRET": "j" * 40,
    "CODE_PEPPER": "p" * 40,
    "SESSION_KEYS": "k1:" + base64.b64encode(b"s" * 32).decode(),
}


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k.upper() not in GOOD}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "from core.settings import Settings, load_settings\n"
                "Settings.model_config['env_file'] = None  # only the environment under test\n"
                "load_settings(); print('ok')"
            ),
        ],
        env={**clean, **env, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(
    "name,value,fragment",
    [
        ("JWT_SECRET", "short", "JWT_SECRET is invalid: must be at least 32 bytes"),
        (
            "DATABASE_URL",
            "mysql://x@127.0.0.1/db",
            "DATABASE_URL is invalid: must be a postgresql:// URL",
        ),
        ("DATABASE_URL", "not a url", "DATABASE_URL is invalid"),
        ("REDIS_URL", "http://127.0.0.1", "REDIS_URL is invalid"),
        ("SESSION_KEYS", "k1:short", "SESSION_KEYS is invalid"),
        ("API_PORT", "70000", "API_PORT is invalid"),
        ("SANDBOX", "maybe", "SANDBOX is invalid"),
        ("INVITE_DAILY_PER_ACCOUNT", "many", "INVITE_DAILY_PER_ACCOUNT is invalid"),
    ],
)
def test_invalid_setting_is_one_clear_line(
    name: str, value: str, fragment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir("/")
    result = _run({**GOOD, name: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tg-inviter: setting ")
    assert fragment in lines[0]
    assert value not in lines[0] or name == "SANDBOX"


def test_missing_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    env = dict(GOOD)
    del env["CODE_PEPPER"]
    result = _run(env)
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "tg-inviter: setting CODE_PEPPER is required but not set (see .env.example)"
    )


def test_good_settings_load_and_derive() -> None:
    s = Settings(_env_file=None, **{k.lower(): v for k, v in GOOD.items()})  # type: ignore[call-arg]
    assert s.database_url.startswith("postgresql+asyncpg://")
    assert s.sandbox_active  # no bot token, no API credentials
    assert s.effective_bot_api_url == "http://127.0.0.1:8081"
    real = Settings(  # type: ignore[call-arg]
        _env_file=None,
        bot_token="1:x",
        telegram_api_id=1,
        telegram_api_hash="h",
        **{k.lower(): v for k, v in GOOD.items()},
    )
    assert not real.sandbox_active and real.effective_bot_api_url is None
    assert real.invite_daily_per_account == 30 and real.invite_pause_min_s == 600


def test_same_secret_for_jwt_and_pepper_is_refused() -> None:
    with pytest.raises(ValueError, match="different"):
        Settings(
            _env_file=None, **{**{k.lower(): v for k, v in GOOD.items()}, "code_pepper": "j" * 40}
        )  # type: ignore[call-arg]


def test_session_keys_parse() -> None:
    key = base64.b64encode(b"a" * 32).decode()
    assert list(parse_session_keys(f"old:{key}, new:{key}")) == ["old", "new"]
    for bad in ("", "nokey", "k1:@@@", "k-1:" + key):
        with pytest.raises(ValueError):
            parse_session_keys(bad)


# --- real Telegram, webhook, proxy ---------------------------------------------------------
REAL = {
    "BOT_TOKEN": "123456:AAE-token_value",
    "TELEGRAM_API_ID": "12345",
    "TELEGRAM_API_HASH": "0" * 32,
}
MISSING_WITHOUT_SANDBOX = "is required when SANDBOX=off (see .env.example)"


@pytest.mark.parametrize("name", ["BOT_TOKEN", "TELEGRAM_API_ID", "TELEGRAM_API_HASH"])
def test_sandbox_off_names_the_missing_credential(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir("/")
    # Blank is "not set" (BOT_TOKEN= in .env), and beats any value a developer's .env holds.
    result = _run({**GOOD, **REAL, "SANDBOX": "off", name: ""})
    assert result.returncode == 2
    assert result.stderr.strip() == f"tg-inviter: setting {name} {MISSING_WITHOUT_SANDBOX}"


@pytest.mark.parametrize(
    "argv", [["bot"], ["webui_api"], ["workers"], ["launcher", "run"]], ids=" ".join
)
def test_every_process_stops_with_the_one_line_when_sandbox_is_off(argv: list[str]) -> None:
    clean = {k: v for k, v in os.environ.items() if k.upper() not in {*GOOD, *REAL}}
    env = {
        **clean,
        **GOOD,
        **REAL,
        "SANDBOX": "off",
        "TELEGRAM_API_HASH": "",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        f"tg-inviter: setting TELEGRAM_API_HASH {MISSING_WITHOUT_SANDBOX}"
    ]
    assert "Traceback" not in result.stdout


@pytest.mark.parametrize(
    "extra,line",
    [
        (
            {"WEBHOOK_URL": "https://bot.example.org/tg"},
            "WEBHOOK_SECRET is required when WEBHOOK_URL is set",
        ),
        (
            {
                "WEBHOOK_URL": "https://bot.example.org/tg",
                "WEBHOOK_SECRET": "has spaces and ünïcode",
            },
            "WEBHOOK_SECRET is invalid: must be 1-256 characters of A-Z, a-z, 0-9, _ and -",
        ),
        (
            {"WEBHOOK_URL": "https://bot.example.org/tg", "WEBHOOK_SECRET": "s" * 257},
            "WEBHOOK_SECRET is invalid",
        ),
        (
            {"WEBHOOK_URL": "http://bot.example.org/tg", "WEBHOOK_SECRET": "abc"},
            "WEBHOOK_URL is invalid: Telegram delivers webhooks to https:// URLs only",
        ),
        (
            {"WEBHOOK_URL": "https://bot.example.org:8080/tg", "WEBHOOK_SECRET": "abc"},
            "WEBHOOK_URL is invalid: Telegram delivers webhooks to ports 443, 80, 88 and 8443 only",
        ),
        (
            {"WEBHOOK_URL": "ftp://bot.example.org/tg", "WEBHOOK_SECRET": "abc"},
            "WEBHOOK_URL is invalid",
        ),
        ({"BOT_TOKEN": "not-a-token"}, "BOT_TOKEN is invalid: must look like 123456789:AA..."),
        (
            {"TELEGRAM_PROXY": "socks5://alice:hunter2hunter2@10.0.0.1"},
            "TELEGRAM_PROXY is invalid: needs a port",
        ),
        (
            {"TELEGRAM_PROXY": "https://alice:hunter2hunter2@10.0.0.1:3128"},
            "TELEGRAM_PROXY is invalid: must start with",
        ),
        (
            {"TELEGRAM_PROXY": "socks5://alice@10.0.0.1:1080"},
            "TELEGRAM_PROXY is invalid: needs both a user and a password",
        ),
        (
            {"TELEGRAM_PROXY": "http://10.0.0.1:3128/path"},
            "TELEGRAM_PROXY is invalid: must end with the port",
        ),
        (
            {"TELEGRAM_PROXY": "mtproxy://10.0.0.1:443"},
            "TELEGRAM_PROXY is invalid: needs the proxy's secret",
        ),
        (
            {"TELEGRAM_PROXY": "mtproxy://ee" + "ab" * 16 + "676f6f676c652e636f6d@10.0.0.1:443"},
            "TELEGRAM_PROXY is invalid: fake-TLS MTProxy secrets (starting with ee) are not supported",
        ),
        (
            {"TELEGRAM_PROXY": "mtproxy://hunter2hunter2@10.0.0.1:443"},
            "TELEGRAM_PROXY is invalid: the MTProxy secret must be 32 hex digits",
        ),
    ],
)
def test_webhook_and_proxy_settings_fail_in_one_line_without_their_secrets(
    extra: dict[str, str], line: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir("/")
    result = _run({**GOOD, **REAL, "SANDBOX": "off", **extra})
    assert result.returncode == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"tg-inviter: setting {line}"), result.stderr
    for secret in ("hunter2hunter2", "has spaces", "s" * 20, "not-a-token"):
        assert secret not in result.stderr


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **{k.lower(): v for k, v in GOOD.items()}, **values)  # type: ignore[call-arg]  # pydantic-settings' init option


def test_webhook_over_http_and_any_port_only_through_a_local_bot_api_server() -> None:
    real = {k.lower(): v for k, v in REAL.items()}
    local = _settings(
        **real,
        sandbox="off",
        bot_api_url="http://127.0.0.1:8081",
        webhook_url="http://127.0.0.1:9000/tg/updates",
        webhook_secret="abc",
    )
    assert local.webhook_path == "/tg/updates" and local.webhook_host == "127.0.0.1"
    public = _settings(
        **real, sandbox="off", webhook_url="https://bot.example.org:8443", webhook_secret="a-b_C9"
    )
    assert public.webhook_path == "/" and public.webhook_port == 8082
    assert public.webhook_secret is not None and "a-b_C9" not in repr(public)


def test_proxy_parses_and_never_shows_its_credentials() -> None:
    socks = parse_telegram_proxy("SOCKS5://al%40ice:p%3Ass:w0rd@[::1]:1080")
    assert (socks.kind, socks.host, socks.port) == ("socks5", "::1", 1080)
    assert (socks.username, socks.password) == ("al@ice", "p:ss:w0rd")
    assert socks.address == "socks5://[::1]:1080" and "w0rd" not in repr(socks)
    assert socks.credentials == ["p:ss:w0rd"]
    http = parse_telegram_proxy("http://proxy.local:3128")
    assert (http.kind, http.username, http.password, http.credentials) == ("http", None, None, [])
    secret = "dd" + "0123456789ABCDEF" * 2
    mt = parse_telegram_proxy(f"mtproxy://{secret}@203.0.113.5:443")
    assert (mt.kind, mt.secret, mt.credentials) == ("mtproxy", secret.lower(), [secret.lower()])
    assert secret.lower() not in repr(mt)

    real = {k.lower(): v for k, v in REAL.items()}
    assert _settings(**real, telegram_proxy="http://proxy.local:3128").proxy == http
    # The sandbox's clients never open a socket to Telegram: no proxy for them.
    assert _settings(sandbox="on", telegram_proxy="http://proxy.local:3128").proxy is None
    assert _settings(**real, telegram_proxy="").proxy is None
    assert "w0rd" not in repr(_settings(**real, telegram_proxy="socks5://u:w0rd@h:1"))


def test_blank_credentials_count_as_unset() -> None:
    blank = _settings(bot_token="", telegram_api_id="", telegram_api_hash=" ")
    assert blank.bot_token is None and blank.telegram_api_id is None and blank.sandbox_active
