"""The audit service's own settings, read once from the environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.config import env_reader


@dataclass(frozen=True)
class AuditSettings:
    origin: str  # the checkpoint origin line: names this log
    checkpoint_every: int  # entries between two checkpoints at most
    checkpoint_seconds: float  # seconds between two checkpoints at most, when entries came in
    key_dir: Path  # where the checkpoint signing key lives
    no_contact_days: int  # a read with no write by the reader's organisation in this many days
    burst_persons: int  # reads outside the caseload of this many persons ...
    burst_minutes: int  # ... within this many minutes raise a signal


def audit_settings(var_dir: Path) -> AuditSettings:
    env = env_reader()
    return AuditSettings(
        origin=env.str("RELAIS_AUDIT_ORIGIN", "relais.local/audit"),
        checkpoint_every=max(1, env.int("RELAIS_AUDIT_CHECKPOINT_EVERY", 1000)),
        checkpoint_seconds=env.float("RELAIS_AUDIT_CHECKPOINT_SECONDS", 10.0),
        key_dir=Path(env.str("RELAIS_AUDIT_KEY_DIR", str(var_dir / "audit-keys"))),
        no_contact_days=env.int("RELAIS_AUDIT_NO_CONTACT_DAYS", 90),
        burst_persons=env.int("RELAIS_AUDIT_BURST_PERSONS", 20),
        burst_minutes=env.int("RELAIS_AUDIT_BURST_MINUTES", 10),
    )
