"""The API of every service in one OpenAPI document (`/api/openapi.json`), as the door exposes
it, and an interactive page (`/api/docs`) served from the Swagger UI files of the
swagger-ui-bundle package: nothing is loaded from outside."""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
import swagger_ui_bundle
from flask import Blueprint, Response, current_app, jsonify, send_from_directory

from services.gateway.domain.scopes import SCOPES

bp = Blueprint("docs", __name__)

CACHE_SECONDS = 60.0

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Relais API</title>
<link rel="stylesheet" href="/api/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/docs/static/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script></body></html>"""

INIT = """window.ui = SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#swagger-ui",
  persistAuthorization: false, tryItOutEnabled: true});
window.ui.initOAuth({usePkceWithAuthorizationCodeGrant: true});"""


def _rename_refs(node: Any, prefix: str) -> Any:
    """Prefix every `#/components/schemas/X` so that two services' `Error` do not collide."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/schemas/"):
                out[key] = "#/components/schemas/" + prefix + value.rsplit("/", 1)[1]
            else:
                out[key] = _rename_refs(value, prefix)
        return out
    if isinstance(node, list):
        return [_rename_refs(item, prefix) for item in node]
    return node


def merge_documents(issuer: str, documents: dict[str, dict | None]) -> dict:
    """One document from each service's own: paths under /api/v1/<service>, schemas prefixed."""
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Relais API", "version": "1",
                 "description": "Every service behind the gateway. Sign in with OAuth (Authorize)."},
        "servers": [{"url": issuer}],
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {
            "oauth2": {"type": "oauth2", "flows": {
                "authorizationCode": {"authorizationUrl": f"{issuer}/oauth/authorize",
                                      "tokenUrl": f"{issuer}/oauth/token",
                                      "refreshUrl": f"{issuer}/oauth/token", "scopes": dict(SCOPES)},
                "clientCredentials": {"tokenUrl": f"{issuer}/oauth/token", "scopes": dict(SCOPES)}}},
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
        "security": [{"oauth2": []}, {"bearer": []}],
        "tags": [],
    }
    missing = []
    for service, document in documents.items():
        if document is None:
            missing.append(service)
            continue
        prefix = service.capitalize()
        document = _rename_refs(document, prefix)
        for path, item in document.get("paths", {}).items():
            merged["paths"][f"/api/v1/{service}{path}"] = item
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            merged["components"]["schemas"][prefix + name] = schema
        merged["tags"].extend(document.get("tags", []))
    if missing:
        merged["info"]["description"] += " Not answering now, so not listed: " + ", ".join(missing) + "."
    return merged


def _fetch(session: requests.Session, url: str) -> dict | None:
    try:
        response = session.get(f"{url}/openapi.json", timeout=3)
        return response.json() if response.status_code == 200 else None
    except (requests.RequestException, ValueError):
        return None


@bp.get("/api/openapi.json")
def openapi():
    now = time.monotonic()
    _cache, _cache_lock = current_app.extensions.setdefault(
        "relais.openapi_cache", ({"at": float("-inf"), "doc": None}, threading.Lock())
    )
    with _cache_lock:
        if _cache["doc"] is not None and now - _cache["at"] < CACHE_SECONDS:
            return jsonify(_cache["doc"])
    settings = current_app.extensions["relais.settings"]
    session = current_app.extensions["relais.upstream"]
    documents = {service: _fetch(session, url) for service, url in settings.service_urls.items()}
    doc = merge_documents(settings.issuer, documents)
    if all(d is not None for d in documents.values()):
        with _cache_lock:
            _cache.update(at=now, doc=doc)
    return jsonify(doc)


# Swagger UI styles its widgets inline and draws icons from data: URIs: this page, and only
# this one, allows both (still no inline script).
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


@bp.get("/api/docs")
def docs_page():
    return Response(PAGE, mimetype="text/html", headers={"Content-Security-Policy": DOCS_CSP})


@bp.get("/api/docs/init.js")
def docs_init():
    return Response(INIT, mimetype="text/javascript")


@bp.get("/api/docs/static/<path:filename>")
def docs_static(filename: str):
    response = send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=3600)
    return response
