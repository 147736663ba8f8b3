"""Transitions: record a discharge or an exit with the person's fragility, which starts its
exit protocol (the services to activate, proposed by the record service from its templates),
then work through the protocol's checklist: contacted, acknowledged, or declined with a
reason; add a service that the templates did not propose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext

from services.gateway.web import service_calls
from services.gateway.web.directory import look_up
from services.gateway.web.form_values import (
    ZONE,
    FieldError,
    parse_day,
    parse_local_moment,
    service_field_errors,
)
from services.gateway.web.guards import signed_in
from services.gateway.web.published_codes import journey_codes
from services.gateway.web.service_calls import ServiceError
from services.gateway.web.work.blueprint import PROFESSIONALS, bp, can_write
from shared.web.app_factory import accepts

FORM = "application/x-www-form-urlencoded"
ADDED_SERVICE_DAYS = 7  # the due date an added service is proposed with


def _transition_page(beneficiary_id: str, form: dict[str, str], errors: dict[str, FieldError], status: int = 200):
    codes = journey_codes()
    return render_template("work/transition_new.html", beneficiary_id=beneficiary_id, codes=codes, form=form,
                           flags=codes.fragility_flags(), errors=errors), status


@bp.get("/people/<uuid:beneficiary_id>/transitions/new")
@signed_in(*PROFESSIONALS)
def transition_form(beneficiary_id):
    return _transition_page(str(beneficiary_id), {}, {})


@bp.post("/people/<uuid:beneficiary_id>/transitions")
@accepts(FORM)
@signed_in(*PROFESSIONALS)
def record_transition(beneficiary_id):
    person = str(beneficiary_id)
    codes = journey_codes()
    flags = codes.fragility_flags()
    form = {name: request.form.get(name, "").strip()
            for name in ("transition_kind", "occurred_at", *(f"fragility.{flag}" for flag in flags))}
    errors: dict[str, FieldError] = {}
    if not form["transition_kind"]:
        errors["transition_kind"] = FieldError(gettext("Choose what the person left."))
    for flag in flags:
        if not form[f"fragility.{flag}"]:
            errors[f"fragility.{flag}"] = FieldError(gettext("Choose one: it decides whom the protocol proposes."))
    try:
        moment = parse_local_moment(form["occurred_at"])
    except ValueError:
        errors["occurred_at"] = FieldError(gettext("Give a day and a time, or leave it empty for now."))
        moment = None
    if errors:
        return _transition_page(person, form, errors, 422)
    body = {"transition_kind": form["transition_kind"],
            "occurred_at": (moment or datetime.now(UTC)).isoformat(),
            "fragility": {flag: form[f"fragility.{flag}"] for flag in flags}}
    try:
        service_calls.post("record", f"/beneficiaries/{person}/transitions", json=body)
    except ServiceError as error:
        if error.status != 422:
            raise
        fields = {"transition_kind": "transition_kind", "occurred_at": "occurred_at",
                  **{f"fragility.{flag}": f"fragility.{flag}" for flag in flags}}
        return _transition_page(person, form, service_field_errors(error, fields, "transition_kind"), 422)
    flash(gettext("The exit is recorded and its protocol started: work through it below."))
    return redirect(url_for("work.protocol", beneficiary_id=person), code=303)


def _protocol_page(beneficiary_id: str, errors: dict[str, dict[str, FieldError]] | None = None,
                   added: dict[str, str] | None = None, status: int = 200):
    codes = journey_codes()
    summary = service_calls.get("record", f"/beneficiaries/{beneficiary_id}/summary")
    transition = summary.get("last_transition")
    if transition is None:
        raise ServiceError("record", 404)
    activations = transition["activations"]
    directory = look_up([a["data"].get("organisation") for a in activations])
    moves = {a["activation_id"]: codes.next_statuses("activation_status", a["data"]["status"])
             for a in activations}
    default_due = (datetime.now(ZONE).date() + timedelta(days=ADDED_SERVICE_DAYS)).isoformat()
    declined = codes.status_requiring("activation_status", "reason")
    return render_template("work/protocol.html", beneficiary_id=beneficiary_id, transition=transition,
                           declined=declined,
                           activations=activations, moves=moves, codes=codes, directory=directory,
                           errors=errors or {}, added=added or {"due_date": default_due},
                           can_write=can_write(), flags=codes.fragility_flags()), status


@bp.get("/people/<uuid:beneficiary_id>/protocol")
@signed_in(*PROFESSIONALS)
def protocol(beneficiary_id):
    return _protocol_page(str(beneficiary_id))


@bp.post("/people/<uuid:beneficiary_id>/activations/<uuid:activation_id>/status")
@accepts(FORM)
@signed_in(*PROFESSIONALS)
def move_activation(beneficiary_id, activation_id):
    person, activation = str(beneficiary_id), str(activation_id)
    chosen = request.form.get("status", "")
    body: dict[str, Any] = {"status": chosen}
    need = journey_codes().requirement("activation_status", chosen)
    if need is not None:  # a decline needs its reason
        value = request.form.get(need["field"], "")
        if not value:
            return _protocol_page(person, {activation: {need["field"]: FieldError(gettext(
                "Say why they declined."))}}, status=422)
        body[need["field"]] = value
    try:
        service_calls.post("record", f"/beneficiaries/{person}/activations/{activation}/status", json=body)
    except ServiceError as error:
        if error.status != 422:
            raise
        return _protocol_page(person, {activation: service_field_errors(error, ("status", "reason"), "status")},
                              status=422)
    flash(gettext("The checklist is updated."))
    return redirect(url_for("work.protocol", beneficiary_id=person) + f"#activation-{activation}", code=303)


@bp.post("/people/<uuid:beneficiary_id>/transitions/<uuid:transition_id>/activations")
@accepts(FORM)
@signed_in(*PROFESSIONALS)
def add_activation(beneficiary_id, transition_id):
    person = str(beneficiary_id)
    added = {name: request.form.get(name, "").strip() for name in ("service_kind", "organisation", "due_date")}
    errors: dict[str, FieldError] = {}
    if not added["service_kind"]:
        errors["service_kind"] = FieldError(gettext("Choose the service to activate."))
    try:
        due = parse_day(added["due_date"])
    except ValueError:
        due = None
    if due is None:
        errors["due_date"] = FieldError(gettext("Give the day by which they should be reached, like 2026-11-28."))
    if errors:
        return _protocol_page(person, {"add": errors}, added, 422)
    body = {"service_kind": added["service_kind"], "due_date": due.isoformat(),
            "organisation": added["organisation"] or None}
    try:
        service_calls.post("record", f"/beneficiaries/{person}/transitions/{transition_id}/activations", json=body)
    except ServiceError as error:
        if error.status != 422:
            raise
        return _protocol_page(person, {"add": service_field_errors(
            error, ("service_kind", "organisation", "due_date"), "service_kind")}, added, 422)
    flash(gettext("The service is added to the protocol."))
    return redirect(url_for("work.protocol", beneficiary_id=person), code=303)
