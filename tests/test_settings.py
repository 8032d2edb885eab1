"""Bad settings stop a process with one line naming the variable (DESIGN §9a)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import pytest

from core.settings import PROJECT_ROOT, Settings, parse_session_keys

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
        [sys.executable, "-c", (
            "from core.settings import Settings, load_settings\n"
            "Settings.model_config['env_file'] = None  # only the environment under test\n"
            "load_settings(); print('ok')"
        )],
        env={**clean, **env, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True, text=True, timeout=30,
    )


@pytest.mark.parametrize(
    "name,value,fragment",
    [
        ("JWT_SECRET", "short", "JWT_SECRET is invalid: must be at least 32 bytes"),
        ("DATABASE_URL", "mysql://x@127.0.0.1/db", "DATABASE_URL is invalid: must be a postgresql:// URL"),
        ("DATABASE_URL", "not a url", "DATABASE_URL is invalid"),
        ("REDIS_URL", "http://127.0.0.1", "REDIS_URL is invalid"),
        ("SESSION_KEYS", "k1:short", "SESSION_KEYS is invalid"),
        ("API_PORT", "70000", "API_PORT is invalid"),
        ("SANDBOX", "maybe", "SANDBOX is invalid"),
        ("INVITE_DAILY_PER_ACCOUNT", "many", "INVITE_DAILY_PER_ACCOUNT is invalid"),
    ],
)
def test_invalid_setting_is_one_clear_line(name: str, value: str, fragment: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir("/")
    result = _run({**GOOD, name: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tg-inviter: setting ")
    assert fragment in lines[0]
    assert value not in lines[0] or name in ("SANDBOX",)


def test_missing_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    env = dict(GOOD)
    del env["CODE_PEPPER"]
    result = _run(env)
    assert result.returncode == 2
    assert result.stderr.strip() == "tg-inviter: setting CODE_PEPPER is required but not set (see .env.example)"


def test_good_settings_load_and_derive() -> None:
    s = Settings(_env_file=None, **{k.lower(): v for k, v in GOOD.items()})  # type: ignore[call-arg]
    assert s.database_url.startswith("postgresql+asyncpg://")
    assert s.sandbox_active  # no bot token, no API credentials
    assert s.effective_bot_api_url == "http://127.0.0.1:8081"
    real = Settings(  # type: ignore[call-arg]
        _env_file=None, bot_token="1:x", telegram_api_id=1, telegram_api_hash="h",
        **{k.lower(): v for k, v in GOOD.items()},
    )
    assert not real.sandbox_active and real.effective_bot_api_url is None
    assert real.invite_daily_per_account == 30 and real.invite_pause_min_s == 600


def test_same_secret_for_jwt_and_pepper_is_refused() -> None:
    with pytest.raises(ValueError, match="different"):
        Settings(_env_file=None, **{**{k.lower(): v for k, v in GOOD.items()}, "code_pepper": "j" * 40})  # type: ignore[call-arg]


def test_session_keys_parse() -> None:
    key = base64.b64encode(b"a" * 32).decode()
    assert list(parse_session_keys(f"old:{key}, new:{key}")) == ["old", "new"]
    for bad in ("", "nokey", "k1:@@@", "k-1:" + key):
        with pytest.raises(ValueError):
            parse_session_keys(bad)
