"""The gateway's composition root."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from flask import Flask
from requests.adapters import HTTPAdapter

from services.gateway.adapters import orm
from services.gateway.adapters.signing_keys import KeyStore
from services.gateway.api import oauth as oauth_api
from services.gateway.api import proxy
from services.gateway.oauth import init_oauth
from shared.auth import StaticKeySource, TokenVerifier, audience_of
from shared.config import Settings, load_settings
from shared.runtime import build_runtime
from shared.web.app_factory import create_service_app

SERVICE = "gateway"


def key_store(settings: Settings) -> KeyStore:
    return KeyStore(settings.var_dir / "keys")


def create_app(config: Mapping[str, Any] | None = None, *, settings: Settings | None = None) -> Flask:
    settings = settings or load_settings(SERVICE)
    runtime = build_runtime(settings, orm.metadata)
    keys = key_store(settings)
    keys.ensure_key()
    app = create_service_app(
        settings,
        title="Relais gateway",
        plain_blueprints=[oauth_api.bp, proxy.bp],
        readiness=runtime.readiness(broker=False),
        trust_request_id=False,  # the gateway creates every request id
        config=config,
    )
    app.extensions["relais.runtime"] = runtime
    app.extensions["relais.keys"] = keys
    app.extensions["relais.verifier"] = TokenVerifier(
        StaticKeySource(keys.public_key_set), issuer=settings.issuer, audience=audience_of(SERVICE)
    )
    upstream = requests.Session()
    adapter = HTTPAdapter(pool_connections=8, pool_maxsize=max(16, settings.web_threads * 2))
    upstream.mount("http://", adapter)
    upstream.mount("https://", adapter)
    app.extensions["relais.upstream"] = upstream
    app.extensions["relais.oauth"] = init_oauth(
        app, runtime.sessions, keys, settings.issuer, settings.token_ttl_seconds
    )
    return app
