"""The audit service's composition root."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from services.audit.adapters import orm
from services.audit.api import BLUEPRINTS
from services.audit.settings import audit_settings
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
    settings = settings or load_settings(SERVICE)
    app = create_app_for(
        settings,
        orm.metadata,
        title="Relais audit",
        blueprints=BLUEPRINTS,
        config=config,
        keys=keys,
    )
    app.extensions["relais.audit"] = audit_settings(settings.var_dir)
    return app
