"""The audit service's composition root."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from services.audit.adapters import orm
from services.audit.api import blp
from shared.auth import KeySource, StaticKeySource
from shared.config import Settings, load_settings
from shared.runtime import create_app_for

SERVICE = "audit"


def create_app(
    config: Mapping[str, Any] | None = None,
    *,
    settings: Settings | None = None,
    keys: KeySource | StaticKeySource | None = None,
) -> Flask:
    return create_app_for(
        settings or load_settings(SERVICE),
        orm.metadata,
        title="Relais audit",
        blueprints=[blp],
        config=config,
        keys=keys,
    )
