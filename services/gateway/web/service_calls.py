"""The pages call the services' APIs over HTTP with the signed-in person's access token, at
the same upstream addresses the door forwards to; they never read another service's data.
Each call carries the request id and the page's language."""

from __future__ import annotations

from typing import Any

import requests
from flask import current_app, g

from services.gateway.web.account import SignedOut, access_token, end_session
from services.gateway.web.i18n import current_language


class ServiceError(Exception):
    """A service answered with an error; ``problem`` is its problem+json body when it sent one."""

    def __init__(self, service: str, status: int, problem: dict[str, Any] | None = None) -> None:
        super().__init__(f"{service} answered {status}")
        self.service = service
        self.status = status
        self.problem = problem or {}

    def field_errors(self) -> dict[str, str]:
        return {str(e.get("field")): str(e.get("message")) for e in self.problem.get("errors") or []}


class ServiceUnavailable(Exception):
    """A service did not answer (down, or too slow)."""

    def __init__(self, service: str) -> None:
        super().__init__(f"{service} did not answer")
        self.service = service


def call(service: str, method: str, path: str, *, json: Any = None,
         params: dict[str, Any] | None = None, accept: str = "application/json") -> requests.Response:
    settings = current_app.extensions["relais.settings"]
    http: requests.Session = current_app.extensions["relais.upstream"]
    headers = {"Authorization": f"Bearer {access_token()}", "Accept": accept,
               "Accept-Language": current_language(), "X-Request-ID": g.request_id}
    try:
        response = http.request(method, settings.service_urls[service] + path, json=json, params=params,
                                headers=headers, timeout=(3.0, settings.upstream_timeout_seconds),
                                allow_redirects=False)
    except requests.RequestException:
        raise ServiceUnavailable(service) from None
    if response.status_code == 401:  # the sign-in ended (revoked elsewhere, or the person erased)
        end_session()
        raise SignedOut()
    if response.status_code >= 500:
        raise ServiceUnavailable(service)
    return response


def _problem(response: requests.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def call_json(service: str, method: str, path: str, **kwargs: Any) -> Any:
    """The JSON answer of a successful call; ServiceError otherwise."""
    response = call(service, method, path, **kwargs)
    if response.status_code >= 400:
        raise ServiceError(service, response.status_code, _problem(response))
    try:
        return response.json()
    except ValueError:
        raise ServiceUnavailable(service) from None


def get(service: str, path: str, **kwargs: Any) -> Any:
    return call_json(service, "GET", path, **kwargs)


def post(service: str, path: str, **kwargs: Any) -> Any:
    return call_json(service, "POST", path, **kwargs)
