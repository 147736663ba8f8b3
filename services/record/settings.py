"""The record service's own settings, read from the environment through the shared reader."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shared.config import env_reader


@dataclass(frozen=True)
class RecordSettings:
    var_dir: Path
    master_key_b64: str | None
    protocol_file: str | None
    policy_file: str | None

    @property
    def keys_dir(self) -> Path:
        return self.var_dir / "keys"


def load_record_settings(var_dir: Path, environ: Mapping[str, str] | None = None) -> RecordSettings:
    env = env_reader(environ)
    return RecordSettings(
        var_dir=var_dir,
        master_key_b64=env.str("RECORD_MASTER_KEY", "") or None,
        protocol_file=env.str("RECORD_PROTOCOL_FILE", "") or None,
        # The same policy as the consent service, so both decide alike.
        policy_file=env.str("CONSENT_POLICY_FILE", "") or None,
    )
