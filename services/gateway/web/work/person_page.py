"""A person's page for the professional: who they are (when the professional may see their
identity), the summary (open steps by status, active episodes, the last transition and its
exit protocol's progress, référent, care team, last seen), a contact logged in at most three
interactions, and the timeline with filters, a page at a time."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext

from services.gateway.web import service_calls
from services.gateway.web.directory import look_up
from services.gateway.web.form_values import (
    FieldError,
    day_start,
    end_of_day,
    parse_day,
    parse_local_moment,
    service_field_errors,
)
from services.gateway.web.guards import signed_in
from services.gateway.web.published_codes import JourneyCodes, journey_codes
from services.gateway.web.service_calls import ServiceError
from services.gateway.web.work.alerts import person_alerts
from services.gateway.web.work.blueprint import PROFESSIONALS, bp, can_write
from shared.web.app_factory import accepts

FORM = "application/x-www-form-urlencoded"
TIMELINE_PAGE = 20
LAST_MODALITY = "work.last_modality"  # the professional's last modality, in their session


def timeline_query(args, categories: list[str], codes: JourneyCodes) -> tuple[dict[str, Any], dict[str, str],
                                                                             dict[str, FieldError]]:
    """The record API's timeline query from the filter form, the filters as typed, and what
    is not right in them."""
    filters = {name: (args.get(name) or "").strip() for name in ("category", "kind", "since", "until")}
    params: dict[str, Any] = {"limit": TIMELINE_PAGE}
    errors: dict[str, FieldError] = {}
    if filters["category"]:
        if filters["category"] in categories:
            params["category"] = filters["category"]
        else:
            errors["category"] = FieldError(gettext("Choose a part of the record from the list."))
    if filters["kind"]:
        if filters["kind"] in codes.codes("entry_kind"):
            params["kind"] = filters["kind"]
        else:
            errors["kind"] = FieldError(gettext("Choose a kind of entry from the list."))
    for name, moment in (("since", day_start), ("until", end_of_day)):  # "until" includes its day
        try:
            day = parse_day(filters[name])
        except ValueError:
            errors[name] = FieldError(gettext("Give a date like 2026-11-28."))
            continue
        if day is not None:
            params[name] = moment(day).isoformat()
    if "since" in params and "until" in params and params["since"] >= params["until"]:
        errors["until"] = FieldError(gettext("The end must come after the start."))
    cursor = (args.get("cursor") or "").strip()
    if cursor and len(cursor) <= 200:
        params["cursor"] = cursor
    return params, filters, errors


def contact_defaults(codes: JourneyCodes, entries: list[dict[str, Any]], remembered: str | None) -> dict[str, str]:
    """The contact form's choices when the page opens: the modality most used with this
    person (else the one this professional used last, else the first listed), and the outcome
    that counts as seen."""
    modalities = codes.codes("contact_modality")
    used = Counter(e["data"].get("modality") for e in entries
                   if e.get("kind") == "contact" and e["data"].get("modality") in modalities)
    if used:
        modality = max(used, key=lambda code: (used[code], -modalities.index(code)))
    elif remembered in modalities:
        modality = remembered
    else:
        modality = modalities[0] if modalities else ""
    seen = codes.with_attribute("contact_outcome", "seen", True)
    outcomes = codes.codes("contact_outcome")
    return {"modality": modality, "outcome": seen[0] if seen else (outcomes[0] if outcomes else "")}


def _identity(beneficiary_id: str, categories: list[str]) -> dict[str, Any] | None:
    if "identity" not in categories:
        return None
    try:
        return service_calls.get("consent", f"/beneficiaries/{beneficiary_id}/identity")
    except ServiceError as error:
        if error.status in (403, 404):
            return None
        raise


def _organisations(summary: dict[str, Any], entries: list[dict[str, Any]]) -> list[str | None]:
    found = [e["author"].get("organisation") for e in entries]
    found += [e["data"].get("organisation") for e in entries]
    found += [p.get("organisation") for p in [summary.get("referent") or {}, *summary.get("care_team", [])]]
    found += [(summary.get("last_seen") or {}).get("organisation")]
    found += [s.get("organisation") for s in summary.get("open_steps", [])]
    transition = summary.get("last_transition") or {}
    found += [a["data"].get("organisation") for a in transition.get("activations", [])]
    return found


def render_person(beneficiary_id: str, *, errors: dict[str, FieldError] | None = None,
                  contact: dict[str, str] | None = None, status: int = 200):
    codes = journey_codes()
    summary = service_calls.get("record", f"/beneficiaries/{beneficiary_id}/summary")
    params, filters, filter_errors = timeline_query(request.args, summary["categories"], codes)
    timeline = {"items": [], "next_cursor": None}
    if not filter_errors:
        try:
            timeline = service_calls.get("record", f"/beneficiaries/{beneficiary_id}/timeline", params=params)
        except ServiceError as error:
            if error.status != 422:
                raise
            filter_errors = service_field_errors(error, ("category", "kind", "since", "until"), "since")
    entries = timeline["items"]
    defaults = contact_defaults(codes, entries, session.get(LAST_MODALITY))
    directory = look_up(_organisations(summary, entries))
    filter_query = {k: v for k, v in filters.items() if v}
    next_query = filter_query | {"cursor": timeline["next_cursor"]} if timeline.get("next_cursor") else None
    return render_template(
        "work/person.html", beneficiary_id=beneficiary_id, summary=summary, entries=entries,
        identity=_identity(beneficiary_id, summary["categories"]), codes=codes, directory=directory,
        filters=filters, filter_query=filter_query, filter_errors=filter_errors, next_query=next_query,
        first_page="cursor" not in params, errors=errors or {}, contact=contact or defaults,
        can_write=can_write(),
        alerts=person_alerts(beneficiary_id) if "alerts" in summary["categories"] else None,
    ), 422 if filter_errors and status == 200 else status


@bp.get("/people/<uuid:beneficiary_id>")
@signed_in(*PROFESSIONALS)
def person(beneficiary_id):
    return render_person(str(beneficiary_id))


@bp.post("/people/<uuid:beneficiary_id>/contacts")
@accepts(FORM)
@signed_in(*PROFESSIONALS)
def log_contact(beneficiary_id):
    person_id = str(beneficiary_id)
    chosen = {name: request.form.get(name, "") for name in ("modality", "outcome", "occurred_at")}
    errors: dict[str, FieldError] = {}
    if not chosen["modality"]:
        errors["modality"] = FieldError(gettext("Choose how you were in contact."))
    if not chosen["outcome"]:
        errors["outcome"] = FieldError(gettext("Choose whether you met the person."))
    try:
        moment = parse_local_moment(chosen["occurred_at"])
    except ValueError:
        errors["occurred_at"] = FieldError(gettext("Give a day and a time, or leave it empty for now."))
        moment = None
    if errors:
        return render_person(person_id, errors=errors, contact=chosen, status=422)
    body: dict[str, Any] = {"modality": chosen["modality"], "outcome": chosen["outcome"],
                            "occurred_at": (moment or datetime.now(UTC)).isoformat()}
    try:
        service_calls.post("record", f"/beneficiaries/{person_id}/contacts", json=body)
    except ServiceError as error:
        if error.status != 422:
            raise
        return render_person(person_id, errors=service_field_errors(error, ("modality", "outcome", "occurred_at"),
                                                                     "occurred_at"),
                             contact=chosen, status=422)
    session[LAST_MODALITY] = chosen["modality"]
    flash(gettext("The contact is logged."))
    return redirect(url_for("work.person", beneficiary_id=person_id), code=303)
