"""The auditor's pages: search the log (person, professional, organisation, action, outcome,
period; a page at a time), the verification of the chain with the last signed checkpoint, and
exports (CSV, JSON lines, FHIR) downloaded through the audit API. The audit service logs every
search and export as an access to the persons concerned."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext

from services.gateway.web import service_calls
from services.gateway.web.guards import signed_in
from services.gateway.web.i18n import TIMEZONE
from services.gateway.web.service_calls import ServiceError

bp = Blueprint("auditor", __name__, url_prefix="/audit")
AUDITORS = ("auditor", "admin")
TEXT_FILTERS = ("beneficiary_id", "actor", "organisation", "action", "outcome")
OUTCOMES = ("permit", "deny", "error")
PAGE_SIZES = (10, 50, 200)
PAGE_SIZE = 50
EXPORTS = {"csv": ("text/csv", "csv"), "jsonl": ("application/jsonl", "jsonl"),
           "fhir": ("application/fhir+json", "fhir.json")}


def _day_start(value: date) -> str:
    return datetime.combine(value, time(0), tzinfo=ZoneInfo(TIMEZONE)).isoformat()


def search_parameters(args) -> tuple[dict[str, Any], dict[str, str]]:
    """The audit API's query from the form's fields, and the fields that are not right."""
    params: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in TEXT_FILTERS:
        value = (args.get(name) or "").strip()
        if value:
            params[name] = value[:200]
    if "beneficiary_id" in params:
        try:
            params["beneficiary_id"] = str(uuid.UUID(params["beneficiary_id"]))
        except ValueError:
            errors["beneficiary_id"] = gettext("A person's identifier looks like 3fa85f64-5717-4562-b3fc-2c963f66afa6.")
    if params.get("outcome") and params["outcome"] not in OUTCOMES:
        errors["outcome"] = gettext("Choose an outcome from the list.")
    for name, shift in (("since", 0), ("until", 1)):
        value = (args.get(name) or "").strip()
        if not value:
            continue
        try:
            day = date.fromisoformat(value)
        except ValueError:
            errors[name] = gettext("Give a date like 2026-11-28.")
            continue
        params[name] = _day_start(day + timedelta(days=shift))  # "until" includes its whole day
    if "since" in params and "until" in params and params["since"] >= params["until"]:
        errors["until"] = gettext("The end must come after the start.")
    return params, errors


def _cursor(args) -> int | None:
    raw = args.get("cursor", "")
    return int(raw) if raw.isdigit() else None


def _page_size(args) -> int:
    raw = args.get("per_page", "")
    return int(raw) if raw.isdigit() and int(raw) in PAGE_SIZES else PAGE_SIZE


@bp.get("")
@signed_in(*AUDITORS)
def search():
    params, errors = search_parameters(request.args)
    searched = bool(params) or "search" in request.args
    found: dict[str, Any] = {"items": [], "next_cursor": None}
    if searched and not errors:
        query = {**params, "limit": _page_size(request.args)}
        cursor = _cursor(request.args)
        if cursor is not None:
            query["cursor"] = cursor
        try:
            found = service_calls.get("audit", "/events", params=query)
        except ServiceError as error:
            if error.status != 422:
                raise
            errors = {field: gettext("This value is not accepted.") for field in error.field_errors()} or {
                "search": gettext("This search is not accepted.")}
    filters = {name: request.args.get(name, "") for name in (*TEXT_FILTERS, "since", "until")}
    export_query = {k: v for k, v in filters.items() if v}
    per_page = _page_size(request.args)
    next_query = None
    if found.get("next_cursor") is not None:
        next_query = export_query | {"cursor": found["next_cursor"], "search": "1", "per_page": per_page}
    status = 422 if errors else 200
    return render_template("auditor/search.html", filters=filters, errors=errors, searched=searched,
                           items=found.get("items", []), next_query=next_query, export_query=export_query,
                           outcomes=OUTCOMES, first_page=_cursor(request.args) is None,
                           page_sizes=PAGE_SIZES, per_page=per_page), status


@bp.get("/export")
@signed_in(*AUDITORS)
def export():
    kind = request.args.get("format", "csv")
    if kind not in EXPORTS:
        kind = "csv"
    params, errors = search_parameters(request.args)
    if errors:
        return search()
    answer = service_calls.call("audit", "GET", "/events/export", params={**params, "format": kind},
                                accept="*/*")
    if answer.status_code >= 400:
        raise ServiceError("audit", answer.status_code)
    mimetype, extension = EXPORTS[kind]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    response = Response(answer.content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="relais-audit-{stamp}.{extension}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/verification")
@signed_in(*AUDITORS)
def verification():
    report = service_calls.get("audit", "/events/verification")
    latest = service_calls.call("audit", "GET", "/checkpoints/latest", accept="text/plain")
    note = latest.text if latest.status_code == 200 else None
    return render_template("auditor/verification.html", report=report, note=note)
