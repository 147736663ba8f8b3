"""Token endpoint and discovery documents."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from services.gateway.domain.scopes import SCOPES
from shared.web.app_factory import accepts

bp = Blueprint("oauth", __name__)


@bp.post("/oauth/token")
@accepts("application/x-www-form-urlencoded")
def token():
    """Issue an access token (OAuth 2.1 token endpoint)."""
    return current_app.extensions["relais.oauth"].create_token_response()


@bp.get("/.well-known/jwks.json")
def jwks():
    response = jsonify(current_app.extensions["relais.keys"].public_jwks())
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


def _metadata() -> dict:
    issuer = current_app.extensions["relais.settings"].issuer
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oauth/token",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": sorted(SCOPES),
        "response_types_supported": [],
    }


@bp.get("/.well-known/oauth-authorization-server")
def authorization_server_metadata():
    return jsonify(_metadata())


@bp.get("/.well-known/openid-configuration")
def openid_configuration():
    return jsonify(_metadata())
