"""The alerts service's own settings, read from the environment through the shared reader."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.config import ConfigError, EnvReader, env_reader


@dataclass(frozen=True)
class AlertsSettings:
    var_dir: Path
    scan_interval_seconds: float
    scan_batch: int
    rules_file: str | None
    policy_file: str | None
    time_zone: ZoneInfo
    master_key_b64: str | None
    webhook_allow_private: bool
    webhook_require_https: bool
    webhook_timeout_seconds: float
    webhook_retry_delays: tuple[float, ...]
    webhook_poll_seconds: float
    resolved_retention_days: int

    @property
    def keys_dir(self) -> Path:
        return self.var_dir / "keys"

    @property
    def webhook_max_attempts(self) -> int:
        return len(self.webhook_retry_delays) + 1


def _flag(env: EnvReader, name: str, default: bool) -> bool:
    raw = env.str(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _positive(name: str, value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a positive number")
    return value


def load_alerts_settings(var_dir: Path, environ: Mapping[str, str] | None = None) -> AlertsSettings:
    env = env_reader(environ)
    zone_name = env.str("ALERTS_TIME_ZONE", "Europe/Brussels")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"ALERTS_TIME_ZONE: no time zone named {zone_name!r}") from None
    try:
        delays = tuple(float(part) for part in
                       env.str("ALERTS_WEBHOOK_RETRY_DELAYS_SECONDS", "10,60,300,1800,7200").split(",")
                       if part.strip())
    except ValueError:
        delays = ()
    if not delays or not all(math.isfinite(d) and 0 < d <= 86400 for d in delays):
        raise ConfigError("ALERTS_WEBHOOK_RETRY_DELAYS_SECONDS must list positive numbers of seconds")
    batch = env.int("ALERTS_SCAN_BATCH", 5000)
    if not 1 <= batch <= 10000:
        raise ConfigError("ALERTS_SCAN_BATCH must be from 1 to 10000")
    retention = env.int("ALERTS_RESOLVED_RETENTION_DAYS", 90)
    if retention < 1:
        raise ConfigError("ALERTS_RESOLVED_RETENTION_DAYS must be at least 1")
    return AlertsSettings(
        var_dir=var_dir,
        scan_interval_seconds=_positive("ALERTS_SCAN_INTERVAL_SECONDS",
                                        env.float("ALERTS_SCAN_INTERVAL_SECONDS", 60.0)),
        scan_batch=batch,
        rules_file=env.str("ALERTS_RULES_FILE", "") or None,
        # The same policy as the consent service, so both decide alike.
        policy_file=env.str("CONSENT_POLICY_FILE", "") or None,
        time_zone=zone,
        master_key_b64=env.str("ALERTS_MASTER_KEY", "") or None,
        webhook_allow_private=_flag(env, "ALERTS_WEBHOOK_ALLOW_PRIVATE", False),
        webhook_require_https=_flag(env, "ALERTS_WEBHOOK_REQUIRE_HTTPS", True),
        webhook_timeout_seconds=_positive("ALERTS_WEBHOOK_TIMEOUT_SECONDS",
                                          env.float("ALERTS_WEBHOOK_TIMEOUT_SECONDS", 5.0)),
        webhook_retry_delays=delays,
        webhook_poll_seconds=_positive("ALERTS_WEBHOOK_POLL_SECONDS",
                                       env.float("ALERTS_WEBHOOK_POLL_SECONDS", 1.0)),
        resolved_retention_days=retention,
    )
