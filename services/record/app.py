"""The record service's composition root."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

from flask import Flask, request

from services.record.adapters import orm
from services.record.adapters.sealing import PersonKeys, load_master_key
from services.record.adapters.unit_of_work import RecordUnitOfWork
from services.record.api import blueprints
from services.record.api.reading import door_views
from services.record.domain.transitions import ProtocolTemplates, parse_templates
from services.record.handlers.common import RecordContext
from services.record.handlers.heads import keep_heads
from services.record.settings import RecordSettings, load_record_settings
from shared.auth import KeySource, StaticKeySource
from shared.config import Settings, load_settings
from shared.consent.policy import load_policy
from shared.runtime import build_runtime, create_app_for
from shared.vocabularies import Vocabulary, load_vocabulary, pick_language
from shared.web.door import install_door

SERVICE = "record"


def load_templates(vocabulary: Vocabulary, path: str | None) -> ProtocolTemplates:
    if path:
        text = Path(path).read_text("utf-8")
    else:
        text = resources.files("services.record").joinpath("data/protocols.json").read_text("utf-8")
    return parse_templates(json.loads(text), vocabulary)


def build_context(settings: Settings, record: RecordSettings | None = None) -> RecordContext:
    record = record or load_record_settings(settings.var_dir)
    runtime = build_runtime(settings, orm.metadata)
    assert runtime.outbox is not None
    outbox = runtime.outbox
    vocabulary = load_vocabulary("journey")
    keys = PersonKeys(load_master_key(record.master_key_b64, record.keys_dir))
    heads = partial(keep_heads, vocabulary=vocabulary, keys=keys)
    return RecordContext(
        vocabulary=vocabulary,
        templates=load_templates(vocabulary, record.protocol_file),
        policy=load_policy(record.policy_file),
        keys=keys,
        uow_factory=lambda: RecordUnitOfWork(runtime.sessions, outbox, keep_heads=heads),
        read_uow_factory=lambda: RecordUnitOfWork(runtime.read_sessions, outbox, autocommit=True),
    )


def create_app(
    config: Mapping[str, Any] | None = None,
    *,
    settings: Settings | None = None,
    keys: KeySource | StaticKeySource | None = None,
    record: RecordSettings | None = None,
) -> Flask:
    settings = settings or load_settings(SERVICE)
    app = create_app_for(
        settings,
        orm.metadata,
        title="Relais record",
        blueprints=blueprints,
        config=config,
        keys=keys,
    )
    app.extensions["relais.record"] = build_context(settings, record)

    @app.after_request
    def _language(response):
        response.headers["Content-Language"] = pick_language(request.headers.get("Accept-Language"))
        response.vary.add("Accept-Language")
        return response

    # The timeline, read all day, is answered before Flask's request cycle (shared/web/door.py).
    install_door(app, door_views(app))
    return app
