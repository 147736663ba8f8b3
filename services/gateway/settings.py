"""The gateway's own settings (sign-in throttling, rate limits, CORS, refresh tokens), read
from the environment once at start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.gateway.domain.lockout import LockoutPolicy
from shared.config import ConfigError, Settings, env_reader


@dataclass(frozen=True)
class GatewaySettings:
    refresh_token_ttl_seconds: int
    account_lockout: LockoutPolicy
    address_lockout: LockoutPolicy
    client_requests_per_minute: int
    address_requests_per_minute: int
    cors_origins: frozenset[str]
    revocation_refresh_seconds: float
    key_grace_seconds: float
    trusted_proxies: int
    gateway_key_b64: str | None
    web_session_idle_seconds: float
    secure_cookies: bool
    internal_url: str


def load_gateway_settings(settings: Settings, environ: Mapping[str, str] | None = None) -> GatewaySettings:
    env = env_reader(environ)
    base = env.float("RELAIS_LOGIN_LOCKOUT_SECONDS", 30.0)
    ceiling = env.float("RELAIS_LOGIN_LOCKOUT_MAX_SECONDS", 900.0)
    return GatewaySettings(
        refresh_token_ttl_seconds=env.int("RELAIS_REFRESH_TOKEN_TTL_SECONDS", 12 * 3600),
        account_lockout=LockoutPolicy(env.int("RELAIS_LOGIN_MAX_FAILURES", 5), base, ceiling),
        address_lockout=LockoutPolicy(env.int("RELAIS_LOGIN_ADDRESS_MAX_FAILURES", 50), base, ceiling),
        client_requests_per_minute=env.int("RELAIS_RATE_LIMIT_CLIENT_PER_MINUTE", 3000),
        address_requests_per_minute=env.int("RELAIS_RATE_LIMIT_ADDRESS_PER_MINUTE", 6000),
        cors_origins=frozenset(o.strip().rstrip("/") for o in env.str("RELAIS_CORS_ORIGINS", "").split(",") if o.strip()),
        revocation_refresh_seconds=env.float("RELAIS_REVOCATION_REFRESH_SECONDS", 2.0),
        # An older signing key stays trusted this long after a newer one appears: the lifetime
        # of the last token it signed, plus a minute for clocks and caches.
        key_grace_seconds=env.float("RELAIS_KEY_GRACE_SECONDS", settings.token_ttl_seconds + 60.0),
        trusted_proxies=env.int("RELAIS_TRUSTED_PROXIES", 0),
        gateway_key_b64=env.str("RELAIS_GATEWAY_KEY", "") or None,
        web_session_idle_seconds=env.float("RELAIS_WEB_SESSION_IDLE_SECONDS", 1800.0),
        secure_cookies=_secure_cookies(env.str("RELAIS_WEB_SECURE_COOKIES", "auto"), settings.issuer),
        internal_url=env.str("RELAIS_GATEWAY_INTERNAL_URL", "").rstrip("/") or _own_address(settings),
    )


def _secure_cookies(raw: str, issuer: str) -> bool:
    value = raw.strip().lower()
    if value == "auto":
        return issuer.startswith("https://")
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise ConfigError("RELAIS_WEB_SECURE_COOKIES must be auto, true or false")


def _own_address(settings: Settings) -> str:
    """The gateway's own listening address, for its pages' server-to-server OAuth calls."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def gateway_key(settings: Settings, environ: Mapping[str, str] | None = None) -> bytes:
    """The key that seals the gateway's secrets at rest (TOTP seeds, web sessions' tokens)."""
    from services.gateway.adapters.secret_box import load_gateway_key

    return load_gateway_key(load_gateway_settings(settings, environ).gateway_key_b64, settings.var_dir / "keys")
