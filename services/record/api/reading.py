"""Reading the journey: a person's timeline and summary, a professional's caseload, and the
person's own view (scope ``self``)."""

from __future__ import annotations

import marshmallow as ma
from flask import g

from services.record.api import schemas
from services.record.api.common import ctx, json_answer, language, problems
from services.record.handlers import reading
from services.record.handlers.common import NotVisible
from shared.auth import require_scope
from shared.web.blueprint import Blueprint

blp = Blueprint("timeline", __name__, url_prefix="/beneficiaries", description="Reading a journey")
caseload = Blueprint("caseload", __name__, url_prefix="/caseload", description="My caseload")
own = Blueprint("own_journey", __name__, url_prefix="/me", description="My own journey (the person)")
SECURITY = [{"bearer": []}]


def _timeline_query(beneficiary_id: str, query: dict) -> reading.TimelineQuery:
    return reading.TimelineQuery(
        beneficiary_id=beneficiary_id, categories=tuple(query["category"]),
        kinds=tuple(query["kind"]), since=query["since"], until=query["until"],
        cursor=query["cursor"], limit=query["limit"], order=query["order"],
        history=query["history"], purpose=query["purpose"], language=language())


@blp.route("/<uuid:beneficiary_id>/timeline", methods=["GET"])
@require_scope("record:read")
@blp.arguments(schemas.TimelineQuery, location="query", unknown=ma.RAISE)
@blp.response(200, schemas.TimelineOut)
@blp.doc(security=SECURITY)
@problems
def timeline(query, beneficiary_id):
    """The person's journey in time order (newest first unless order=asc), only in the
    categories the reader may see; next_cursor gives the next page."""
    return json_answer(reading.read_timeline(ctx(), g.principal,
                                             _timeline_query(str(beneficiary_id), query), g.request_id))


@blp.route("/<uuid:beneficiary_id>/summary", methods=["GET"])
@require_scope("record:read")
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
@require_scope("record:read")
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
    return json_answer(reading.read_timeline(ctx(), g.principal, _timeline_query(_own_id(), query),
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
