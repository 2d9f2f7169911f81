"""Settings: one validated pydantic-settings object per concern, read from LB_* variables.

Code never reads the environment itself: `Settings.from_env()` is called once at a process
entry point and the result is passed in (`create_app(settings)`).
"""
from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.edge import parse_networks
from services.common.keys import Keys, derive_keys, key_bytes


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class _FromEnv(BaseSettings):
    # Each field names its variable with `validation_alias`; `populate_by_name` lets tests pass
    # plain field names instead.
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class CoreSettings(_FromEnv):
    env: Environment = Field(Environment.development, validation_alias="LB_ENV")
    data_dir: Path = Field(Path("data"), validation_alias="LB_DATA_DIR")
    # None means: JSON logs everywhere but development, where people read them.
    log_json: bool | None = Field(None, validation_alias="LB_LOG_JSON")
    log_level: str = Field("INFO", validation_alias="LB_LOG_LEVEL")


class DatabaseSettings(_FromEnv):
    # None: SQLite (WAL) file under the data dir.
    url: str | None = Field(None, validation_alias="LB_DATABASE_URL")
    echo: bool = Field(False, validation_alias="LB_DATABASE_ECHO")
    # At least the API's concurrent sessions (services/api/db.py SESSIONS_AT_ONCE, 32).
    pool_size: int = Field(40, ge=32, le=500, validation_alias="LB_DATABASE_POOL_SIZE")
    # SQLite: log `sqlite_read_then_write` for each plain transaction that reads and then writes
    # (see services.common.db.writer_session). On in the tests that run the API as a process.
    check_writers: bool = Field(False, validation_alias="LB_DATABASE_CHECK_WRITERS")


class BrokerSettings(_FromEnv):
    # None: the embedded broker, a spool directory under the data dir (kombu's filesystem
    # transport), which every process on this machine can share.
    url: str | None = Field(None, validation_alias="LB_BROKER_URL")


class StorageSettings(_FromEnv):
    # No endpoint: local disk under the data dir.
    s3_endpoint: str | None = Field(None, validation_alias="LB_S3_ENDPOINT")
    s3_access_key: str | None = Field(None, validation_alias="LB_S3_ACCESS_KEY")
    s3_secret_key: str | None = Field(None, validation_alias="LB_S3_SECRET_KEY")
    s3_bucket: str = Field("lessonbridge", validation_alias="LB_S3_BUCKET")
    s3_region: str = Field("us-east-1", validation_alias="LB_S3_REGION")
    s3_secure: bool = Field(False, validation_alias="LB_S3_SECURE")
    # Where clients reach the same S3 service (URL or host:port), when not at s3_endpoint (in
    # compose, `minio:9000` is an internal name). Used only to presign URLs handed to clients.
    s3_public_endpoint: str | None = Field(None, validation_alias="LB_S3_PUBLIC_ENDPOINT")


class SearchSettings(_FromEnv):
    # No URL: the embedded index under the data dir.
    es_url: str | None = Field(None, validation_alias="LB_ES_URL")
    # The alias searches go through; versioned indexes behind it are swapped on reindex.
    es_alias: str = Field("lb-resources", validation_alias="LB_ES_ALIAS")
    port: int = Field(8001, validation_alias="LB_SEARCH_PORT")
    # None: the search service started beside the API on this machine.
    url: str | None = Field(None, validation_alias="LB_SEARCH_URL")
    # The key the API signs search principals with and the search service verifies them with.
    # None: derived from LB_SECRET_KEY (services/common/keys.py). Give the search service this
    # and not LB_SECRET_KEY, so it holds no key that could mint API tokens (`lb keys search-principal`).
    principal_key: str | None = Field(None, validation_alias="LB_SEARCH_PRINCIPAL_KEY")


class TranscoderSettings(_FromEnv):
    # A Celery worker has no web server of its own; this small one answers health and metrics.
    health_port: int = Field(8002, validation_alias="LB_TRANSCODER_PORT")
    # How often a worker tells the job ledger it is alive (and how far it got).
    heartbeat_s: float = Field(5.0, gt=0, le=60, validation_alias="LB_TRANSCODER_HEARTBEAT_S")


class AuthSettings(_FromEnv):
    # None: in development a key is generated once and kept in the data dir; elsewhere required.
    secret_key: str | None = Field(None, validation_alias="LB_SECRET_KEY")
    access_token_ttl_s: int = Field(15 * 60, validation_alias="LB_ACCESS_TOKEN_TTL_S")
    refresh_token_ttl_s: int = Field(30 * 24 * 3600, validation_alias="LB_REFRESH_TOKEN_TTL_S")


class LoginThrottleSettings(_FromEnv):
    """Sign-in backoff (services/api/auth/throttle.py). Each scope lets `free` failures pass in
    `window_s`; after that a sign-in waits `base_s`, doubling with each further failure up to
    `max_s`, counted from the scope's last failure. The scopes: one username from one client
    address (steep: the guesser's own client); one username from everywhere (gentle: its cap is
    the longest the right password from another client can be kept waiting); one address across
    usernames (password spraying)."""

    window_s: int = Field(3600, ge=60, le=7 * 24 * 3600, validation_alias="LB_LOGIN_WINDOW_S")
    pair_free: int = Field(3, ge=1, le=1000, validation_alias="LB_LOGIN_PAIR_FREE")
    pair_base_s: float = Field(1.0, gt=0, le=3600, validation_alias="LB_LOGIN_PAIR_BASE_S")
    pair_max_s: float = Field(900.0, gt=0, validation_alias="LB_LOGIN_PAIR_MAX_S")
    user_free: int = Field(10, ge=1, le=10_000, validation_alias="LB_LOGIN_USER_FREE")
    user_base_s: float = Field(1.0, gt=0, le=60, validation_alias="LB_LOGIN_USER_BASE_S")
    user_max_s: float = Field(30.0, gt=0, le=300, validation_alias="LB_LOGIN_USER_MAX_S")
    address_free: int = Field(50, ge=1, le=100_000, validation_alias="LB_LOGIN_ADDRESS_FREE")
    address_base_s: float = Field(1.0, gt=0, le=3600, validation_alias="LB_LOGIN_ADDRESS_BASE_S")
    address_max_s: float = Field(300.0, gt=0, validation_alias="LB_LOGIN_ADDRESS_MAX_S")

    @model_validator(mode="after")
    def _consistent(self) -> LoginThrottleSettings:
        for scope in ("pair", "user", "address"):
            base, cap = getattr(self, f"{scope}_base_s"), getattr(self, f"{scope}_max_s")
            if base > cap:
                raise ValueError(f"LB_LOGIN_{scope.upper()}_BASE_S is above LB_LOGIN_{scope.upper()}_MAX_S")
            if cap > self.window_s:
                # Failures are forgotten after the window: a longer wait would end early.
                raise ValueError(f"LB_LOGIN_{scope.upper()}_MAX_S is longer than LB_LOGIN_WINDOW_S")
        if self.user_max_s > self.pair_max_s:
            raise ValueError("LB_LOGIN_USER_MAX_S above LB_LOGIN_PAIR_MAX_S: the gentle backoff would be the steep one")
        return self


class ApiSettings(_FromEnv):
    host: str = Field("127.0.0.1", validation_alias="LB_API_HOST")
    port: int = Field(8000, validation_alias="LB_API_PORT")
    public_url: str | None = Field(None, validation_alias="LB_PUBLIC_URL")
    worker_threads: int = Field(8, ge=1, le=200, validation_alias="LB_API_THREADS")
    # How often the API sends queued media jobs, rescues stalled ones and applies finished ones;
    # 0 turns it off (tests drive it by hand).
    media_poll_s: float = Field(2.0, ge=0, le=3600, validation_alias="LB_MEDIA_POLL_S")
    # How often the API relays search outbox rows to the search service; 0 turns it off.
    search_relay_s: float = Field(1.0, ge=0, le=3600, validation_alias="LB_SEARCH_RELAY_S")
    # Distinct people with open reports on a published resource that hide it until a moderator
    # resolves them (services/api/reports).
    reports_hide_threshold: int = Field(3, ge=1, le=1000, validation_alias="LB_REPORTS_HIDE_THRESHOLD")


class MailSettings(_FromEnv):
    # None: no email; notifications stay in the app (GET /me/notifications).
    smtp_host: str | None = Field(None, validation_alias="LB_SMTP_HOST")
    smtp_port: int = Field(25, ge=1, le=65535, validation_alias="LB_SMTP_PORT")
    smtp_starttls: bool = Field(False, validation_alias="LB_SMTP_STARTTLS")
    smtp_username: str | None = Field(None, validation_alias="LB_SMTP_USERNAME")
    smtp_password: str | None = Field(None, validation_alias="LB_SMTP_PASSWORD")
    smtp_from: str = Field("LessonBridge <noreply@lessonbridge.invalid>", validation_alias="LB_SMTP_FROM")
    # How often the API mails pending notifications; 0 turns it off (tests drive it by hand).
    poll_s: float = Field(5.0, ge=0, le=3600, validation_alias="LB_MAIL_POLL_S")


class EdgeSettings(_FromEnv):
    """What every service does before any route (services/common/edge.py)."""

    # Peers whose X-Forwarded-For/-Proto/-Host are believed (CIDRs, comma-separated). Empty: none,
    # and the client is the TCP peer. Set it to the load balancer's or reverse proxy's addresses.
    trusted_proxies: str = Field("", validation_alias="LB_TRUSTED_PROXIES")
    # /metrics and the API docs (/docs, /openapi.json): open, restricted (to LB_OPS_ALLOW_FROM or
    # `Authorization: Bearer LB_OPS_TOKEN`) or off. None: open in development and test,
    # restricted in production.
    metrics: Literal["open", "restricted", "off"] | None = Field(None, validation_alias="LB_METRICS_ACCESS")
    docs: Literal["open", "restricted", "off"] | None = Field(None, validation_alias="LB_DOCS_ACCESS")
    ops_allow_from: str = Field("127.0.0.0/8,::1/128", validation_alias="LB_OPS_ALLOW_FROM")
    ops_token: str | None = Field(None, validation_alias="LB_OPS_TOKEN")
    # Strict-Transport-Security on every response. None: in production only.
    hsts: bool | None = Field(None, validation_alias="LB_HSTS")

    @field_validator("trusted_proxies", "ops_allow_from")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)  # a ValueError names the bad entry
        return value


class UploadSettings(_FromEnv):
    """What one upload request, one uploader and one school may hold of an API process."""

    # A PATCH whose client sends nothing for this long is ended (what arrived is kept): a slow
    # or stalled client must not hold a request open for ever.
    idle_timeout_s: float = Field(60.0, gt=0, le=3600, validation_alias="LB_UPLOAD_IDLE_TIMEOUT_S")
    # Uploads receiving bytes at once in one API process, per user or device and per school. Each
    # holds buffers (up to 48 MiB on S3, docs/design.md) and a worker thread now and then.
    per_uploader: int = Field(4, ge=1, le=10_000, validation_alias="LB_UPLOADS_PER_USER")
    per_school: int = Field(24, ge=1, le=10_000, validation_alias="LB_UPLOADS_PER_SCHOOL")
    # Storage for a user who belongs to no school (district staff): their uploads and files.
    user_quota_bytes: int = Field(2 * 1024**3, ge=0, validation_alias="LB_USER_QUOTA_BYTES")


# Values people paste from examples. Refused as secrets anywhere but development.
_PLACEHOLDER_SECRETS = {"", "secret", "changeme", "change-me", "change_me", "dev", "development",
                        "test", "password", "lessonbridge", "please-change-me"}
MIN_SECRET_LENGTH = 32


class PlaceholderSecretError(ValueError):
    pass


class Settings(BaseModel):
    """Everything a process needs, with every embedded default resolved to a concrete value."""

    model_config = ConfigDict(frozen=True)

    core: CoreSettings = Field(default_factory=CoreSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    broker: BrokerSettings = Field(default_factory=BrokerSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    transcoder: TranscoderSettings = Field(default_factory=TranscoderSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    login_throttle: LoginThrottleSettings = Field(default_factory=LoginThrottleSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    edge: EdgeSettings = Field(default_factory=EdgeSettings)
    uploads: UploadSettings = Field(default_factory=UploadSettings)

    @classmethod
    def from_env(cls) -> Settings:
        return cls()

    @property
    def is_development(self) -> bool:
        return self.core.env is Environment.development

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{(self.core.data_dir / 'lessonbridge.db').resolve()}"

    @property
    def broker_dir(self) -> Path:
        return (self.core.data_dir / "broker").resolve()

    @property
    def public_api_url(self) -> str:
        """The API's address as clients reach it (signed URLs point here)."""
        return (self.api.public_url or f"http://{self.api.host}:{self.api.port}").rstrip("/")

    @property
    def search_url(self) -> str:
        return self.search.url or f"http://127.0.0.1:{self.search.port}"

    @property
    def log_json(self) -> bool:
        return self.core.log_json if self.core.log_json is not None else not self.is_development

    @property
    def secret_key(self) -> str:
        """The master secret. Only the API needs it (it derives its keys from it); resolved on
        first use, so a process that never asks (the search service, a worker) never reads it."""
        key = self.auth.secret_key
        if key is None and self.is_development:
            key = _development_secret(self.core.data_dir)
            object.__setattr__(self, "auth", self.auth.model_copy(update={"secret_key": key}))
        if key is None:
            raise PlaceholderSecretError(_SECRET_ADVICE.format(name="LB_SECRET_KEY", env=self.core.env.value))
        return key

    @property
    def has_master_secret(self) -> bool:
        return self.auth.secret_key is not None or self.is_development

    @property
    def keys(self) -> Keys:
        """The API's signing keys, one per purpose (services/common/keys.py)."""
        return derive_keys(self.secret_key)

    @property
    def search_principal_key(self) -> bytes:
        """What signs (API) and verifies (search service) the principals of internal calls."""
        if self.search.principal_key is not None:
            return key_bytes(self.search.principal_key)
        return self.keys.search_principal

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        # A missing key is refused where it is needed (`secret_key`): the search service and the
        # workers run without the master secret.
        if not self.is_development:
            for name, key in (("LB_SECRET_KEY", self.auth.secret_key),
                              ("LB_SEARCH_PRINCIPAL_KEY", self.search.principal_key)):
                if key is not None and (key.strip().lower() in _PLACEHOLDER_SECRETS or len(key) < MIN_SECRET_LENGTH):
                    raise PlaceholderSecretError(_SECRET_ADVICE.format(name=name, env=self.core.env.value))
        return self


_SECRET_ADVICE = (f"{{name}} must be set to a random value of at least {MIN_SECRET_LENGTH} characters when "
                  "LB_ENV={env} (try: python -c 'import secrets; print(secrets.token_urlsafe(48))')")


def _development_secret(data_dir: Path) -> str:
    """A per-checkout key, so tokens survive restarts of `make run` without anyone choosing one."""
    path = data_dir / ".secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
