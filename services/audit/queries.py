"""What auditors and persons ask of the log. Every auditor read is itself an audit event about
the persons concerned (the audit of the audit), appended in the same transaction as the read."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from services.audit import handlers
from services.audit.adapters.repository import AuditLogRepository, SearchFilter
from services.audit.domain import merkle, persons
from services.audit.domain.entries import AuditEvent, event_from_payload
from services.audit.settings import AuditSettings
from shared.audit_trail import actor_of
from shared.auth import Principal

SOURCE = "audit"


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _own_event(principal: Principal, action: str, beneficiary_id: str | None, entry_ids: list[str],
               request_id: str | None, now: datetime) -> AuditEvent:
    payload = {
        "actor": actor_of(principal),
        "action": action,
        "crude": "E" if action != "audit.read" else "R",
        "beneficiary_id": beneficiary_id,
        "categories": ["audit_log"],
        "entry_ids": entry_ids[:200],
        "purpose": "audit",
        "outcome": "permit",
        "service": SOURCE,
        "request_id": request_id,
    }
    return event_from_payload(str(uuid.uuid4()), "audit.access_recorded", SOURCE, None, now, payload)


def _log_reads(session: Session, settings: AuditSettings, principal: Principal, action: str,
               documents: list[dict[str, Any]], searched: str | None, request_id: str | None) -> None:
    """One audit event per person concerned (or one without a person when none is)."""
    now = datetime.now(UTC)
    by_person: dict[str | None, list[str]] = {}
    if searched:
        by_person[searched] = []
    for document in documents:
        person = document.get("beneficiary_id")
        if person:
            by_person.setdefault(person, []).append(document["event_id"])
    if not by_person:
        by_person[None] = [d["event_id"] for d in documents]
    events = [_own_event(principal, action, person, ids, request_id, now) for person, ids in by_person.items()]
    handlers.append_events(session, settings, events, now)


def search(sessions: sessionmaker[Session], settings: AuditSettings, principal: Principal,
           where: SearchFilter, cursor: int | None, limit: int, request_id: str | None) -> dict[str, Any]:
    with sessions() as session, session.begin():
        rows = AuditLogRepository(session).search(where, cursor, limit + 1)
        page, more = rows[:limit], len(rows) > limit
        documents = [json.loads(r["canonical"]) for r in page]
        _log_reads(session, settings, principal, "audit.search", documents, where.beneficiary_id, request_id)
    return {
        "items": [{"index": r["index"], "event": d} for r, d in zip(page, documents, strict=True)],
        "next_cursor": page[-1]["index"] if more else None,
    }


def _covering_checkpoint(session: Session, settings: AuditSettings, size: int) -> dict[str, Any]:
    repository = AuditLogRepository(session)
    latest = repository.latest_checkpoint()
    if latest is None or latest["size"] < size:
        handlers.checkpoint_now(session, settings)
        latest = repository.latest_checkpoint()
    assert latest is not None
    return latest


def entry_with_proof(sessions: sessionmaker[Session], settings: AuditSettings, principal: Principal,
                     index: int, request_id: str | None) -> dict[str, Any] | None:
    with sessions() as session, session.begin():
        repository = AuditLogRepository(session)
        entry = repository.entry(index)
        if entry is None:
            return None
        checkpoint = _covering_checkpoint(session, settings, index + 1)
        proof = repository.prove(merkle.inclusion_plan(index, checkpoint["size"]))
        document = json.loads(entry["canonical"])
        _log_reads(session, settings, principal, "audit.read", [document], None, request_id)
    return {
        "index": index,
        "event": document,
        "canonical": entry["canonical"],
        "leaf_hash": b64(entry["leaf_hash"]),
        "inclusion_proof": {"tree_size": checkpoint["size"], "hashes": [b64(h) for h in proof]},
        "checkpoint": checkpoint["note"],
    }


def export(sessions: sessionmaker[Session], settings: AuditSettings, principal: Principal,
           where: SearchFilter, request_id: str | None) -> list[str]:
    """Every matching entry's canonical line, oldest first; the export is logged per person."""
    with sessions() as session, session.begin():
        lines = list(AuditLogRepository(session).iter_matching(where))
        documents = [json.loads(line) for line in lines]
        _log_reads(session, settings, principal, "audit.export", documents, where.beneficiary_id, request_id)
    return lines


def consistency(sessions: sessionmaker[Session], old: int, new: int) -> dict[str, Any] | None:
    with sessions() as session:
        repository = AuditLogRepository(session)
        first, second = repository.checkpoint(old), repository.checkpoint(new)
        if first is None or second is None:
            return None
        proof = repository.prove(merkle.consistency_plan(old, new))
    return {"old": first["note"], "new": second["note"], "hashes": [b64(h) for h in proof]}


def my_accesses(sessions: sessionmaker[Session], settings: AuditSettings, person_id: str) -> dict[str, Any]:
    """Everything in the log about this person, and the proof that the list is complete."""
    with sessions() as session, session.begin():
        repository = AuditLogRepository(session)
        handlers.checkpoint_now(session, settings)
        checkpoint = repository.latest_checkpoint()
        heads = repository.person_heads()
        entries = repository.person_entries(person_id, checkpoint["size"]) if checkpoint else []
    ids = [h.person_id for h in heads]
    position = ids.index(person_id) if person_id in ids else None
    completeness = None
    if checkpoint is not None and position is not None:
        neighbours = [p for p in (position - 1, position + 1) if 0 <= p < len(heads)]
        completeness = {
            "count": heads[position].count,
            "last_index": heads[position].last_index,
            "head": heads[position].head.hex(),
            "position": position,
            "persons": len(heads),
            "proof": [b64(h) for h in persons.index_proof(heads, position)],
            "neighbours": [
                {"position": p, "leaf": heads[p].leaf_bytes().decode(),
                 "proof": [b64(h) for h in persons.index_proof(heads, p)]}
                for p in neighbours
            ],
        }
    return {
        "checkpoint": checkpoint["note"] if checkpoint else None,
        "accesses": [_as_access(json.loads(e["canonical"]), e) for e in entries],
        "completeness": completeness,
    }


def _as_access(document: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    actor = document.get("actor") or {}
    return {
        "index": entry["index"],
        "when": document.get("occurred_at"),
        "organisation": actor.get("organisation"),
        "profession": actor.get("profession"),
        "role": actor.get("role"),
        "action": document.get("action"),
        "crude": document.get("crude"),
        "categories": document.get("categories"),
        "purpose": document.get("purpose"),
        "emergency_reason": document.get("emergency_reason"),
        "outcome": document.get("outcome"),
        "consent": document.get("consent"),
        "leaf_hash": b64(entry["leaf_hash"]),
        "canonical": entry["canonical"],
    }


def iter_csv_rows(lines: list[str]) -> Iterator[list[Any]]:
    yield list(CSV_COLUMNS)
    for line in lines:
        d = json.loads(line)
        actor = d.get("actor") or {}
        consent = d.get("consent") or {}
        yield [
            d["index"], d["event_id"], d["occurred_at"], d["recorded_at"], d["source"], d["source_sequence"],
            actor.get("subject"), actor.get("role"), actor.get("organisation"), actor.get("profession"),
            actor.get("client_id"), actor.get("token_id"), d.get("action"), d.get("crude"),
            d.get("beneficiary_id"), " ".join(d.get("categories") or []), " ".join(d.get("entry_ids") or []),
            d.get("purpose"), d.get("emergency_reason"), d.get("outcome"), d.get("reason"),
            consent.get("grant_id"), consent.get("version"), d.get("service"), d.get("request_id"),
        ]


CSV_COLUMNS = (
    "index", "event_id", "occurred_at", "recorded_at", "source", "source_sequence", "subject", "role",
    "organisation", "profession", "client_id", "token_id", "action", "crude", "beneficiary_id",
    "categories", "entry_ids", "purpose", "emergency_reason", "outcome", "reason", "consent_grant_id",
    "consent_version", "service", "request_id",
)
