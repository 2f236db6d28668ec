"""One typed settings object, read from the environment, with safe defaults for the embedded run."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

DEFAULT_SECRET = "dev-only-insecure-secret-change-me"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CHALLENGES = Path(__file__).resolve().parent / "challenges" / "configs"
ENVIRONMENTS = ("development", "testing", "production")
PASSWORD_HASH_COSTS = ("standard", "cheapest")
INSTANCE_ID = re.compile(r"[a-z0-9]{2,16}")


class SettingsError(ValueError):
    """The environment asks for something the platform refuses to run with."""


@dataclass(frozen=True)
class Settings:
    """Everything the web process, the scheduler and the CLI need to know about their surroundings."""

    env: str = "development"
    secret_key: str = DEFAULT_SECRET
    instance_dir: Path = PROJECT_ROOT / "instance"
    database_url: str = ""
    storage_dir: Path = Path()
    challenge_files: tuple[Path, ...] = ()
    eval_runner: str = "local"
    port: int = 8000
    host: str = "127.0.0.1"  # the embedded run's address (`python -m app.launcher`)
    web_concurrency: int = 2  # gunicorn workers of the embedded run
    public_url: str = ""  # the address people reach the platform at, for links in e-mails (default: this port)
    session_hours: int = 12
    secure_cookies: bool = False
    proxy_hops: int = 0  # reverse proxies in front (TLS terminated there): trust their X-Forwarded-* headers
    rate_limit_scale: float = 1.0  # multiplies every rate limit; 0 turns them off (never in production)
    # Notifications: e-mail through SMTP, sent by the scheduler only (no host: e-mails stay queued).
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "Large AI Grand Challenge <noreply@localhost>"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    # Operations: Prometheus bearer token for /metrics, the folder where each web worker keeps its metrics
    # (prometheus_client's multiprocess mode), log format ("text" or "json").
    metrics_token: str = ""
    metrics_dir: Path = Path()
    # A short name for this instance in its cluster jobs' names; empty: the one stored in the database.
    instance_id: str = ""
    log_format: str = "text"
    # The scheduler: seconds between cycles, and between its cheap checks for urgent work.
    scheduler_interval: float = 2.0
    scheduler_wake: float = 0.25
    # The Hugging Face Hub that intake and the release check read from (one endpoint for every Hub call).
    hub_endpoint: str = "https://huggingface.co"
    # Privacy: retention periods (see the /privacy page).
    retention_notification_days: int = 365
    retention_invitation_days: int = 90
    retention_audit_years: int = 10
    retention_application_years: int = 5
    # Storage housekeeping: an unused blob or left-over folder is deleted once unchanged for this long.
    storage_gc_grace_hours: int = 24
    # The lock this environment was installed from: its sha256 goes into each evaluation's provenance.
    lock_file: Path = PROJECT_ROOT / "uv.lock"
    # Sites: a lease not renewed by the site's heartbeats for this long expires (and the site counts as offline);
    # the largest results or samples file a site may upload.
    site_lease_seconds: float = 60.0
    site_upload_max_bytes: int = 8 * 1024**3
    # Memory each web worker may use for public pages served without Flask (app.ops.public_cache); 0: off.
    public_cache_mb: float = 64.0
    # Password hashing cost: "standard" (argon2id, 64 MiB and 3 passes, about 0.1 s a hash), or "cheapest",
    # argon2's smallest parameters, which only the test suite may use (LAGC_ENV=testing): it hashes thousands
    # of passwords. A hash made cheaply is rehashed with the standard cost at the next sign-in.
    password_hash_cost: str = "standard"

    def __post_init__(self) -> None:
        if self.env not in ENVIRONMENTS:
            raise SettingsError(f"LAGC_ENV must be one of {', '.join(ENVIRONMENTS)}, not {self.env!r}")
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.instance_dir / 'platform.db'}")
        if self.storage_dir == Path():
            object.__setattr__(self, "storage_dir", self.instance_dir / "storage")
        if self.metrics_dir == Path():
            object.__setattr__(self, "metrics_dir", self.instance_dir / "metrics")
        if not self.challenge_files:
            object.__setattr__(self, "challenge_files", tuple(sorted(BUNDLED_CHALLENGES.glob("*.toml"))))
        if self.eval_runner not in ("local", "slurm"):
            raise SettingsError(f"LAGC_EVAL_RUNNER must be 'local' or 'slurm', not {self.eval_runner!r}")
        if self.public_cache_mb < 0:
            raise SettingsError("LAGC_PUBLIC_CACHE_MB must be 0 (off) or more")
        if self.password_hash_cost not in PASSWORD_HASH_COSTS:
            raise SettingsError(
                f"LAGC_PASSWORD_HASH_COST must be one of {', '.join(PASSWORD_HASH_COSTS)}, not {self.password_hash_cost!r}"
            )
        if self.password_hash_cost != "standard" and self.env != "testing":
            raise SettingsError(
                f"LAGC_PASSWORD_HASH_COST={self.password_hash_cost} is for the test suite only (LAGC_ENV=testing)"
            )
        object.__setattr__(self, "public_url", (self.public_url or f"http://127.0.0.1:{self.port}").rstrip("/"))
        if self.instance_id and not INSTANCE_ID.fullmatch(self.instance_id):
            raise SettingsError(
                f"LAGC_INSTANCE_ID must be 2 to 16 lower-case letters and digits, not {self.instance_id!r}"
            )
        if self.storage_gc_grace_hours < 1:  # storing a blob and pinning it must fit in the grace period
            raise SettingsError("LAGC_STORAGE_GC_GRACE_HOURS must be at least 1")
        if self.scheduler_interval <= 0 or self.scheduler_wake < 0:
            raise SettingsError("LAGC_SCHEDULER_INTERVAL must be above 0 and LAGC_SCHEDULER_WAKE at least 0")
        if self.site_lease_seconds < 1 or self.site_upload_max_bytes < 1:
            raise SettingsError("LAGC_SITE_LEASE_SECONDS and LAGC_SITE_UPLOAD_MAX_BYTES must be at least 1")

    @property
    def production(self) -> bool:
        return self.env == "production"

    def check_safe_to_serve(self) -> None:
        """Refuse to run in production with the default secret or a missing one, or without rate limits."""
        if self.production and (self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32):
            raise SettingsError(
                "Refusing to start in production with the default or a short SECRET_KEY: "
                "set SECRET_KEY to at least 32 random characters."
            )
        if self.production and self.rate_limit_scale <= 0:
            raise SettingsError("Refusing to start in production with rate limits off (LAGC_RATE_LIMIT_SCALE).")

    def with_overrides(self, **changes) -> "Settings":
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Read the settings from environment variables (see README.md for the list)."""
        env = os.environ if environ is None else environ
        instance = Path(env.get("LAGC_INSTANCE_DIR", PROJECT_ROOT / "instance")).resolve()
        files = tuple(Path(p) for p in env.get("LAGC_CHALLENGES", "").split(os.pathsep) if p)
        mode = env.get("LAGC_ENV", "development")
        try:
            port = int(env.get("PORT", "8000"))
            hours = int(env.get("LAGC_SESSION_HOURS", "12"))
        except ValueError as exc:
            raise SettingsError(f"PORT and LAGC_SESSION_HOURS must be whole numbers ({exc})") from None
        return cls(
            env=mode,
            secret_key=env.get("SECRET_KEY", DEFAULT_SECRET),
            instance_dir=instance,
            database_url=env.get("DATABASE_URL", ""),
            storage_dir=_folder(env, "LAGC_STORAGE_DIR"),
            challenge_files=files,
            eval_runner=env.get("LAGC_EVAL_RUNNER", "local"),
            port=port,
            host=env.get("HOST", "127.0.0.1"),
            web_concurrency=int(_number(env, "WEB_CONCURRENCY", 2)),
            public_url=env.get("LAGC_PUBLIC_URL", ""),
            session_hours=hours,
            secure_cookies=env.get("LAGC_SECURE_COOKIES", "1" if mode == "production" else "0") == "1",
            rate_limit_scale=_number(env, "LAGC_RATE_LIMIT_SCALE", 1.0),
            proxy_hops=int(_number(env, "LAGC_PROXY_HOPS", 0)),
            smtp_host=env.get("LAGC_SMTP_HOST", ""),
            smtp_port=int(_number(env, "LAGC_SMTP_PORT", 25)),
            smtp_from=env.get("LAGC_SMTP_FROM", cls.smtp_from),
            smtp_user=env.get("LAGC_SMTP_USER", ""),
            smtp_password=env.get("LAGC_SMTP_PASSWORD", ""),
            smtp_starttls=env.get("LAGC_SMTP_STARTTLS", "0") == "1",
            metrics_token=env.get("LAGC_METRICS_TOKEN", ""),
            metrics_dir=_folder(env, "PROMETHEUS_MULTIPROC_DIR"),
            scheduler_interval=_number(env, "LAGC_SCHEDULER_INTERVAL", 2.0),
            scheduler_wake=_number(env, "LAGC_SCHEDULER_WAKE", 0.25),
            hub_endpoint=env.get("HF_ENDPOINT") or "https://huggingface.co",
            instance_id=env.get("LAGC_INSTANCE_ID", ""),
            log_format=env.get("LAGC_LOG_FORMAT", "json" if mode == "production" else "text"),
            retention_notification_days=int(_number(env, "LAGC_RETENTION_NOTIFICATION_DAYS", 365)),
            retention_invitation_days=int(_number(env, "LAGC_RETENTION_INVITATION_DAYS", 90)),
            retention_audit_years=int(_number(env, "LAGC_RETENTION_AUDIT_YEARS", 10)),
            retention_application_years=int(_number(env, "LAGC_RETENTION_APPLICATION_YEARS", 5)),
            storage_gc_grace_hours=int(_number(env, "LAGC_STORAGE_GC_GRACE_HOURS", 24)),
            lock_file=Path(env.get("LAGC_LOCK_FILE") or cls.lock_file).resolve(),
            site_lease_seconds=_number(env, "LAGC_SITE_LEASE_SECONDS", 60.0),
            site_upload_max_bytes=int(_number(env, "LAGC_SITE_UPLOAD_MAX_BYTES", 8 * 1024**3)),
            public_cache_mb=_number(env, "LAGC_PUBLIC_CACHE_MB", 64.0),
            password_hash_cost=env.get("LAGC_PASSWORD_HASH_COST", "standard"),
        )


def _number(env: Mapping[str, str], key: str, default: float) -> float:
    try:
        return float(env.get(key, default))
    except ValueError:
        raise SettingsError(f"{key} must be a number") from None


def _folder(env: Mapping[str, str], key: str) -> Path:
    """The folder a variable names, made absolute; `Path()` (the default under the instance folder) when unset."""
    return Path(env[key]).resolve() if env.get(key) else Path()
