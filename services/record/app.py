"""The record service's composition root."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from services.record.adapters import orm
from services.record.api import blp
from shared.auth import KeySource, StaticKeySource
from shared.config import Settings, load_settings
from shared.runtime import create_app_for

SERVICE = "record"


def create_app(
    config: Mapping[str, Any] | None = None,
    *,
    settings: Settings | None = None,
    keys: KeySource | StaticKeySource | None = None,
) -> Flask:
    return create_app_for(
        settings or load_settings(SERVICE),
        orm.metadata,
        title="Relais record",
        blueprints=[blp],
        config=config,
        keys=keys,
    )
