"""Steps (démarches): start one, and move one along its life cycle (blocked with a coded
blocker). The statuses offered are those the record service says a step may start in or go
to next; what it still refuses is shown beside the field, in its words."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext

from services.gateway.web import service_calls
from services.gateway.web.form_values import FieldError, parse_day, service_field_errors
from services.gateway.web.guards import signed_in
from services.gateway.web.published_codes import journey_codes
from services.gateway.web.service_calls import ServiceError
from services.gateway.web.work.blueprint import PROFESSIONALS, bp
from shared.web.app_factory import accepts

FORM = "application/x-www-form-urlencoded"
STEP_FIELDS = {"step_kind": "step_kind", "status": "status", "blocker": "blocker",
               "organisation": "organisation", "due_date": "due_date"}


def _back(beneficiary_id: str) -> str:
    return url_for("work.person", beneficiary_id=beneficiary_id)


def _new_step_page(beneficiary_id: str, form: dict[str, str], errors: dict[str, FieldError], status: int = 200):
    codes = journey_codes()
    return render_template("work/step_new.html", beneficiary_id=beneficiary_id, codes=codes, form=form,
                           errors=errors, initial=[i for i in codes.offered("step_status")
                                                   if i["code"] in codes.initial("step_status")]), status


@bp.get("/people/<uuid:beneficiary_id>/steps/new")
@signed_in(*PROFESSIONALS)
def new_step_form(beneficiary_id):
    codes = journey_codes()
    starts = codes.initial("step_status")
    return _new_step_page(str(beneficiary_id), {"status": starts[0] if starts else ""}, {})


def _required_field(status: str, form: dict[str, str], errors: dict[str, FieldError]) -> str | None:
    """The field the chosen status needs (the blocker of a blocked step), checked here so the
    page can say it in plain words; None when the status needs none."""
    need = journey_codes().requirement("step_status", status)
    if need is None:
        return None
    if not form.get(need["field"]):
        errors[need["field"]] = FieldError(gettext("Say what blocks the step."))
    return need["field"]


@bp.post("/people/<uuid:beneficiary_id>/steps")
@accepts(FORM)
@signed_in(*PROFESSIONALS)
def new_step(beneficiary_id):
    person = str(beneficiary_id)
    form = {name: request.form.get(name, "").strip() for name in STEP_FIELDS}
    errors: dict[str, FieldError] = {}
    if not form["step_kind"]:
        errors["step_kind"] = FieldError(gettext("Choose the kind of step."))
    needed = _required_field(form["status"], form, errors)
    try:
        due = parse_day(form["due_date"])
    except ValueError:
        errors["due_date"] = FieldError(gettext("Give a date like 2026-11-28."))
        due = None
    if errors:
        return _new_step_page(person, form, errors, 422)
    body: dict[str, Any] = {"step_kind": form["step_kind"], "organisation": form["organisation"] or None,
                            "due_date": due.isoformat() if due else None}
    if form["status"]:
        body["status"] = form["status"]
    if needed:
        body[needed] = form[needed]
    try:
        service_calls.post("record", f"/beneficiaries/{person}/steps", json=body)
    except ServiceError as error:
        if error.status != 422:
            raise
        return _new_step_page(person, form, service_field_errors(error, STEP_FIELDS, "step_kind"), 422)
    flash(gettext("The step is started."))
    return redirect(_back(person), code=303)


def _open_step(beneficiary_id: str, step_id: str) -> dict[str, Any]:
    summary = service_calls.get("record", f"/beneficiaries/{beneficiary_id}/summary")
    for step in summary["open_steps"]:
        if step["step_id"] == step_id:
            return step
    raise ServiceError("record", 404)  # finished, or never there: the same answer


def _step_page(beneficiary_id: str, step: dict[str, Any], form: dict[str, str], errors: dict[str, FieldError],
               status: int = 200):
    codes = journey_codes()
    allowed = codes.next_statuses("step_status", step["status"])
    return render_template("work/step_move.html", beneficiary_id=beneficiary_id, step=step, codes=codes,
                           statuses=[i for i in codes.offered("step_status") if i["code"] in allowed],
                           form=form, errors=errors), status


@bp.get("/people/<uuid:beneficiary_id>/steps/<uuid:step_id>")
@signed_in(*PROFESSIONALS)
def step_form(beneficiary_id, step_id):
    step = _open_step(str(beneficiary_id), str(step_id))
    return _step_page(str(beneficiary_id), step, {"status": "", "blocker": step.get("blocker") or ""}, {})


@bp.post("/people/<uuid:beneficiary_id>/steps/<uuid:step_id>/status")
@accepts(FORM)
@signed_in(*PROFESSIONALS)
def move_step(beneficiary_id, step_id):
    person, step_id = str(beneficiary_id), str(step_id)
    step = _open_step(person, step_id)
    form = {"status": request.form.get("status", ""), "blocker": request.form.get("blocker", "")}
    errors: dict[str, FieldError] = {}
    if not form["status"]:
        errors["status"] = FieldError(gettext("Choose where the step stands now."))
    needed = _required_field(form["status"], form, errors)
    if errors:
        return _step_page(person, step, form, errors, 422)
    body = {"status": form["status"]}
    if needed:
        body[needed] = form[needed]
    try:
        service_calls.post("record", f"/beneficiaries/{person}/steps/{step_id}/status", json=body)
    except ServiceError as error:
        if error.status != 422:
            raise
        return _step_page(person, step, form, service_field_errors(error, ("status", "blocker"), "status"), 422)
    flash(gettext("The step is moved."))
    return redirect(_back(person), code=303)
