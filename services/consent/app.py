"""The consent service's composition root."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from services.consent.adapters import orm
from services.consent.api import blp
from shared.auth import KeySource, StaticKeySource
from shared.config import Settings, load_settings
from shared.runtime import create_app_for

SERVICE = "consent"


def create_app(
    config: Mapping[str, Any] | None = None,
    *,
    settings: Settings | None = None,
    keys: KeySource | StaticKeySource | None = None,
) -> Flask:
    return create_app_for(
        settings or load_settings(SERVICE),
        orm.metadata,
        title="Relais consent",
        blueprints=[blp],
        config=config,
        keys=keys,
    )
