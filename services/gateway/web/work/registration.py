"""Registering a person with their consent — witnessed by the signed-in professional, for the
parts of the record the person chose, for as long as they chose, in person or by a signed
form — and redeeming the share code a person made. Identity is optional (a person may stay
anonymous); the national register number travels only in the bodies of the POSTs, never in an
address, and nothing here logs it."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext

from services.gateway.web import service_calls
from services.gateway.web.directory import look_up
from services.gateway.web.form_values import FieldError, end_of_day, parse_day, service_field_errors
from services.gateway.web.guards import signed_in
from services.gateway.web.service_calls import ServiceError
from services.gateway.web.work.blueprint import bp
from shared.consent.vocabulary import CATEGORIES
from shared.web.app_factory import accepts

FORM = "application/x-www-form-urlencoded"
WRITERS = ("professional",)
METHODS = ("in_person", "signed_form")
IDENTITY_FIELDS = ("given_name", "family_name", "birth_date", "national_number")
REGISTRATION_FIELDS = {"categories": "categories", "method": "method", "form_reference": "form_reference",
                       "valid_until": "valid_until", "identity.given_name": "given_name",
                       "identity.family_name": "family_name", "identity.birth_date": "birth_date",
                       "identity.national_number": "national_number"}


def _defaults() -> list[str]:
    policy = service_calls.get("consent", "/policy")
    return [c for c in policy.get("registration_defaults", []) if c in CATEGORIES]


def _register_page(form: dict[str, Any], errors: dict[str, FieldError], status: int = 200):
    directory = look_up([g.user.get("organisation")])
    return render_template("work/register.html", form=form, errors=errors, categories=CATEGORIES,
                           methods=METHODS, organisation=directory.organisation(g.user.get("organisation")),
                           can_write=True), status


@bp.get("/register")
@signed_in(*WRITERS)
def register_form():
    return _register_page({"categories": _defaults(), "method": METHODS[0]}, {})


@bp.post("/register")
@accepts(FORM)
@signed_in(*WRITERS)
def register():
    form: dict[str, Any] = {name: request.form.get(name, "").strip()
                            for name in (*IDENTITY_FIELDS, "method", "form_reference", "valid_until")}
    form["categories"] = [c for c in request.form.getlist("categories") if c in CATEGORIES]
    errors: dict[str, FieldError] = {}
    if not form["categories"]:
        errors["categories"] = FieldError(gettext("Choose at least one part of the record, as the person agreed."))
    if form["method"] not in METHODS:
        errors["method"] = FieldError(gettext("Say how the person gave their consent."))
    elif form["method"] == "signed_form" and not form["form_reference"]:
        errors["form_reference"] = FieldError(gettext("Give the reference written on the signed form."))
    dates: dict[str, Any] = {}
    for name in ("birth_date", "valid_until"):
        try:
            dates[name] = parse_day(form[name])
        except ValueError:
            errors[name] = FieldError(gettext("Give a date like 2026-11-28."))
    if errors:
        return _register_page(form, errors, 422)
    identity = {name: form[name] or None for name in ("given_name", "family_name", "national_number")}
    identity["birth_date"] = dates["birth_date"].isoformat() if dates.get("birth_date") else None
    body: dict[str, Any] = {
        "categories": form["categories"], "method": form["method"],
        "form_reference": form["form_reference"] or None,
        "valid_until": end_of_day(dates["valid_until"]).isoformat() if dates.get("valid_until") else None,
        "identity": identity if any(identity.values()) else None,
    }
    try:
        registered = service_calls.post("consent", "/beneficiaries", params={"wait": "true"}, json=body)
    except ServiceError as error:
        if error.status == 403 and form["national_number"]:  # already registered: nothing says by whom
            return _register_page(form, {"national_number": FieldError(gettext(
                "This person cannot be registered again. Ask them for a share code instead."))}, 422)
        if error.status != 422:
            raise
        return _register_page(form, service_field_errors(error, REGISTRATION_FIELDS, "categories"), 422)
    return _opened(registered["id"], registered.get("enforcement"), gettext("The person is registered."))


def _opened(beneficiary_id: str, enforcement: dict[str, Any] | None, message: str):
    """To the person's page when the record service already applies the new grant; else a
    page saying it will open in a moment."""
    if enforcement and enforcement.get("confirmed"):
        flash(message)
        return redirect(url_for("work.person", beneficiary_id=beneficiary_id), code=303)
    return render_template("work/opened_soon.html", beneficiary_id=beneficiary_id, message=message)


@bp.get("/redeem")
@signed_in(*WRITERS)
def redeem_form():
    return render_template("work/redeem.html", errors={}, can_write=True)


@bp.post("/redeem")
@accepts(FORM)
@signed_in(*WRITERS)
def redeem():
    code = request.form.get("code", "").strip().upper().replace(" ", "")
    if len(code) == 8 and "-" not in code:
        code = f"{code[:4]}-{code[4:]}"
    if not 4 <= len(code) <= 20:
        return render_template("work/redeem.html", can_write=True, errors={
            "code": FieldError(gettext("Type the code the person shows you, like ABCD-EFGH."))}), 422
    try:
        redeemed = service_calls.post("consent", "/share-codes/redeem", params={"wait": "true"},
                                      json={"code": code})
    except ServiceError as error:
        if error.status == 404:
            return render_template("work/redeem.html", can_write=True, errors={"code": FieldError(gettext(
                "This code is not valid, or it has expired or been used. Ask the person to make a new one."))}), 422
        if error.status == 429:
            return render_template("work/redeem.html", can_write=True, errors={"code": FieldError(gettext(
                "Too many wrong codes. Wait a quarter of an hour, then try again."))}), 429
        raise
    return _opened(redeemed["beneficiary_id"], redeemed.get("enforcement"),
                   gettext("The code is redeemed: the person's record is shared with you."))
