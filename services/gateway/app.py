"""The gateway's composition root."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from flask import Flask
from requests.adapters import HTTPAdapter
from werkzeug.middleware.proxy_fix import ProxyFix

from services.gateway import web
from services.gateway.adapters import orm
from services.gateway.adapters.login_throttle import LoginThrottle
from services.gateway.adapters.rate_limits import RateLimiter
from services.gateway.adapters.secret_box import totp_box
from services.gateway.adapters.signing_keys import KeyStore
from services.gateway.adapters.upstream import Upstreams
from services.gateway.api import docs, edge, login, proxy
from services.gateway.api import oauth as oauth_api
from services.gateway.oauth import init_oauth
from services.gateway.settings import gateway_key, load_gateway_settings
from shared.auth import StaticKeySource, TokenVerifier, audience_of
from shared.config import Settings, load_settings
from shared.runtime import build_runtime
from shared.web.app_factory import create_service_app

SERVICE = "gateway"


def key_store(settings: Settings, clock: Callable[[], float] | None = None) -> KeyStore:
    grace = load_gateway_settings(settings).key_grace_seconds
    if clock is None:
        return KeyStore(settings.var_dir / "keys", grace_seconds=grace)
    return KeyStore(settings.var_dir / "keys", grace_seconds=grace, clock=clock)


def create_app(
    config: Mapping[str, Any] | None = None,
    *,
    settings: Settings | None = None,
    clock: Callable[[], float] | None = None,
) -> Flask:
    """``clock`` (seconds since the epoch) lets tests move time for keys and tokens."""
    settings = settings or load_settings(SERVICE)
    gateway = load_gateway_settings(settings)
    runtime = build_runtime(settings, orm.metadata)
    keys = key_store(settings, clock)
    keys.ensure_key()
    secrets_key = gateway_key(settings)
    app = create_service_app(
        settings,
        title="Relais gateway",
        plain_blueprints=[oauth_api.bp, login.bp, proxy.bp, docs.bp],
        readiness=runtime.readiness(broker=False),
        trust_request_id=False,  # the gateway creates every request id
        config=config,
    )
    edge.install(app)
    # Authlib's debug lines print whole token responses; never let them reach the logs.
    logging.getLogger("authlib").setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))
    verifier_clock = {"clock": clock} if clock is not None else {}
    verifier = TokenVerifier(
        StaticKeySource(keys.public_key_set), issuer=settings.issuer, audience=audience_of(SERVICE),
        **verifier_clock,
    )
    app.extensions.update({
        "relais.runtime": runtime,
        "relais.keys": keys,
        "relais.verifier": verifier,
        "relais.gateway_settings": gateway,
        "relais.upstream": _upstream_session(settings),
        "relais.upstreams": Upstreams(settings.service_urls, timeout=settings.upstream_timeout_seconds),
        "relais.client_limiter": RateLimiter(gateway.client_requests_per_minute),
        "relais.address_limiter": RateLimiter(gateway.address_requests_per_minute),
        "relais.login_throttle": LoginThrottle(
            runtime.sessions, gateway.account_lockout, gateway.address_lockout, clock=clock or time.time
        ),
    })
    app.extensions["relais.oauth"] = init_oauth(
        app, runtime.sessions, keys, verifier, settings.issuer, settings.token_ttl_seconds,
        gateway.refresh_token_ttl_seconds, gateway.revocation_refresh_seconds,
        totp_seeds=totp_box(secrets_key),
    )
    web.install(app, settings=settings, gateway=gateway, key=secrets_key, sessions=runtime.sessions,
                verifier=verifier, clock=clock or time.time,
                api_blueprints=[oauth_api.bp, proxy.bp, docs.bp, login.bp])
    # The calls of the API are answered before Flask's request cycle; the rest goes on to it.
    app.wsgi_app = proxy.ApiDoor(app, app.wsgi_app)  # type: ignore[method-assign]
    if gateway.trusted_proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=gateway.trusted_proxies, x_proto=gateway.trusted_proxies,
            x_host=gateway.trusted_proxies,
        )
    return app


def _upstream_session(settings: Settings) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # never route service calls through a proxy from the environment
    adapter = HTTPAdapter(pool_connections=8, pool_maxsize=max(16, settings.web_threads * 2))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
