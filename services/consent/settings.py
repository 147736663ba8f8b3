"""The consent service's own settings, read from the environment through the shared reader."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shared.config import ConfigError, env_reader

# name -> (default, meaning); listed for the README's configuration table.
VARIABLES: Mapping[str, tuple[str, str]] = {
    "RELAIS_MASTER_KEY": ("(unset: key file under var/keys)",
                          "Base64 of 32 bytes: the master key that wraps each person's data key."),
    "CONSENT_WITHDRAWAL_MODE": ("strict", "strict: a withdrawal returns once every listed projection applied it; eventual: at once."),
    "CONSENT_STRICT_PROJECTIONS": ("record,alerts", "Comma-separated services whose projection must acknowledge a withdrawal in strict mode."),
    "CONSENT_STRICT_TIMEOUT_SECONDS": ("5", "How long a strict withdrawal waits for acknowledgements before answering 202."),
    "CONSENT_SHARE_CODE_MINUTES": ("15", "Lifetime of a share code."),
    "CONSENT_SHARE_CODE_MAX_ATTEMPTS": ("5", "Wrong redemptions allowed per professional per 15 minutes."),
    "CONSENT_EMERGENCY_MAX_HOURS": ("12", "Longest emergency access a professional may open."),
    "CONSENT_POLICY_FILE": ("(unset: the shipped policy)", "A profession × category policy file replacing the shipped one."),
}


@dataclass(frozen=True)
class ConsentSettings:
    var_dir: Path
    master_key_b64: str | None
    withdrawal_mode: str
    strict_projections: tuple[str, ...]
    strict_timeout_seconds: float
    share_code_minutes: int
    share_code_max_attempts: int
    emergency_max_hours: int
    policy_file: str | None

    @property
    def keys_dir(self) -> Path:
        return self.var_dir / "keys"


def load_consent_settings(var_dir: Path, environ: Mapping[str, str] | None = None) -> ConsentSettings:
    env = env_reader(environ)
    mode = env.str("CONSENT_WITHDRAWAL_MODE", "strict")
    if mode not in ("strict", "eventual"):
        raise ConfigError("CONSENT_WITHDRAWAL_MODE must be strict or eventual")
    projections = tuple(
        p.strip() for p in env.str("CONSENT_STRICT_PROJECTIONS", "record,alerts").split(",") if p.strip()
    )
    return ConsentSettings(
        var_dir=var_dir,
        master_key_b64=env.str("RELAIS_MASTER_KEY", "") or None,
        withdrawal_mode=mode,
        strict_projections=projections,
        strict_timeout_seconds=env.float("CONSENT_STRICT_TIMEOUT_SECONDS", 5.0),
        share_code_minutes=env.int("CONSENT_SHARE_CODE_MINUTES", 15),
        share_code_max_attempts=env.int("CONSENT_SHARE_CODE_MAX_ATTEMPTS", 5),
        emergency_max_hours=env.int("CONSENT_EMERGENCY_MAX_HOURS", 12),
        policy_file=env.str("CONSENT_POLICY_FILE", "") or None,
    )
