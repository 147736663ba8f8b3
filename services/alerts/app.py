"""The alerts service's composition root."""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from flask import Flask, request

from services.alerts.adapters import orm
from services.alerts.adapters.unit_of_work import AlertsUnitOfWork
from services.alerts.adapters.webhook_store import SecretBox
from services.alerts.api import blueprints
from services.alerts.domain.rules import RuleBook, parse_rule_book
from services.alerts.handlers.common import AlertsContext
from services.alerts.settings import AlertsSettings, load_alerts_settings
from shared.auth import KeySource, StaticKeySource
from shared.config import Settings, load_settings
from shared.consent.policy import load_policy
from shared.runtime import build_runtime, create_app_for
from shared.vocabularies import Vocabulary, load_vocabulary, pick_language

SERVICE = "alerts"


def load_rules(journey: Vocabulary, path: str | None) -> RuleBook:
    if path:
        text = Path(path).read_text("utf-8")
    else:
        text = resources.files("services.alerts").joinpath("data/rules.json").read_text("utf-8")
    stall = {t.code: int(t.get("stall_days")) for t in journey["step_kind"] if t.get("stall_days")}
    return parse_rule_book(json.loads(text), stall)


def build_context(settings: Settings, alerts: AlertsSettings | None = None) -> AlertsContext:
    alerts = alerts or load_alerts_settings(settings.var_dir)
    runtime = build_runtime(settings, orm.metadata)
    assert runtime.outbox is not None
    outbox = runtime.outbox
    journey = load_vocabulary("journey")
    return AlertsContext(
        vocabulary=load_vocabulary("alerts"),
        journey_vocabulary=journey,
        rules=load_rules(journey, alerts.rules_file),
        policy=load_policy(alerts.policy_file),
        settings=alerts,
        secrets=SecretBox.load(alerts.master_key_b64, alerts.keys_dir),
        uow_factory=lambda: AlertsUnitOfWork(runtime.sessions, outbox),
    )


def create_app(
    config: Mapping[str, Any] | None = None,
    *,
    settings: Settings | None = None,
    keys: KeySource | StaticKeySource | None = None,
    alerts: AlertsSettings | None = None,
) -> Flask:
    settings = settings or load_settings(SERVICE)
    app = create_app_for(
        settings,
        orm.metadata,
        title="Relais alerts",
        blueprints=blueprints,
        config=config,
        keys=keys,
    )
    app.extensions["relais.alerts"] = build_context(settings, alerts)

    @app.after_request
    def _language(response):
        response.headers["Content-Language"] = pick_language(request.headers.get("Accept-Language"))
        response.vary.add("Accept-Language")
        return response

    return app
