"""The alerts inbox: the alerts that reach me (as référent, as care team, or passed on to
me), a page at a time; and handling one — acknowledge it with a coded reason and, when I know
it, the day the person was last seen; resolve it with a coded reason; snooze it for some days.
An alert is a prompt to reach out, never a score: the pages show no count per person beyond
what is open, and logging a contact resolves a "not seen" alert by itself."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext

from services.gateway.web import service_calls
from services.gateway.web.directory import look_up
from services.gateway.web.errors import error_page
from services.gateway.web.form_values import FieldError, parse_day, service_field_errors
from services.gateway.web.guards import signed_in
from services.gateway.web.published_codes import AlertCodes, alert_codes
from services.gateway.web.service_calls import ServiceError
from services.gateway.web.work.blueprint import bp, can_write
from shared.web.app_factory import accepts

FORM = "application/x-www-form-urlencoded"
HANDLERS = ("professional",)
PAGE = 25
SNOOZE_CHOICES = (1, 3, 7, 14, 30)


def alert_not_found():
    return error_page(404, gettext("Alert not found"),
                      gettext("This alert is not found, or it is not yours to see. It may have been "
                              "resolved already."),
                      action=url_for("work.alerts"), action_label=gettext("Back to my alerts"))


def _cursor() -> str | None:
    raw = (request.args.get("cursor") or "").strip()
    return raw if raw and len(raw) <= 300 else None


@bp.get("/alerts")
@signed_in(*HANDLERS)
def alerts():
    params: dict[str, Any] = {"limit": PAGE}
    if _cursor():
        params["cursor"] = _cursor()
    page = service_calls.get("alerts", "/alerts", params=params)
    return render_template("work/alerts.html", items=page["items"], next_cursor=page.get("next_cursor"),
                           first_page="cursor" not in params, codes=alert_codes(),
                           directory=look_up([a.get("organisation") for a in page["items"]]),
                           can_write=can_write())


def snooze_choices(codes: AlertCodes, alert: dict[str, Any]) -> list[int]:
    """The snoozes offered: within the rule's longest (all when the rule says none)."""
    longest = codes.snooze_days(alert["rule"])
    return [d for d in SNOOZE_CHOICES if not longest or d <= longest] or [1]


def _alert_page(alert_id: str, errors: dict[str, dict[str, FieldError]] | None = None,
                form: dict[str, str] | None = None, refused: str | None = None, status: int = 200):
    try:
        alert = service_calls.get("alerts", f"/alerts/{alert_id}")
    except ServiceError as error:
        if error.status == 404:
            return alert_not_found()
        raise
    codes = alert_codes()
    return render_template(
        "work/alert.html", alert=alert, codes=codes, errors=errors or {}, form=form or {},
        refused=refused, snooze_days=snooze_choices(codes, alert),
        acknowledgement_reasons=codes.offered("acknowledgement_reason"),
        resolution_reasons=codes.offered_with("resolution_reason", "automatic", False),
        directory=look_up([alert.get("organisation")]), can_write=can_write(),
    ), status


@bp.get("/alerts/<uuid:alert_id>")
@signed_in(*HANDLERS)
def alert(alert_id):
    return _alert_page(str(alert_id))


def _body(action: str, form: dict[str, str]) -> tuple[dict[str, Any], dict[str, FieldError]]:
    errors: dict[str, FieldError] = {}
    if action == "acknowledge":
        if not form.get("reason"):
            errors["reason"] = FieldError(gettext("Choose what you know."))
        try:
            last_seen = parse_day(form.get("last_seen_on"))
        except ValueError:
            errors["last_seen_on"] = FieldError(gettext("Give a date like 2026-11-28, or leave it empty."))
            last_seen = None
        return {"reason": form.get("reason", ""), "last_seen_on": last_seen.isoformat() if last_seen else None}, errors
    if action == "resolve":
        if not form.get("reason"):
            errors["reason"] = FieldError(gettext("Choose why it is resolved."))
        return {"reason": form.get("reason", "")}, errors
    days = form.get("days", "")
    if not days.isdigit():
        errors["days"] = FieldError(gettext("Choose for how long."))
        return {}, errors
    return {"days": int(days)}, errors


@bp.post("/alerts/<uuid:alert_id>/<any(acknowledge, resolve, snooze):action>")
@accepts(FORM)
@signed_in(*HANDLERS)
def handle_alert(alert_id, action):
    alert_id = str(alert_id)
    form = {name: request.form.get(name, "").strip() for name in ("reason", "last_seen_on", "days")}
    body, errors = _body(action, form)
    if errors:
        return _alert_page(alert_id, {action: errors}, form, status=422)
    try:
        service_calls.post("alerts", f"/alerts/{alert_id}/{action}", json=body)
    except ServiceError as error:
        if error.status == 404:
            return alert_not_found()
        if error.status == 409:  # not in a state that allows it (resolved meanwhile, snoozed too often)
            return _alert_page(alert_id, refused=str(error.problem.get("detail") or ""), status=409)
        if error.status != 422:
            raise
        shown = ("days",) if action == "snooze" else ("reason", "last_seen_on")
        return _alert_page(alert_id, {action: service_field_errors(error, shown, shown[0])}, form, status=422)
    flash({"acknowledge": gettext("The alert is acknowledged: it is yours to follow."),
           "resolve": gettext("The alert is resolved."),
           "snooze": gettext("The alert is snoozed: it comes back when the time is up.")}[action])
    return redirect(url_for("work.alerts"), code=303)


def person_alerts(beneficiary_id: str) -> list[dict[str, Any]] | None:
    """The person's open alerts for their page; None when the alerts service cannot say (the
    rest of the page does not depend on it)."""
    try:
        return service_calls.get("alerts", f"/beneficiaries/{beneficiary_id}/alerts")["items"]
    except (ServiceError, service_calls.ServiceUnavailable):
        return None
