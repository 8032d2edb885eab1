"""One settings class for every process (bot, API, workers, sandbox) and for Alembic.

Values come from the environment, then `.env`, then `.data/local.env` (written by the
launcher with the addresses of the local PostgreSQL/Redis and the generated secrets).
A missing or invalid value stops the process with one line naming the variable.
"""

from __future__ import annotations

import base64
import binascii
import sys
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

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


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
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
    telegram_api_id: int | None = None
    telegram_api_hash: SecretStr | None = None
    sandbox: Literal["on", "off", "auto"] = "auto"
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = Field(default=8081, ge=1, le=65535)
    sandbox_demo: Literal["on", "off"] = "on"

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
    invite_pause_min_s: int = Field(default=600, ge=1)
    invite_pause_max_s: int = Field(default=900, ge=1)
    flood_buffer_s: int = Field(default=60, ge=0)
    peer_flood_park_s: int = Field(default=86400, ge=60)

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
        if len({self.jwt_secret.get_secret_value(), self.code_pepper.get_secret_value()}) < 2:
            raise ValueError("JWT_SECRET and CODE_PEPPER must be different secrets")
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


def parse_session_keys(raw: str) -> dict[str, bytes]:
    """`SESSION_KEYS` is `id:base64key[,id:base64key…]`; the last one encrypts new rows."""
    keys: dict[str, bytes] = {}
    for item in raw.split(","):
        item = item.strip()
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

