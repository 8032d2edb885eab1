"""One settings class for every process (bot, API, workers, sandbox) and for Alembic.

Values come from the environment, then `.env`, then `.data/local.env` (written by the
launcher with the addresses of the local PostgreSQL/Redis and the generated secrets).
A missing or invalid value stops the process with one line naming the variable.
"""

from __future__ import annotations

import base64
import binascii
import re
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import SplitResult, unquote, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / ".data"
LOCAL_ENV_FILE = DATA_DIR / "local.env"

# The bot token the sandbox's Bot API accepts. It is not a secret: it opens nothing real.
SANDBOX_BOT_TOKEN = "4242:sandbox"
MIN_SECRET_BYTES = 32

# core.telegram.org/bots/api#setwebhook: secret_token is "1-256 characters. Only characters
# A-Z, a-z, 0-9, _ and - are allowed"; the header X-Telegram-Bot-Api-Secret-Token carries it.
WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
# core.telegram.org/bots/api#setwebhook: "Ports currently supported for webhooks: 443, 80, 88,
# 8443", HTTPS only; a local Bot API server (BOT_API_URL) also takes http:// and any port
# (core.telegram.org/bots/api#using-a-local-bot-api-server).
WEBHOOK_PORTS = (443, 80, 88, 8443)


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class SettingError(ValueError):
    """A rule that spans settings, reported under the one variable to change.

    `text` follows the name: "is required when SANDBOX=off", "is invalid: ...".
    """

    def __init__(self, name: str, text: str) -> None:
        super().__init__(f"{name} {text}")
        self.name = name
        self.text = text


ProxyKind = Literal["socks5", "http", "mtproxy"]
_PROXY_KINDS: tuple[ProxyKind, ...] = ("socks5", "http", "mtproxy")
_MTPROXY_SECRET_RE = re.compile(r"(dd)?[0-9a-f]{32}")


@dataclass(frozen=True, slots=True)
class TelegramProxy:
    """`TELEGRAM_PROXY`, parsed: how this installation reaches Telegram.

    `username`/`password` belong to a SOCKS5 or HTTP proxy, `secret` to an MTProxy. None of
    them is in the repr; `address` is what logs may show.
    """

    kind: ProxyKind
    host: str
    port: int
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.kind}://{host}:{self.port}"

    @property
    def credentials(self) -> list[str]:
        """The values the log filter must redact."""
        return [v for v in (self.password, self.secret) if v]


def parse_telegram_proxy(raw: str) -> TelegramProxy:
    """`socks5://[user:password@]host:port`, `http://[user:password@]host:port` or
    `mtproxy://secret@host:port`. Raises ValueError with a message that never repeats the
    value (it may hold a password).
    """
    try:
        url: SplitResult = urlsplit(raw.strip())
        port = url.port
    except ValueError:
        raise ValueError(
            "must look like socks5://[user:password@]host:port, http://host:port or "
            "mtproxy://secret@host:port, with a port from 1 to 65535"
        ) from None
    kind = url.scheme.lower()
    if kind not in _PROXY_KINDS:
        raise ValueError("must start with socks5://, http:// or mtproxy://")
    if not url.hostname:
        raise ValueError("needs a host: scheme://host:port")
    if port is None or not 1 <= port <= 65535:
        raise ValueError("needs a port from 1 to 65535: scheme://host:port")
    if url.path not in ("", "/") or url.query or url.fragment:
        raise ValueError("must end with the port: nothing may follow host:port")
    username = unquote(url.username) if url.username is not None else None
    password = unquote(url.password) if url.password is not None else None
    if kind == "mtproxy":
        # Telethon speaks MTProxy with the plain and the dd (random padding) secrets of 16
        # bytes; its normalize_secret drops the domain of an ee (fake-TLS) secret and never
        # does the TLS handshake such a proxy expects (telethon/network/connection/
        # tcpmtproxy.py), so ee secrets cannot work.
        secret = (username or "").lower()
        if password is not None:
            raise ValueError("an MTProxy takes only a secret: mtproxy://secret@host:port")
        if not secret:
            raise ValueError("needs the proxy's secret: mtproxy://secret@host:port")
        if secret.startswith("ee"):
            raise ValueError("fake-TLS MTProxy secrets (starting with ee) are not supported")
        if not _MTPROXY_SECRET_RE.fullmatch(secret):
            raise ValueError("the MTProxy secret must be 32 hex digits, or dd and 32 hex digits")
        return TelegramProxy("mtproxy", url.hostname, port, secret=secret)
    if (username is None) != (password is None) or username == "":
        raise ValueError("needs both a user and a password (user:password@host:port), or neither")
    return TelegramProxy(kind, url.hostname, port, username, password)


def _webhook_url(value: str) -> str:
    try:
        url = urlsplit(value)
        url.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ValueError("not a URL with a valid port") from None
    if url.scheme not in ("https", "http") or not url.hostname:
        raise ValueError("must be an https:// URL with a host")
    if url.fragment:
        raise ValueError("must not have a #fragment")
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=(LOCAL_ENV_FILE, PROJECT_ROOT / ".env"),
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    # --- storage -------------------------------------------------------------------
    database_url: str = Field(description="PostgreSQL URL (postgresql://, postgresql+asyncpg://)")
    redis_url: str = Field(description="Redis URL (redis:// or rediss://)")

    # --- Telegram -----------------------------------------------------------------
    bot_token: SecretStr | None = None
    bot_api_url: str | None = Field(
        default=None, description="Bot API server base URL; the sandbox's when it runs"
    )
    telegram_api_id: int | None = Field(default=None, ge=1)
    telegram_api_hash: SecretStr | None = None
    # One proxy for the whole installation (socks5://, http:// or mtproxy://), for where
    # Telegram is throttled. MTProxy carries account connections only; the bot then goes
    # direct, since the Bot API is HTTPS.
    telegram_proxy: SecretStr | None = None
    sandbox: Literal["on", "off", "auto"] = "auto"
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = Field(default=8081, ge=1, le=65535)
    sandbox_demo: Literal["on", "off"] = "on"
    # Webhook mode (production): Telegram POSTs updates to WEBHOOK_URL, which a reverse
    # proxy hands to WEBHOOK_HOST:WEBHOOK_PORT. Without WEBHOOK_URL the bot long-polls.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8082, ge=1, le=65535)

    # --- API and panel -------------------------------------------------------------
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8080, ge=1, le=65535)
    panel_url: str | None = None
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    trust_forwarded_for: bool = False

    # --- secrets -------------------------------------------------------------------
    jwt_secret: SecretStr
    code_pepper: SecretStr
    session_keys: SecretStr
    jwt_issuer: str = "tg-inviter"
    jwt_audience: str = "tg-inviter-panel"
    access_token_ttl_s: int = Field(default=900, ge=60, le=3600)
    refresh_absolute_ttl_s: int = Field(default=7 * 86400, ge=3600)
    refresh_idle_ttl_s: int = Field(default=86400, ge=600)

    # --- people --------------------------------------------------------------------
    admin_telegram_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)

    # --- invite limits (defaults are deliberately conservative) --------------------
    invite_daily_per_account: int = Field(default=30, ge=1, le=200)
    invite_daily_per_chat: int = Field(default=15, ge=1, le=200)
    invite_lifetime_per_chat: int = Field(default=200, ge=1, le=10000)
    # Into one target chat per UTC day, all of a workspace's accounts together.
    invite_daily_per_target: int = Field(default=60, ge=1, le=1000)
    invite_pause_min_s: int = Field(default=600, ge=1)
    invite_pause_max_s: int = Field(default=900, ge=1)
    flood_buffer_s: int = Field(default=60, ge=0)
    peer_flood_park_s: int = Field(default=86400, ge=60)
    # Usernames one account resolves per hour for invites (people imported by username):
    # Telegram documents no rate, and bursts are known to earn flood waits of many hours.
    username_resolves_per_hour: int = Field(default=20, ge=1, le=200)

    # --- people's data ---------------------------------------------------------------
    # An audience no campaign and no collection used for this many days is deleted, after a
    # notice to the owner a week before (workers/retention.py). At least two weeks, so the
    # notice always comes after the audience's last use; at most ten years.
    audience_retention_days: int = Field(default=180, ge=14, le=3650)

    # A manager's campaign of more people than this waits for the owner's approval.
    approval_threshold: int = Field(default=500, ge=1, le=10_000_000)

    # --- the automatic brake (core/brake.py) ---------------------------------------
    # Over a campaign's last BRAKE_WINDOW results, once BRAKE_MIN_RESULTS are in: more than
    # BRAKE_PRIVACY_PERCENT % privacy refusals, or more than BRAKE_LEFT_PERCENT % of the people
    # checked a day later gone, pauses it; so does PEER_FLOOD for BRAKE_PEER_FLOOD_ACCOUNTS of
    # its accounts within BRAKE_PEER_FLOOD_WINDOW_S.
    brake_window: int = Field(default=50, ge=5, le=1000)
    brake_min_results: int = Field(default=20, ge=1, le=1000)
    brake_privacy_percent: int = Field(default=60, ge=1, le=100)
    brake_left_percent: int = Field(default=50, ge=1, le=100)
    brake_peer_flood_accounts: int = Field(default=2, ge=1, le=100)
    brake_peer_flood_window_s: int = Field(default=3600, ge=60, le=7 * 86400)

    # --- operations ----------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    worker_heartbeat_s: int = Field(default=10, ge=1, le=300)
    account_check_interval_s: int = Field(default=900, ge=30, le=86400)
    # How long an account lease lives without a heartbeat: a killed process's accounts are
    # free again after this long.
    account_lease_ttl_s: int = Field(default=30, ge=2, le=600)
    parse_concurrency: int = Field(default=2, ge=1, le=32)
    # A killed worker's parse task is resumed by another worker this long after its last sign.
    parse_claim_ttl_s: int = Field(default=60, ge=2, le=3600)
    # Multiplies the speed profiles' pauses between requests (0: none; for local trials only).
    parse_delay_scale: float = Field(default=1.0, ge=0.0, le=10.0)

    @field_validator(
        "bot_token",
        "bot_api_url",
        "telegram_api_id",
        "telegram_api_hash",
        "telegram_proxy",
        "webhook_url",
        "webhook_secret",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `BOT_TOKEN=` in .env means "not set", as the commented examples suggest.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        # The shape aiogram's validate_token insists on (digits, a colon, the rest), checked
        # here so that a typo is one line rather than a traceback from Bot().
        token = value.get_secret_value() if value is not None else ""
        if value is not None and not re.fullmatch(r"\d+:\S+", token):
            raise ValueError("must look like 123456789:AA... (the token @BotFather gave)")
        return value

    @field_validator("telegram_proxy")
    @classmethod
    def _telegram_proxy(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_telegram_proxy(value.get_secret_value())
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        return _webhook_url(value) if value is not None else None

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WEBHOOK_SECRET_RE.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError("not a database URL") from exc
        if url.get_backend_name() != "postgresql":
            raise ValueError("must be a postgresql:// URL")
        if not url.host or not url.database:
            raise ValueError("needs a host and a database name")
        return url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _cors(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("admin_telegram_ids", mode="before")
    @classmethod
    def _admins(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("jwt_secret", "code_pepper")
    @classmethod
    def _long_secret(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"must be at least {MIN_SECRET_BYTES} bytes of random data")
        return value

    @field_validator("session_keys")
    @classmethod
    def _session_keys(cls, value: SecretStr) -> SecretStr:
        parse_session_keys(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _pauses(self) -> Settings:
        if self.invite_pause_max_s < self.invite_pause_min_s:
            raise ValueError("INVITE_PAUSE_MAX_S must not be below INVITE_PAUSE_MIN_S")
        if self.brake_min_results > self.brake_window:
            raise ValueError("BRAKE_MIN_RESULTS must not be above BRAKE_WINDOW")
        if len({self.jwt_secret.get_secret_value(), self.code_pepper.get_secret_value()}) < 2:
            raise ValueError("JWT_SECRET and CODE_PEPPER must be different secrets")
        return self

    @model_validator(mode="after")
    def _real_telegram(self) -> Settings:
        if self.sandbox == "off":
            # Without the sandbox every process needs real credentials; naming the first one
            # missing beats a traceback from the bot or a worker later on.
            for name, value in (
                ("BOT_TOKEN", self.bot_token),
                ("TELEGRAM_API_ID", self.telegram_api_id),
                ("TELEGRAM_API_HASH", self.telegram_api_hash),
            ):
                if value is None:
                    raise SettingError(name, "is required when SANDBOX=off (see .env.example)")
        return self

    @model_validator(mode="after")
    def _webhook_rules(self) -> Settings:
        if self.webhook_url is None:
            return self
        if self.webhook_secret is None:
            # Without the secret anyone who learns the URL could feed the bot made-up updates.
            raise SettingError(
                "WEBHOOK_SECRET", "is required when WEBHOOK_URL is set (see .env.example)"
            )
        url = urlsplit(self.webhook_url)
        if self.bot_api_url is None and not self.sandbox_active:
            if url.scheme != "https":
                raise SettingError(
                    "WEBHOOK_URL", "is invalid: Telegram delivers webhooks to https:// URLs only"
                )
            if (url.port or 443) not in WEBHOOK_PORTS:
                raise SettingError(
                    "WEBHOOK_URL",
                    "is invalid: Telegram delivers webhooks to ports 443, 80, 88 and 8443 only",
                )
        return self

    # --- derived -------------------------------------------------------------------
    @cached_property
    def sandbox_active(self) -> bool:
        """Whether Telegram is simulated: forced, or no real credentials in `auto`."""
        if self.sandbox != "auto":
            return self.sandbox == "on"
        has_bot = self.bot_token is not None
        has_api = self.telegram_api_id is not None and self.telegram_api_hash is not None
        return not (has_bot and has_api)

    @property
    def sandbox_url(self) -> str:
        return f"http://{self.sandbox_host}:{self.sandbox_port}"

    @property
    def effective_bot_token(self) -> str:
        if self.sandbox_active:
            return SANDBOX_BOT_TOKEN
        assert self.bot_token is not None  # sandbox_active is False only with a token
        return self.bot_token.get_secret_value()

    @property
    def effective_bot_api_url(self) -> str | None:
        """None means the real Bot API."""
        if self.sandbox_active:
            return self.bot_api_url or self.sandbox_url
        return self.bot_api_url

    @property
    def effective_panel_url(self) -> str:
        return self.panel_url or f"http://{self.api_host}:{self.api_port}/"

    @cached_property
    def proxy(self) -> TelegramProxy | None:
        """TELEGRAM_PROXY for real Telegram; None when unset or when Telegram is simulated
        (the sandbox's clients never open a socket to Telegram)."""
        if self.telegram_proxy is None or self.sandbox_active:
            return None
        return parse_telegram_proxy(self.telegram_proxy.get_secret_value())

    @property
    def webhook_path(self) -> str:
        """The path the bot's webhook server answers: WEBHOOK_URL's own."""
        assert self.webhook_url is not None
        return urlsplit(self.webhook_url).path or "/"


def parse_session_keys(raw: str) -> dict[str, bytes]:
    """`SESSION_KEYS` is `id:base64key[,id:base64key…]`; the last one encrypts new rows."""
    keys: dict[str, bytes] = {}
    for part in raw.split(","):
        item = part.strip()
        if not item:
            continue
        key_id, sep, b64 = item.partition(":")
        if not sep or not key_id.isalnum():
            raise ValueError("each key must look like id:base64key")
        try:
            key = base64.b64decode(b64, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"key {key_id!r} is not valid base64") from exc
        if len(key) != 32:
            raise ValueError(f"key {key_id!r} must decode to 32 bytes (AES-256)")
        keys[key_id] = key
    if not keys:
        raise ValueError("at least one key is required")
    return keys


def _explain(exc: ValidationError) -> str:
    err = exc.errors()[0]
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, SettingError):
        return f"setting {cause.name} {cause.text}"
    loc = err["loc"]
    name = str(loc[0]).upper() if loc else "settings"
    if err["type"] == "missing":
        return f"setting {name} is required but not set (see .env.example)"
    message = err["msg"].removeprefix("Value error, ")
    return f"setting {name} is invalid: {message}"


def load_settings(**overrides: object) -> Settings:
    """Load settings or exit with one clear line naming the bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        print(f"tg-inviter: {_explain(exc)}", file=sys.stderr)
        raise SystemExit(2) from None
