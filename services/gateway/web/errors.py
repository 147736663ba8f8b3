"""Errors of the pages, shown as pages in plain words with what to do next — never a trace.
The API keeps answering problem+json; only the pages' blueprints (and addresses nobody serves,
asked for by a browser) get these."""

from __future__ import annotations

from flask import Blueprint, Flask, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from services.gateway.web.account import SignedOut
from services.gateway.web.service_calls import ServiceError, ServiceUnavailable
from shared.logs import get_logger
from shared.web.problems import problem_from_http_exception, problem_response

log = get_logger("relais.gateway.web")
_API_PREFIXES = ("/api/", "/oauth/", "/.well-known/", "/healthz", "/readyz", "/metrics")


def error_page(status: int, title: str, message: str, *, action: str | None = None,
               action_label: str | None = None):
    html = render_template("error.html", status=status, title=title, message=message,
                           action=action or url_for("pages.home"),
                           action_label=action_label or gettext("Go to the start page"),
                           request_id=getattr(g, "request_id", ""))
    return html, status, {"Cache-Control": "no-store"}


def _signed_out(_error: SignedOut):
    if request.method == "GET":
        return redirect(url_for("pages.signin"))
    return error_page(401, gettext("Your session has ended"),
                      gettext("For your safety, sessions end after a while without use. "
                              "Sign in again, then do it once more."),
                      action=url_for("pages.signin"), action_label=gettext("Sign in"))


def _unavailable(_error: ServiceUnavailable):
    return error_page(503, gettext("This part of Relais is not answering"),
                      gettext("Nothing was lost. Wait a minute, then try again."),
                      action=request.full_path if request.method == "GET" else None,
                      action_label=gettext("Try again") if request.method == "GET" else None)


def _service_error(error: ServiceError):
    if error.status == 404:
        return _not_found(None)
    if error.status == 403:
        return _forbidden(None)
    if error.status == 429:
        return error_page(429, gettext("Too many tries"),
                          gettext("Wait a quarter of an hour, then try again."))
    return error_page(400, gettext("This could not be done"),
                      gettext("The request was refused and nothing was changed. Go back, check what "
                              "you entered and try again."))


def _not_found(_error):
    return error_page(404, gettext("Nothing here"),
                      gettext("This page does not exist, or it is not yours to see."))


def _forbidden(_error):
    return error_page(403, gettext("Not for this account"),
                      gettext("You are signed in with an account that may not open this page."))


def _csrf(_error: CSRFError):
    return error_page(400, gettext("This form has expired"),
                      gettext("Nothing was changed. Go back, reload the page and send the form again."))


def _http(error: HTTPException):
    if error.code == 404:
        return _not_found(error)
    if error.code == 405:
        return error_page(405, gettext("Not this way"),
                          gettext("This page cannot be used like that. Start again from the start page."))
    if error.code == 413:
        return error_page(413, gettext("Too much text"),
                          gettext("What you sent is too long. Shorten it and try again."))
    return error_page(error.code or 400, gettext("This could not be done"),
                      gettext("Go back and try again."))


def _unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return _http(error)
    log.exception("unhandled error on a page", error=type(error).__name__)
    return error_page(500, gettext("Something went wrong on our side"),
                      gettext("Nothing was lost. Try again in a moment. If it happens again, give this "
                              "code to the person who helps you with Relais."))


def install_on(blueprint: Blueprint) -> None:
    blueprint.register_error_handler(SignedOut, _signed_out)
    blueprint.register_error_handler(ServiceUnavailable, _unavailable)
    blueprint.register_error_handler(ServiceError, _service_error)
    blueprint.register_error_handler(CSRFError, _csrf)
    blueprint.register_error_handler(HTTPException, _http)
    blueprint.register_error_handler(Exception, _unexpected)


def install_fallback(app: Flask) -> None:
    """An address nobody serves: a page for a browser, problem+json for an API client."""

    def wants_page() -> bool:
        if request.path.startswith(_API_PREFIXES):
            return False
        accept = request.accept_mimetypes
        return accept.best_match(["application/json", "application/problem+json", "text/html"]) == "text/html"

    def _page_or_problem(error: HTTPException):
        if wants_page():
            return _http(error)
        return problem_response(problem_from_http_exception(error))

    app.register_error_handler(404, _page_or_problem)
    app.register_error_handler(405, _page_or_problem)

