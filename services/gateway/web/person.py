"""The person's own pages (a beneficiary, phone first): the record's status, who can see it,
withdrawing and blocking, the emergency accesses, who looked, share codes, receipts, the
download of everything, and erasure. Every change goes through the consent API; the access
history comes from the audit API, and "who can see my record" joins the two: each access
says how often it was used and when last."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext

from services.gateway.web import account, service_calls
from services.gateway.web.directory import look_up
from services.gateway.web.guards import signed_in
from services.gateway.web.published_codes import journey_codes
from services.gateway.web.service_calls import ServiceError, ServiceUnavailable
from shared.consent.vocabulary import CATEGORIES
from shared.web.app_factory import accepts

bp = Blueprint("person", __name__, url_prefix="/me")
FORM = "application/x-www-form-urlencoded"
PERSON = "beneficiary"
SHARE_DAYS = (7, 30, 90, 365)
SHARE_DEFAULT_CATEGORIES = ("contacts", "steps")
BLOCK_KINDS = ("professional", "organisation")


def _grants() -> list[dict[str, Any]]:
    return service_calls.get("consent", "/me/grants")["items"]


@bp.get("")
@signed_in(PERSON)
def home():
    status = service_calls.get("consent", "/me")
    try:  # that someone was asked to get in touch: the alerts service's words, nothing more
        asked = service_calls.get("alerts", "/me/alerts")["items"]
    except (ServiceError, ServiceUnavailable):
        asked = []  # the alerts service is away: the rest of the page stands on its own
    return render_template("person/home.html", status=status, asked=asked)


@bp.get("/access")
@signed_in(PERSON)
def access():
    grants = _grants()
    reach = {item["grant_id"]: item for item in service_calls.get("consent", "/me/reach")["items"]}
    directory = look_up([g["grantee"] for g in grants if g["grantee_kind"] == "organisation"],
                        [g["grantee"] for g in grants if g["grantee_kind"] == "professional"])
    active = [g for g in grants if g["status"] == "active"]
    ended = [g for g in grants if g["status"] != "active"]
    try:
        used = uses_of_grants(service_calls.get("audit", "/me/accesses").get("accesses") or [])
    except (ServiceError, ServiceUnavailable):
        used = None  # the audit service is away: the page still says who can see, not who did
    return render_template("person/access.html", active=active, ended=ended, reach=reach,
                           directory=directory, used=used)


def uses_of_grants(accesses: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """grant id → how many accesses of others it let through and the last one's time, from the
    person's access history (each permitted access names the grant that allowed it)."""
    used: dict[str, dict[str, Any]] = {}
    for access in accesses:
        grant_id = (access.get("consent") or {}).get("grant_id")
        if not grant_id or access.get("outcome") != "permit" or access.get("role") == PERSON:
            continue
        seen = used.setdefault(grant_id, {"count": 0, "last": None})
        seen["count"] += 1
        if access.get("when") and (seen["last"] is None or access["when"] > seen["last"]):
            seen["last"] = access["when"]
    return used


def _grant(grant_id: str) -> dict[str, Any]:
    for grant in _grants():
        if grant["grant_id"] == grant_id:
            return grant
    raise ServiceError("consent", 404)


@bp.get("/access/<uuid:grant_id>/withdraw")
@signed_in(PERSON)
def confirm_withdrawal(grant_id):
    grant = _grant(str(grant_id))
    if grant["status"] != "active":
        raise ServiceError("consent", 404)
    return render_template("person/withdraw.html", grant=grant)


@bp.post("/access/<uuid:grant_id>/withdraw")
@accepts(FORM)
@signed_in(PERSON)
def withdraw(grant_id):
    answer = service_calls.call("consent", "POST", f"/me/grants/{grant_id}/revoke")
    if answer.status_code >= 400:
        raise ServiceError("consent", answer.status_code)
    body = answer.json()
    return render_template("person/withdrawn.html", grant=body["grant"],
                           confirmed=body["enforcement"].get("confirmed", True))


def _known_targets(grants: list[dict[str, Any]], emergencies: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Whom the person could block without typing a code: those who have or had access."""
    seen: dict[tuple[str, str], dict[str, str]] = {}
    directory = look_up([g["grantee"] for g in grants if g["grantee_kind"] == "organisation"]
                        + [e["organisation"] for e in emergencies],
                        [g["grantee"] for g in grants if g["grantee_kind"] == "professional"]
                        + [e["professional"] for e in emergencies])
    for grant in grants:
        if grant["grantee_kind"] in BLOCK_KINDS:
            seen[(grant["grantee_kind"], grant["grantee"])] = _target(directory, grant["grantee_kind"],
                                                                      grant["grantee"])
    for emergency in emergencies:
        seen[("professional", emergency["professional"])] = _target(directory, "professional",
                                                                    emergency["professional"])
        if emergency.get("organisation"):
            seen[("organisation", emergency["organisation"])] = _target(directory, "organisation",
                                                                        emergency["organisation"])
    return list(seen.values())


def _target(directory, kind: str, target: str) -> dict[str, str]:
    if kind == "organisation":
        return {"kind": kind, "target": target, "organisation": directory.organisation(target),
                "profession": ""}
    organisation, profession = directory.workplace(target)
    return {"kind": kind, "target": target, "organisation": organisation, "profession": profession or ""}


def _block_page(errors: dict[str, str] | None = None, status: int = 200):
    grants = _grants()
    emergencies = service_calls.get("consent", "/me/emergencies")["items"]
    blocked = service_calls.get("consent", "/me/exclusions")["items"]
    targets = _known_targets(grants, emergencies)
    blocked_keys = {(b["kind"], b["target"]) for b in blocked if not b.get("lifted_at")}
    directory = look_up([b["target"] for b in blocked if b["kind"] == "organisation"],
                        [b["target"] for b in blocked if b["kind"] == "professional"])
    return render_template(
        "person/block.html", errors=errors or {}, form=request.form,
        targets=[t for t in targets if (t["kind"], t["target"]) not in blocked_keys],
        blocked=[_target(directory, b["kind"], b["target"]) for b in blocked if not b.get("lifted_at")],
    ), status


@bp.get("/block")
@signed_in(PERSON)
def block_form():
    return _block_page()


@bp.post("/block")
@accepts(FORM)
@signed_in(PERSON)
def block():
    choice = request.form.get("choice", "")
    if choice.startswith(("professional:", "organisation:")):
        kind, target = choice.split(":", 1)
    else:
        kind, target = request.form.get("kind", ""), request.form.get("target", "").strip()
    if kind not in BLOCK_KINDS:
        return _block_page({"kind": gettext("Choose a professional or a service.")}, 422)
    if not target or len(target) > 200:
        return _block_page({"target": gettext("Choose who to block, or type the code they gave you.")}, 422)
    if request.form.get("confirm") != "yes":
        directory = look_up([target] if kind == "organisation" else [], [target] if kind == "professional" else [])
        return render_template("person/block_confirm.html", kind=kind, target=target,
                               who=_target(directory, kind, target))
    try:
        service_calls.post("consent", "/me/exclusions", json={"kind": kind, "target": target})
    except ServiceError as error:
        if error.status != 422:
            raise
        return _block_page({"target": gettext("This code is not valid. Check it and try again.")}, 422)
    return render_template("person/blocked.html")


@bp.get("/emergencies")
@signed_in(PERSON)
def emergencies():
    items = service_calls.get("consent", "/me/emergencies")["items"]
    directory = look_up([e["organisation"] for e in items])
    now = datetime.now(UTC)
    for item in items:
        item["open"] = datetime.fromisoformat(item["until"]) > now
    return render_template("person/emergencies.html", items=list(reversed(items)), directory=directory)


def completeness_state(answer: dict[str, Any]) -> str:
    """What the audit says about the list: ``complete`` when its committed count and last entry
    match the list received, ``mismatch`` when they do not, ``empty`` or ``pending`` otherwise."""
    accesses = answer.get("accesses") or []
    proof = answer.get("completeness")
    if proof is None:
        return "empty" if not accesses and answer.get("checkpoint") else "pending"
    indexes = [a["index"] for a in accesses]
    if proof.get("count") == len(accesses) and (not indexes or proof.get("last_index") == max(indexes)):
        return "complete"
    return "mismatch"


def _checkpoint_size(note: str | None) -> int | None:
    lines = (note or "").splitlines()
    return int(lines[1]) if len(lines) > 1 and lines[1].isdigit() else None


@bp.get("/looked")
@signed_in(PERSON)
def looked():
    answer = service_calls.get("audit", "/me/accesses")
    accesses = sorted(answer.get("accesses") or [], key=lambda a: a["index"], reverse=True)
    directory = look_up([a.get("organisation") for a in accesses])
    # The person's own visits are in the log too; they are listed apart, not mixed in.
    own = [a for a in accesses if a.get("role") == "beneficiary"]
    others = [a for a in accesses if a.get("role") != "beneficiary"]
    return render_template("person/looked.html", accesses=others, own=own, directory=directory,
                           state=completeness_state(answer), proof=answer.get("completeness"),
                           log_size=_checkpoint_size(answer.get("checkpoint")))


def _share_page(errors: dict[str, str] | None = None, status: int = 200):
    chosen = request.form.getlist("categories") if request.method == "POST" else list(SHARE_DEFAULT_CATEGORIES)
    return render_template("person/share.html", categories=CATEGORIES, chosen=chosen, days=SHARE_DAYS,
                           errors=errors or {}, form=request.form), status


@bp.get("/share")
@signed_in(PERSON)
def share_form():
    return _share_page()


@bp.post("/share")
@accepts(FORM)
@signed_in(PERSON)
def share():
    categories = [c for c in request.form.getlist("categories") if c in CATEGORIES]
    if not categories:
        return _share_page({"categories": gettext("Choose at least one part of your record.")}, 422)
    try:
        days = int(request.form.get("days", "90"))
    except ValueError:
        days = 0
    if days not in SHARE_DAYS:
        return _share_page({"days": gettext("Choose how long the access lasts.")}, 422)
    actions = ["read", "write"] if request.form.get("actions") == "read write" else ["read"]
    kind = "organisation" if request.form.get("grantee_kind") == "organisation" else "professional"
    try:
        made = service_calls.post("consent", "/me/share-codes", json={
            "categories": categories, "days": days, "actions": actions, "grantee_kind": kind})
    except ServiceError as error:
        if error.status != 422:
            raise
        return _share_page({"categories": gettext("This choice is not possible. Check it and try again.")}, 422)
    code = made["code"]
    return render_template("person/share_code.html", code=code, letters=[c for c in code if c != "-"],
                           expires_at=made["expires_at"], categories=categories, days=days, kind=kind,
                           actions=actions)


@bp.get("/receipts")
@signed_in(PERSON)
def receipts():
    items = service_calls.get("consent", "/me/receipts")["items"]
    return render_template("person/receipts.html", items=list(reversed(items)))


@bp.get("/receipts/<uuid:receipt_id>")
@signed_in(PERSON)
def receipt(receipt_id):
    found = service_calls.get("consent", f"/me/receipts/{receipt_id}")
    return _download(found["jws"] + "\n", "application/jose", f"relais-receipt-{receipt_id}.jws")


def _download(body: str, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/data")
@signed_in(PERSON)
def data():
    return render_template("person/data.html")


@bp.get("/data/export")
@signed_in(PERSON)
def export():
    document = {
        "exported_at": datetime.now(UTC).isoformat(),
        "consent": service_calls.get("consent", "/me/export"),
        "accesses": service_calls.get("audit", "/me/accesses"),
    }
    return _download(json.dumps(document, ensure_ascii=False, indent=2), "application/json",
                     "relais-my-data.json")


@bp.get("/erasure")
@signed_in(PERSON)
def erasure_form():
    return render_template("person/erasure.html", errors={})


@bp.post("/erasure")
@accepts(FORM)
@signed_in(PERSON)
def erasure():
    if request.form.get("understood") != "yes":
        return render_template("person/erasure.html",
                               errors={"understood": gettext("Tick the box to confirm that you understand.")}), 422
    service_calls.post("consent", "/me/erasure")
    account.sign_out()
    return render_template("person/erased.html")


JOURNEY_PAGE = 20


@bp.get("/journey")
@signed_in(PERSON)
def journey():
    """The person's journey in plain words, newest first, a page at a time (the record API's
    cursor), with the steps under way and where each stands."""
    params: dict[str, Any] = {"limit": JOURNEY_PAGE}
    cursor = (request.args.get("cursor") or "").strip()
    if cursor and len(cursor) <= 200:
        params["cursor"] = cursor
    try:
        timeline = service_calls.get("record", "/me/timeline", params=params)
    except ServiceError as error:
        if error.status != 422:  # a cursor this service did not give: start from the newest
            raise
        timeline = service_calls.get("record", "/me/timeline", params={"limit": JOURNEY_PAGE})
        cursor = ""
    summary = service_calls.get("record", "/me/summary")
    entries = timeline["items"]
    organisations = [e["author"].get("organisation") for e in entries]
    organisations += [e["data"].get("organisation") for e in entries]
    organisations += [s.get("organisation") for s in summary["open_steps"]]
    return render_template("person/journey.html", entries=entries, summary=summary, codes=journey_codes(),
                           directory=look_up(organisations), next_cursor=timeline.get("next_cursor"),
                           first_page=not cursor)
