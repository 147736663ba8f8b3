"""The OAuth endpoints (token, revocation, introspection) and the discovery documents. They
answer in the RFC 6749 JSON error format, which OAuth clients expect."""

from __future__ import annotations

from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import Blueprint, current_app, jsonify

from services.gateway.domain.scopes import SCOPES
from shared.web.app_factory import accepts

bp = Blueprint("oauth", __name__)

FORM = "application/x-www-form-urlencoded"


def _server():
    return current_app.extensions["relais.oauth"].server


@bp.post("/oauth/token")
@accepts(FORM)
def token():
    """Issue an access token (authorization code, client credentials, refresh token)."""
    return _server().create_token_response()


@bp.post("/oauth/revoke")
@accepts(FORM)
def revoke():
    """RFC 7009: revoke a refresh token (its whole sign-in) or an access token."""
    return _server().create_endpoint_response(RevocationEndpoint.ENDPOINT_NAME)


@bp.post("/oauth/introspect")
@accepts(FORM)
def introspect():
    """RFC 7662: is this token active, and what does it carry (for the client it was issued to)."""
    return _server().create_endpoint_response(IntrospectionEndpoint.ENDPOINT_NAME)


@bp.get("/.well-known/jwks.json")
def jwks():
    response = jsonify(current_app.extensions["relais.keys"].public_jwks())
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


def _metadata() -> dict:
    issuer = current_app.extensions["relais.settings"].issuer
    auth_methods = ["client_secret_basic", "client_secret_post", "none"]
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "scopes_supported": sorted(SCOPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "claims_supported": ["sub", "role", "org", "profession", "beneficiary"],
    }


@bp.get("/.well-known/oauth-authorization-server")
def authorization_server_metadata():
    return jsonify(_metadata())


@bp.get("/.well-known/openid-configuration")
def openid_configuration():
    return jsonify(_metadata())
