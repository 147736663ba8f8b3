"""The audit service's HTTP API: auditors (``audit:read``), the person (``self``), and the
public checkpoint, key and consistency proofs."""

from __future__ import annotations

import csv
import io
import json

from flask import Response, current_app, g

from services.audit import queries, reports
from services.audit.adapters.repository import SearchFilter
from services.audit.adapters.signing_key import signing_key
from services.audit.api.schemas import (
    ConsistencyQuery,
    ExportQuery,
    SearchOut,
    SearchQuery,
    SignalQuery,
)
from services.audit.domain import fhir
from services.audit.domain.checkpoints import verifier_key
from shared.auth import require_scope
from shared.web.blueprint import Blueprint
from shared.web.problems import NotFound, Problem

blp = Blueprint("log", __name__, url_prefix="/events", description="The audit log, for auditors")
person_blp = Blueprint("me", __name__, url_prefix="/me", description="The person's own access history")
public_blp = Blueprint("checkpoints", __name__, url_prefix="/checkpoints",
                       description="Signed checkpoints, the verifier key and consistency proofs")
BLUEPRINTS = [blp, person_blp, public_blp]


def _runtime():
    return current_app.extensions["relais.runtime"]


def _settings():
    return current_app.extensions["relais.audit"]


def _filter(query) -> SearchFilter:
    return SearchFilter(
        beneficiary_id=str(query["beneficiary_id"]) if query.get("beneficiary_id") else None,
        actor=query.get("actor"), organisation=query.get("organisation"), action=query.get("action"),
        outcome=query.get("outcome"), purpose=query.get("purpose"),
        since=query.get("since"), until=query.get("until"),
    )


@blp.route("", methods=["GET"])
@require_scope("audit:read")
@blp.arguments(SearchQuery, location="query")
@blp.response(200, SearchOut)
@blp.doc(security=[{"bearer": []}])
def search(query):
    """Search the log, newest first, a page at a time (``next_cursor``). The search is logged."""
    return queries.search(_runtime().sessions, _settings(), g.principal, _filter(query),
                          query["cursor"], query["limit"], g.request_id)


@blp.route("/signals", methods=["GET"])
@require_scope("audit:read")
@blp.arguments(SignalQuery, location="query")
@blp.response(200, SearchOut)
@blp.doc(security=[{"bearer": []}])
def signals(query):
    """Signals for the data-protection officer: emergency accesses, reads without a relationship,
    bursts of reads outside the caseload. Prompts to look, not sanctions."""
    return queries.search(_runtime().sessions, _settings(), g.principal, SearchFilter(action="signal."),
                          query["cursor"], query["limit"], g.request_id)


@blp.route("/<int:index>", methods=["GET"])
@require_scope("audit:read")
@blp.response(200)
@blp.doc(security=[{"bearer": []}])
def one(index):
    """One entry with its inclusion proof against a signed checkpoint."""
    found = queries.entry_with_proof(_runtime().sessions, _settings(), g.principal, index, g.request_id)
    if found is None:
        raise NotFound(f"There is no entry {index} in the log.")
    return found


@blp.route("/export", methods=["GET"])
@require_scope("audit:read")
@blp.arguments(ExportQuery, location="query")
@blp.doc(security=[{"bearer": []}])
def export(query):
    """Export the matching entries, oldest first: JSON lines (the log's own canonical lines;
    without filters, the whole log, checkable by `relais audit verify`), CSV, or a FHIR bundle."""
    lines = queries.export(_runtime().sessions, _settings(), g.principal, _filter(query), g.request_id)
    if query["format"] == "csv":
        out = io.StringIO()
        csv.writer(out).writerows(queries.iter_csv_rows(lines))
        return Response(out.getvalue(), mimetype="text/csv")
    if query["format"] == "fhir":
        return Response(json.dumps(fhir.bundle([json.loads(line) for line in lines])),
                        mimetype="application/fhir+json")
    return Response("".join(line + "\n" for line in lines), mimetype="application/jsonl")


@blp.route("/verification", methods=["GET"])
@require_scope("audit:read")
@blp.response(200)
@blp.doc(security=[{"bearer": []}])
def verification():
    """The verification report: signatures, tree recomputed, checkpoint chain, persons, gaps."""
    settings = _settings()
    with _runtime().sessions() as session:
        return reports.verification_report(
            session, settings.origin, signing_key(settings.key_dir).public_key()
        )


@person_blp.route("/accesses", methods=["GET"])
@require_scope("self")
@person_blp.response(200)
@person_blp.doc(security=[{"bearer": []}])
def my_accesses():
    """Who accessed my record, when, from which organisation and profession, why, with which
    consent; and the proof that this list is complete."""
    person = g.principal.beneficiary
    if not person:
        raise Problem("This token does not name a person.", status=403)
    return queries.my_accesses(_runtime().sessions, _settings(), str(person))


@public_blp.route("/latest", methods=["GET"])
def latest_checkpoint():
    """The latest signed checkpoint (C2SP tlog-checkpoint, text)."""
    with _runtime().sessions() as session:
        from services.audit.adapters.repository import AuditLogRepository

        latest = AuditLogRepository(session).latest_checkpoint()
    if latest is None:
        raise NotFound("No checkpoint has been signed yet.")
    return Response(latest["note"], mimetype="text/plain; charset=utf-8")


@public_blp.route("/key", methods=["GET"])
def checkpoint_key():
    """The verifier key of the checkpoints (signed-note form: name+id+key)."""
    settings = _settings()
    return Response(verifier_key(settings.origin, signing_key(settings.key_dir).public_key()) + "\n",
                    mimetype="text/plain; charset=utf-8")


@public_blp.route("/consistency", methods=["GET"])
@public_blp.arguments(ConsistencyQuery, location="query")
@public_blp.response(200)
def consistency(query):
    """A consistency proof between two signed checkpoints."""
    found = queries.consistency(_runtime().sessions, query["old"], query["new"])
    if found is None:
        raise NotFound("Both sizes must be those of signed checkpoints.")
    return found
