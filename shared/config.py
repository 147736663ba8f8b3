"""Configuration from the environment (12-factor), with safe defaults for one machine.

Every setting Relais reads is declared here, once, so that the configuration table in the
README can be checked against this module by a test. Services call ``load_settings(name)``
and receive an immutable ``Settings``; nothing else reads ``os.environ``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

SERVICES: tuple[str, ...] = ("gateway", "consent", "record", "alerts", "audit")
# The port offset of each service from RELAIS_SERVICE_PORT_BASE (the gateway has its own port).
SERVICE_PORT_OFFSETS: Mapping[str, int] = {"consent": 1, "record": 2, "alerts": 3, "audit": 4}

# A service bound by its own interpreter answers more, and sooner, with fewer threads contending
# for it: record serves a timeline on about 1.6 ms of CPU, and at four threads its timelines
# came 3-8% more a second with a p99 10-16% lower than at eight (docs/benchmarks.md, section 7).
# The others mostly wait on the database or on a service (the gateway's threads bound how many
# calls it has in flight), and keep eight.
DEFAULT_WEB_THREADS: Mapping[str, int] = {"record": 4}

# name -> (default shown in the README, what it does). The test of the README reads this.
DOCUMENTED_VARIABLES: Mapping[str, tuple[str, str]] = {
    "RELAIS_VAR_DIR": ("./var", "Directory for SQLite files, keys, metrics and process state."),
    "DATABASE_URL": (
        "(unset)",
        "PostgreSQL server URL; each service then uses its own database `relais_<service>` on it.",
    ),
    "<SERVICE>_DATABASE_URL": (
        "sqlite:///var/<service>.db",
        "Database of one service (GATEWAY_, CONSENT_, RECORD_, ALERTS_, AUDIT_); wins over DATABASE_URL.",
    ),
    "AMQP_URL": ("amqp://guest:guest@127.0.0.1:5672/%2F", "RabbitMQ connection URL."),
    "RELAIS_HOST": ("127.0.0.1", "Address the gateway and the services listen on."),
    "RELAIS_PORT": ("8000", "Port of the gateway, the public door."),
    "RELAIS_SERVICE_PORT_BASE": (
        "8100",
        "Services listen on base+1 (consent), +2 (record), +3 (alerts), +4 (audit).",
    ),
    "<SERVICE>_URL": (
        "http://127.0.0.1:81xx",
        "Where the gateway reaches a service (CONSENT_URL, RECORD_URL, ALERTS_URL, AUDIT_URL).",
    ),
    "RELAIS_ISSUER": ("http://127.0.0.1:8000", "OAuth issuer (`iss` of every token)."),
    "RELAIS_JWKS_URL": ("<issuer>/.well-known/jwks.json", "Where services fetch the signing keys."),
    "RELAIS_TOKEN_TTL_SECONDS": ("300", "Lifetime of an access token."),
    "RELAIS_MAX_BODY_BYTES": ("65536", "Largest request body accepted (413 above)."),
    "RELAIS_LOG_LEVEL": ("INFO", "Log level (DEBUG, INFO, WARNING, ERROR)."),
    "RELAIS_LOG_FORMAT": ("json", "`json` for machines, `console` for people."),
    "RELAIS_WEB_WORKERS": ("1", "gunicorn worker processes per service."),
    "RELAIS_WEB_THREADS": ("8", "Threads per gunicorn worker (record: 4, see `<SERVICE>_WEB_THREADS`)."),
    "<SERVICE>_WEB_THREADS": (
        "(RELAIS_WEB_THREADS)",
        "Threads per gunicorn worker of one service (GATEWAY_, CONSENT_, RECORD_, ALERTS_, AUDIT_); wins over RELAIS_WEB_THREADS. Without either, record runs 4, the others 8.",
    ),
    "RELAIS_UPSTREAM_TIMEOUT_SECONDS": ("10", "Gateway timeout for a call to a service."),
    "RELAIS_PREFETCH": ("200", "Messages a consumer may hold unacknowledged."),
    "RELAIS_CONSUMER_BATCH": ("200", "Messages a consumer applies in one database transaction."),
    "RELAIS_MAX_ATTEMPTS": ("5", "Tries of a failing message before the dead-letter queue."),
    "RELAIS_RETRY_DELAYS_SECONDS": ("1,5,30", "Back-off before each retry (last one repeats)."),
    "RELAIS_RELAY_BATCH": ("500", "Outbox rows the relay publishes per batch."),
    "RELAIS_RELAY_POLL_SECONDS": ("0.2", "How often an idle relay looks for new outbox rows (on PostgreSQL it is also woken as soon as an urgent event, a consent change, commits)."),
    "RELAIS_OUTBOX_RETENTION_HOURS": ("168", "How long the relay keeps an outbox row once the broker has it (then deletes it, a batch at a time; the newest row of each stream always stays)."),
    "RELAIS_REFRESH_TOKEN_TTL_SECONDS": ("43200", "Lifetime of a refresh token (each refresh issues a new one)."),
    "RELAIS_LOGIN_MAX_FAILURES": ("5", "Failed sign-ins for one account name before it is locked."),
    "RELAIS_LOGIN_ADDRESS_MAX_FAILURES": ("50", "Failed sign-ins from one address before it is locked."),
    "RELAIS_LOGIN_LOCKOUT_SECONDS": ("30", "First sign-in lock; doubles with each further failure."),
    "RELAIS_LOGIN_LOCKOUT_MAX_SECONDS": ("900", "Longest sign-in lock."),
    "RELAIS_RATE_LIMIT_CLIENT_PER_MINUTE": ("3000", "API calls per minute per OAuth client, per gateway process (0 = off)."),
    "RELAIS_RATE_LIMIT_ADDRESS_PER_MINUTE": ("6000", "Requests per minute per client address, per gateway process (0 = off)."),
    "RELAIS_CORS_ORIGINS": ("(empty)", "Comma-separated origins allowed to call the gateway from a browser."),
    "RELAIS_REVOCATION_REFRESH_SECONDS": ("2", "How often each gateway process rereads the revoked access tokens."),
    "RELAIS_KEY_GRACE_SECONDS": ("token TTL + 60", "How long a replaced signing key stays published and trusted."),
    "RELAIS_TRUSTED_PROXIES": ("0", "Reverse proxies in front of the gateway whose X-Forwarded-* headers are trusted."),
    "RELAIS_GATEWAY_KEY": ("(unset: var/keys/gateway-secrets.key)", "Base64 of 32 bytes; seals the gateway's TOTP seeds and web sessions at rest and signs its session cookies and CSRF tokens."),
    "RELAIS_WEB_SESSION_IDLE_SECONDS": ("1800", "A web page session ends after this many seconds without a request."),
    "RELAIS_WEB_SECURE_COOKIES": ("auto", "`auto`: session cookies are Secure when RELAIS_ISSUER is https; `true` or `false` to force."),
    "RELAIS_GATEWAY_INTERNAL_URL": ("http://<RELAIS_HOST>:<RELAIS_PORT>", "Where the web pages reach the gateway's own OAuth endpoints, server to server."),
    "RELAIS_MASTER_KEY": ("(unset: var/keys/consent-master.key)", "Base64 of 32 bytes; wraps each person's data key and keys the HMACs of national numbers and share codes."),
    "CONSENT_WITHDRAWAL_MODE": ("strict", "`strict`: a withdrawal answers once the listed projections applied it; `eventual`: at once."),
    "CONSENT_STRICT_PROJECTIONS": ("record,alerts", "Comma-separated services whose consent projection must acknowledge a withdrawal (empty: none waits)."),
    "CONSENT_STRICT_TIMEOUT_SECONDS": ("5", "How long strict mode waits before answering 202."),
    "CONSENT_SHARE_CODE_MINUTES": ("15", "Lifetime of a share code."),
    "CONSENT_SHARE_CODE_MAX_ATTEMPTS": ("5", "Wrong share-code redemptions per professional per 15 minutes."),
    "CONSENT_EMERGENCY_MAX_HOURS": ("12", "Longest emergency access."),
    "CONSENT_POLICY_FILE": ("(shipped policy)", "A profession × category policy file replacing the shipped one."),
    "RECORD_MASTER_KEY": ("(unset: var/keys/record-master.key)", "Base64 of 32 bytes; wraps each person's journey data key (crypto-shredding on erasure)."),
    "RECORD_PROTOCOL_FILE": ("(shipped templates)", "Exit-protocol templates replacing the shipped ones (which services to activate after which transition)."),
    "ALERTS_SCAN_INTERVAL_SECONDS": ("60", "How often the alerts worker scans for due alerts, escalations and ended snoozes."),
    "ALERTS_SCAN_BATCH": ("5000", "Clocks or alerts a scan handles per transaction."),
    "ALERTS_RULES_FILE": ("(shipped rules)", "An alert rules file replacing the shipped defaults (services/alerts/data/rules.json)."),
    "ALERTS_TIME_ZONE": ("Europe/Brussels", "Time zone in which a due date ends (exit-protocol activations)."),
    "ALERTS_MASTER_KEY": ("(unset: var/keys/alerts-master.key)", "Base64 of 32 bytes; seals the webhook secrets at rest."),
    "ALERTS_WEBHOOK_ALLOW_PRIVATE": ("false", "Allow webhook targets on loopback, private, link-local or reserved addresses."),
    "ALERTS_WEBHOOK_REQUIRE_HTTPS": ("true", "Refuse webhook targets that are not https."),
    "ALERTS_WEBHOOK_TIMEOUT_SECONDS": ("5", "Timeout of one webhook delivery attempt."),
    "ALERTS_WEBHOOK_RETRY_DELAYS_SECONDS": ("10,60,300,1800,7200", "Back-off before each new attempt of a failed delivery; after the last, it is a dead letter."),
    "ALERTS_WEBHOOK_POLL_SECONDS": ("1", "How often an idle webhook deliverer looks for due deliveries."),
    "ALERTS_RESOLVED_RETENTION_DAYS": ("90", "Resolved alerts are deleted this many days after their resolution (once their period is over)."),
    "RELAIS_AUDIT_ORIGIN": ("relais.local/audit", "Checkpoint origin line and signing-key name."),
    "RELAIS_AUDIT_CHECKPOINT_EVERY": ("1000", "At most this many entries between checkpoints."),
    "RELAIS_AUDIT_CHECKPOINT_SECONDS": ("10", "At most this many seconds between checkpoints when entries came in."),
    "RELAIS_AUDIT_KEY_DIR": ("<RELAIS_VAR_DIR>/audit-keys", "Where the Ed25519 checkpoint key is created and kept."),
    "RELAIS_AUDIT_NO_CONTACT_DAYS": ("90", "A read with no write by the reader's organisation in this many days raises a signal."),
    "RELAIS_AUDIT_BURST_PERSONS": ("20", "This many persons read outside the caseload within RELAIS_AUDIT_BURST_MINUTES raises a signal."),
    "RELAIS_AUDIT_BURST_MINUTES": ("10", "The window of RELAIS_AUDIT_BURST_PERSONS."),
}


@dataclass(frozen=True)
class BusSettings:
    amqp_url: str
    prefetch: int
    consumer_batch: int
    max_attempts: int
    retry_delays: tuple[float, ...]
    relay_batch: int
    relay_poll_seconds: float
    outbox_retention_hours: float


@dataclass(frozen=True)
class Settings:
    service: str
    var_dir: Path
    database_url: str
    host: str
    port: int
    issuer: str
    jwks_url: str
    token_ttl_seconds: int
    max_body_bytes: int
    log_level: str
    log_format: str
    web_workers: int
    web_threads: int
    upstream_timeout_seconds: float
    service_urls: Mapping[str, str]
    bus: BusSettings
    extra: Mapping[str, object] = field(default_factory=dict)


class ConfigError(ValueError):
    """A variable is set to something Relais cannot use; the message names it."""


class EnvReader:
    """Typed reads from one mapping of variables, with errors that name the variable."""

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self._mapping = mapping

    def str(self, key: str, default: str) -> str:
        return self._mapping.get(key, default)

    def int(self, key: str, default: int) -> int:
        raw = self._mapping.get(key)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{key} must be a whole number, not {raw!r}") from None

    def float(self, key: str, default: float) -> float:
        raw = self._mapping.get(key)
        if raw is None or raw == "":
            return default
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{key} must be a number, not {raw!r}") from None


def _positive(value: float, key: str, *, most: float = 24 * 366 * 100) -> float:
    if not 0 < value <= most:
        raise ConfigError(f"{key} must be more than 0 and at most {most:g}, not {value!r}")
    return value


def env_reader(environ: Mapping[str, str] | None = None) -> EnvReader:
    """Typed reads of the environment, for settings that belong to one service. Every variable
    read this way must also be listed in DOCUMENTED_VARIABLES and in the README."""
    return EnvReader(os.environ if environ is None else environ)


def service_port(service: str, environ: Mapping[str, str] | None = None) -> int:
    env = EnvReader(os.environ if environ is None else environ)
    if service == "gateway":
        return env.int("RELAIS_PORT", 8000)
    return env.int("RELAIS_SERVICE_PORT_BASE", 8100) + SERVICE_PORT_OFFSETS[service]


def service_database_url(service: str, environ: Mapping[str, str] | None = None) -> str:
    """The database of one service: its own variable, else its own database on DATABASE_URL,
    else a SQLite file under the var directory."""
    env = os.environ if environ is None else environ
    own = env.get(f"{service.upper()}_DATABASE_URL")
    if own:
        return normalise_database_url(own)
    server = env.get("DATABASE_URL")
    if server:
        url = make_url(normalise_database_url(server))
        return url.set(database=f"relais_{service}").render_as_string(hide_password=False)
    var_dir = Path(env.get("RELAIS_VAR_DIR", "var")).resolve()
    return f"sqlite:///{var_dir / (service + '.db')}"


def normalise_database_url(url: str) -> str:
    """Accept the usual `postgres://` and `postgresql://` spellings and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def service_urls(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    env = os.environ if environ is None else environ
    host = env.get("RELAIS_HOST", "127.0.0.1")
    urls = {}
    for service in SERVICE_PORT_OFFSETS:
        default = f"http://{host}:{service_port(service, env)}"
        urls[service] = env.get(f"{service.upper()}_URL", default).rstrip("/")
    return urls


def load_settings(service: str, environ: Mapping[str, str] | None = None) -> Settings:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}")
    raw = dict(os.environ if environ is None else environ)
    env = EnvReader(raw)
    host = env.str("RELAIS_HOST", "127.0.0.1")
    gateway_port = service_port("gateway", raw)
    issuer = env.str("RELAIS_ISSUER", f"http://{host}:{gateway_port}").rstrip("/")
    try:
        delays = tuple(
            float(part) for part in env.str("RELAIS_RETRY_DELAYS_SECONDS", "1,5,30").split(",") if part
        )
    except ValueError:
        delays = ()
    if not delays or not all(math.isfinite(d) and 0 < d <= 86400 for d in delays):
        raise ConfigError("RELAIS_RETRY_DELAYS_SECONDS must list positive numbers of seconds")
    log_format = env.str("RELAIS_LOG_FORMAT", "json")
    if log_format not in ("json", "console"):
        raise ConfigError("RELAIS_LOG_FORMAT must be json or console")
    return Settings(
        service=service,
        var_dir=Path(env.str("RELAIS_VAR_DIR", "var")).resolve(),
        database_url=service_database_url(service, raw),
        host=host,
        port=service_port(service, raw),
        issuer=issuer,
        jwks_url=env.str("RELAIS_JWKS_URL", f"{issuer}/.well-known/jwks.json"),
        token_ttl_seconds=env.int("RELAIS_TOKEN_TTL_SECONDS", 300),
        max_body_bytes=env.int("RELAIS_MAX_BODY_BYTES", 64 * 1024),
        log_level=env.str("RELAIS_LOG_LEVEL", "INFO").upper(),
        log_format=log_format,
        web_workers=env.int("RELAIS_WEB_WORKERS", 1),
        web_threads=env.int(f"{service.upper()}_WEB_THREADS",
                            env.int("RELAIS_WEB_THREADS", DEFAULT_WEB_THREADS.get(service, 8))),
        upstream_timeout_seconds=env.float("RELAIS_UPSTREAM_TIMEOUT_SECONDS", 10.0),
        service_urls=service_urls(raw),
        bus=BusSettings(
            amqp_url=env.str("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
            prefetch=env.int("RELAIS_PREFETCH", 200),
            consumer_batch=env.int("RELAIS_CONSUMER_BATCH", 200),
            max_attempts=env.int("RELAIS_MAX_ATTEMPTS", 5),
            retry_delays=delays,
            relay_batch=env.int("RELAIS_RELAY_BATCH", 500),
            relay_poll_seconds=env.float("RELAIS_RELAY_POLL_SECONDS", 0.2),
            outbox_retention_hours=_positive(env.float("RELAIS_OUTBOX_RETENTION_HOURS", 168.0),
                                             "RELAIS_OUTBOX_RETENTION_HOURS"),
        ),
    )
