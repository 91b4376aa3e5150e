"""Settings read once from the environment (prefix STEPWISE_); nothing else reads os.environ."""

from __future__ import annotations

import re
import secrets
from datetime import time
from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# What a directory group may grant: the administrator flag, or a role or committee seat at a unit.
ROLE_GRANT = re.compile(r"admin|(role|committee):[A-Za-z0-9_\-]+@[^@\s]+")
PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "dev", "development"}


class Settings(BaseSettings):
    """Runtime configuration of one Stepwise process."""

    model_config = SettingsConfigDict(env_prefix="STEPWISE_", env_file=".env", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    var_dir: Path = PROJECT_ROOT / "var"
    database_url: str = ""
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    timezone: str = "Asia/Shanghai"
    # A worker reads HR's calendar corrections again after this long, so a correction made in
    # another worker is seen everywhere within it (at once in the worker that made it).
    calendar_share_seconds: float = Field(default=10.0, ge=0)
    default_locale: Literal["zh_CN", "en"] = "zh_CN"
    workflows_dir: Path = PROJECT_ROOT / "workflows"
    demo_mode: bool = Field(default=False, description="Sign-in page lists the demo accounts")
    scheduler_enabled: bool = True
    # `stepwise serve`: how long an idle HTTP keep-alive connection stays open. Longer than
    # the 60 s idle timeout of common proxies and load balancers, so the server is never the
    # side that closes a connection the proxy is about to reuse (uvicorn's own default is 5 s).
    keep_alive_seconds: int = Field(default=65, ge=1)
    session_max_age_seconds: int = 8 * 3600
    # Mail (issue 5): no SMTP host means the built-in mailbox page keeps the messages.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "Stepwise <stepwise@localhost>"
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout_seconds: float = 10.0
    smtp_retry_base_seconds: int = 60
    smtp_retry_max_seconds: int = 3600
    # Reminders and the scheduler (issue 5): local times in the organisation's timezone.
    quiet_hours_start: time = time(21, 0)
    quiet_hours_end: time = time(8, 0)
    digest_time: time = time(8, 0)
    digest_default: bool = False
    scheduler_interval_seconds: int = 60
    sweep_batch_size: int = 100
    sweep_round_size: int = Field(default=1_000, ge=1)  # due timers fired between deliveries
    outbox_lease_seconds: int = 300
    action_link_lifetime_hours: int = 7 * 24
    # Identity and hostile input (issue 6).
    session_idle_seconds: int = 2 * 3600  # a server-side session ends after this much silence
    lockout_account_failures: int = 5  # failed sign-ins on one account within the window
    lockout_address_failures: int = 20  # failed sign-ins from one address within the window
    lockout_window_seconds: int = 15 * 60
    password_reset_lifetime_minutes: int = 30
    password_min_length: int = 10
    # argon2id cost, OWASP's recommendation (19 MiB, 2 passes, 1 lane): ~30 ms of one core
    # per sign-in instead of the library defaults' ~0.2 s CPU and 0.5 s wall (64 MiB, 3, 4).
    password_hash_memory_kib: int = Field(default=19 * 1024, ge=8)
    password_hash_time_cost: int = Field(default=2, ge=1)
    password_hash_parallelism: int = Field(default=1, ge=1)
    trusted_header: str = ""  # e.g. "X-Remote-User" (employee number); empty turns it off
    trusted_proxies: list[str] = Field(default_factory=list)  # addresses allowed to set it
    rate_limit_sign_in_per_minute: int = 10  # per client address and account
    rate_limit_reset_per_minute: int = 5  # password-reset requests and link uses per address
    rate_limit_action_link_per_minute: int = 30  # /act/ requests per address
    api_token_lifetime_days: int = 365
    # Hardening (issue 19): mail, request limits, the sealed audit trail.
    mail_disabled: bool = False  # run without any mail (no SMTP host needed, no password reset)
    upload_max_files: int = Field(default=10, ge=1)  # files in one request
    upload_max_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)  # one multipart body
    request_max_bytes: int = Field(default=1024 * 1024, ge=1024)  # any other body
    audit_keys: dict[str, str] = Field(default_factory=dict)  # key id -> secret (JSON)
    audit_key_id: str = ""  # which key seals new events; the only one when there is one
    audit_checkpoint_dir: Path | None = None  # default var/audit-checkpoints
    audit_checkpoint_minutes: int = Field(default=60, ge=0)  # 0: only `stepwise audit checkpoint`
    audit_signing_key_file: Path | None = None  # Ed25519 private key (PEM); default in var/
    audit_verify_key_file: Path | None = None  # the public key verification trusts
    # Operations (issue 20): logs, metrics, readiness, a read replica, directory sign-in.
    log_format: Literal["auto", "json", "text"] = "auto"  # auto: JSON in production
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    metrics_token: str = ""  # `Authorization: Bearer <token>` opens /metrics from anywhere
    metrics_networks: list[str] = Field(default_factory=list)  # CIDRs that need no token
    # prometheus-client's own variable: where the worker processes keep their counters
    # (`stepwise serve --workers N` sets it to var/metrics when it is not set).
    prometheus_multiproc_dir: str = Field(default="", validation_alias="PROMETHEUS_MULTIPROC_DIR")
    scheduler_stale_seconds: int = 0  # readiness: a sweep this old is stale (0: 3 intervals+60)
    database_replica_url: str = ""  # a streaming replica for the dashboard, lists and exports
    directory_url: str = ""  # ldap://dc1:389 or ldaps://dc1:636; several: space-separated
    directory_start_tls: bool = False
    directory_ca_file: str = ""  # PEM bundle that signed the directory's certificate
    directory_tls_verify: bool = True
    directory_bind_dn: str = ""  # service account for the search (empty: bind as the user)
    directory_bind_password: str = ""
    directory_user_dn_template: str = ""  # e.g. uid={username},ou=people,dc=bank,dc=example
    directory_search_base: str = ""  # where the service account searches for the person
    directory_user_filter: str = "(uid={username})"  # AD: (sAMAccountName={username})
    directory_employee_number_attribute: str = "employeeNumber"
    directory_group_search_base: str = ""  # empty: read the person's memberOf attribute
    directory_group_filter: str = "(|(member={dn})(uniqueMember={dn}))"
    directory_group_roles: dict[str, str] = Field(default_factory=dict)  # group DN -> role
    directory_timeout_seconds: int = Field(default=5, ge=1)  # connect and each answer
    directory_local_fallback: bool = True  # Stepwise passwords for people the directory lacks

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        """Derive the defaults that depend on var/, and refuse what production cannot run on."""
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'stepwise.db'}"
        if self.audit_checkpoint_dir is None:
            self.audit_checkpoint_dir = self.var_dir / "audit-checkpoints"
        if self.audit_signing_key_file is None:
            self.audit_signing_key_file = self.var_dir / "audit-signing-key.pem"
        if len(self.audit_keys) > 1 and self.audit_key_id not in self.audit_keys:
            raise ValueError("STEPWISE_AUDIT_KEY_ID must name one of STEPWISE_AUDIT_KEYS "
                             "(the key that seals new audit events)")
        if self.database_replica_url and not self.database_url.startswith("postgres"):
            raise ValueError("STEPWISE_DATABASE_REPLICA_URL needs PostgreSQL as the database")
        if self.directory_url and not (self.directory_user_dn_template
                                       or self.directory_search_base):
            raise ValueError("STEPWISE_DIRECTORY_URL needs STEPWISE_DIRECTORY_USER_DN_TEMPLATE "
                             "(bind as the person) or STEPWISE_DIRECTORY_SEARCH_BASE (search)")
        for group, role in self.directory_group_roles.items():
            if not ROLE_GRANT.fullmatch(role):
                raise ValueError(f"STEPWISE_DIRECTORY_GROUP_ROLES: {group!r} maps to {role!r}; "
                                 "use admin, role:NAME@UNIT_CODE or committee:NAME@UNIT_CODE")
        for network in self.metrics_networks:
            ip_network(network, strict=False)  # a typo stops start-up, not a scrape
        if self.environment == "production":
            self._check_production()
        return self

    def _check_production(self) -> None:
        """Refuse placeholder secrets, a missing mail server and an unkeyed audit trail."""
        if self.secret_key.strip() in PLACEHOLDER_SECRETS:
            raise ValueError(
                "STEPWISE_SECRET_KEY must be set to a long random value in production"
            )
        if not self.smtp_host and not self.mail_disabled:
            raise ValueError(
                "production needs a mail server: set STEPWISE_SMTP_HOST, or set "
                "STEPWISE_MAIL_DISABLED=true to run without mail (no reminders by mail, no "
                "password reset); the built-in mailbox exists only in demo mode"
            )
        if not self.audit_keys:
            raise ValueError(
                'production needs an audit key: set STEPWISE_AUDIT_KEYS=\'{"<id>": "<secret>"}\' '
                "(a long random secret kept outside the database; see docs/security.md)"
            )
        short = [key_id for key_id, secret in self.audit_keys.items() if len(secret) < 32]
        if short:
            raise ValueError(f"STEPWISE_AUDIT_KEYS: the key {short[0]!r} is shorter than 32 "
                             "characters")

    @property
    def mail_transport(self) -> Literal["smtp", "mailbox", "off"]:
        """Where mail goes: an SMTP server; the built-in mailbox, only in demo mode (never in
        production, which refuses to start without a server unless mail is disabled); or
        nowhere (written down as not delivered)."""
        if self.smtp_host and not self.mail_disabled:
            return "smtp"
        if self.demo_mode and not self.mail_disabled and self.environment != "production":
            return "mailbox"
        return "off"

    @property
    def scheduler_stale_after(self) -> int:
        """Seconds after which the last sweep counts as stale for readiness."""
        return self.scheduler_stale_seconds or 3 * self.scheduler_interval_seconds + 60

    @property
    def is_sqlite(self) -> bool:
        """True when the embedded SQLite database is used."""
        return self.database_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The configured secret, or one generated once into var/ for development."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
