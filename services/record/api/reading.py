"""Reading the journey: a person's timeline and summary, a professional's caseload, and the
person's own view (scope ``self``)."""

from __future__ import annotations

import marshmallow as ma
from flask import Flask, g

from services.record.api import schemas
from services.record.api.common import ctx, json_answer, json_body, language, problems
from services.record.handlers import reading
from services.record.handlers.common import NotVisible
from shared.auth import authorize, require_scope
from shared.vocabularies import pick_language
from shared.web.blueprint import Blueprint
from shared.web.door import Answer, DoorCall, DoorView, parse_query
from shared.web.problems import Problem, problem_parts

blp = Blueprint("timeline", __name__, url_prefix="/beneficiaries", description="Reading a journey")
caseload = Blueprint("caseload", __name__, url_prefix="/caseload", description="My caseload")
own = Blueprint("own_journey", __name__, url_prefix="/me", description="My own journey (the person)")
SECURITY = [{"bearer": []}]
READ_SCOPE = "record:read"


def _timeline_query(beneficiary_id: str, query: dict, language: str) -> reading.TimelineQuery:
    return reading.TimelineQuery(
        beneficiary_id=beneficiary_id, categories=tuple(query["category"]),
        kinds=tuple(query["kind"]), since=query["since"], until=query["until"],
        cursor=query["cursor"], limit=query["limit"], order=query["order"],
        history=query["history"], purpose=query["purpose"], language=language)


@blp.route("/<uuid:beneficiary_id>/timeline", methods=["GET"])
@require_scope(READ_SCOPE)
@blp.arguments(schemas.TimelineQuery, location="query", unknown=ma.RAISE)
@blp.response(200, schemas.TimelineOut)
@blp.doc(security=SECURITY)
@problems
def timeline(query, beneficiary_id):
    """The person's journey in time order (newest first unless order=asc), only in the
    categories the reader may see; next_cursor gives the next page."""
    return json_answer(reading.read_timeline(ctx(), g.principal,
                                             _timeline_query(str(beneficiary_id), query, language()),
                                             g.request_id))


@blp.route("/<uuid:beneficiary_id>/summary", methods=["GET"])
@require_scope(READ_SCOPE)
@blp.arguments(schemas.PurposeQuery, location="query", unknown=ma.RAISE)
@blp.response(200, schemas.SummaryOut)
@blp.doc(security=SECURITY)
@problems
def summary(query, beneficiary_id):
    """At a glance: open steps by status, active episodes, the last transition and its exit
    protocol's progress, référent and care team, last seen, open alerts."""
    return json_answer(reading.read_summary(ctx(), g.principal, str(beneficiary_id),
                                            purpose=query["purpose"], language=language(),
                                            request_id=g.request_id))


@caseload.route("", methods=["GET"])
@require_scope(READ_SCOPE)
@caseload.arguments(schemas.CaseloadQuery, location="query", unknown=ma.RAISE)
@caseload.response(200, schemas.CaseloadOut)
@caseload.doc(security=SECURITY)
@problems
def my_caseload(query):
    """The persons I may see, with last seen, open alerts and open steps; sorted by who has not
    been seen for longest (sort=last_seen), or by open alerts or open steps."""
    return json_answer(reading.read_caseload(ctx(), g.principal, reading.CaseloadQuery(**query),
                                             g.request_id))


def _own_id() -> str:
    if g.principal.role != "beneficiary" or not g.principal.beneficiary:
        raise NotVisible("not a person's own token")
    return str(g.principal.beneficiary)


@own.route("/timeline", methods=["GET"])
@require_scope("self")
@own.arguments(schemas.TimelineQuery, location="query", unknown=ma.RAISE)
@own.response(200, schemas.TimelineOut)
@own.doc(security=SECURITY)
@problems
def my_timeline(query):
    """My own journey, all of it."""
    return json_answer(reading.read_timeline(ctx(), g.principal, _timeline_query(_own_id(), query, language()),
                                             g.request_id, own=True))


@own.route("/summary", methods=["GET"])
@require_scope("self")
@own.response(200, schemas.SummaryOut)
@own.doc(security=SECURITY)
@problems
def my_summary():
    """My steps under way, my episodes, my last transition, who follows me."""
    return json_answer(reading.read_summary(ctx(), g.principal, _own_id(), purpose="care_coordination",
                                            language=language(), request_id=g.request_id, own=True))


def door_views(app: Flask) -> dict[str, DoorView]:
    """The reads case managers make all day, answered by the door (shared/web/door.py) through
    the same checks and handler as their views above: the scope, then the query, then the read.
    Every answer, a refusal too, says its language as the app's hook does for the views."""
    timeline_schema = schemas.TimelineQuery()

    @problems
    def read(call: DoorCall, chosen: str) -> bytes:
        principal = authorize(app.extensions["relais.verifier"], call.header("Authorization"), (READ_SCOPE,))
        query = parse_query(timeline_schema, call.query)
        return json_body(reading.read_timeline(
            app.extensions["relais.record"], principal,
            _timeline_query(str(call.args["beneficiary_id"]), query, chosen), call.request_id))

    def timeline_door(call: DoorCall) -> Answer:
        chosen = pick_language(call.header("Accept-Language"))
        try:
            status, headers, body = 200, {"Content-Type": "application/json"}, read(call, chosen)
        except Problem as problem:
            status, headers, body = problem_parts(problem, call.request_id)
        return status, {**headers, "Content-Language": chosen, "Vary": "Accept-Language"}, body

    return {"timeline.timeline": timeline_door}
