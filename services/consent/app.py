"""The consent service's composition root."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from services.consent.adapters import orm
from services.consent.adapters.keyring import Keyring, load_master_key
from services.consent.adapters.receipts import ReceiptSigner
from services.consent.adapters.unit_of_work import ConsentUnitOfWork
from services.consent.api import blueprints
from services.consent.handlers.common import ConsentContext
from services.consent.settings import ConsentSettings, load_consent_settings
from shared.auth import KeySource, StaticKeySource
from shared.config import Settings, load_settings
from shared.consent.policy import load_policy
from shared.runtime import build_runtime, create_app_for

SERVICE = "consent"


def build_context(settings: Settings, consent: ConsentSettings | None = None) -> ConsentContext:
    consent = consent or load_consent_settings(settings.var_dir)
    runtime = build_runtime(settings, orm.metadata)
    assert runtime.outbox is not None
    outbox = runtime.outbox
    return ConsentContext(
        settings=consent,
        keyring=Keyring(load_master_key(consent.master_key_b64, consent.keys_dir)),
        signer=ReceiptSigner.from_dir(consent.keys_dir),
        policy=load_policy(consent.policy_file),
        uow_factory=lambda: ConsentUnitOfWork(runtime.sessions, outbox),
    )


def create_app(
    config: Mapping[str, Any] | None = None,
    *,
    settings: Settings | None = None,
    keys: KeySource | StaticKeySource | None = None,
    consent: ConsentSettings | None = None,
) -> Flask:
    settings = settings or load_settings(SERVICE)
    app = create_app_for(
        settings,
        orm.metadata,
        title="Relais consent",
        blueprints=blueprints,
        config=config,
        keys=keys,
    )
    app.extensions["relais.consent"] = build_context(settings, consent)
    return app
