"""Log entries as FHIR R5 AuditEvent resources (IHE BALP minimal pattern: ids, never content)."""

from __future__ import annotations

from typing import Any

OUTCOME = {"permit": "0", "deny": "4", "error": "8"}
OUTCOME_SYSTEM = "http://terminology.hl7.org/CodeSystem/audit-event-outcome"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/audit-event-type"
BASE = "urn:relais:"


def _identifier(kind: str, value: str) -> dict[str, Any]:
    return {"identifier": {"system": f"{BASE}{kind}", "value": value}}


def _concept(kind: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": f"{BASE}{kind}", "code": code}]}


def audit_event(document: dict[str, Any]) -> dict[str, Any]:
    actor = document.get("actor") or {}
    agents = [{
        "type": _concept("agent-type", actor.get("role") or "system"),
        "who": _identifier("subject", actor.get("subject") or "unknown"),
        "requestor": True,
        **({"role": [_concept("profession", actor["profession"])]} if actor.get("profession") else {}),
        **({"policy": [f"{BASE}token:{actor['token_id']}"]} if actor.get("token_id") else {}),
        **({"authorization": [_concept("purpose", document["purpose"])]} if document.get("purpose") else {}),
    }]
    if actor.get("organisation"):
        agents.append({"who": _identifier("organisation", actor["organisation"]), "requestor": False})
    if actor.get("client_id"):
        agents.append({"who": _identifier("client", actor["client_id"]), "requestor": False})
    entities: list[dict[str, Any]] = []
    if document.get("beneficiary_id"):
        entities.append({"what": _identifier("beneficiary", document["beneficiary_id"]),
                         "role": _concept("entity-role", "patient")})
    entities += [{"what": _identifier("entry", entry)} for entry in document.get("entry_ids") or []]
    consent = document.get("consent") or {}
    if consent.get("grant_id"):
        entities.append({
            "what": _identifier("consent", consent["grant_id"]),
            "role": _concept("entity-role", "consent"),
            **({"detail": [{"type": _concept("detail", "version"), "valueInteger": consent["version"]}]}
               if consent.get("version") is not None else {}),
        })
    if document.get("request_id"):
        entities.append({"what": _identifier("request-id", document["request_id"]),
                         "role": _concept("entity-role", "request")})
    outcome: dict[str, Any] = {
        "code": {"system": OUTCOME_SYSTEM, "code": OUTCOME.get(document.get("outcome", ""), "8")}
    }
    if document.get("reason"):
        outcome["detail"] = [{"text": document["reason"]}]
    resource: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": document["event_id"],
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "rest"}]}],
        "code": _concept("action", document.get("action") or "unknown"),
        "action": document.get("crude") or "E",
        "occurredDateTime": document["occurred_at"],
        "recorded": document["recorded_at"],
        "outcome": outcome,
        "agent": agents,
        "source": {
            "observer": _identifier("service", document.get("service") or document["source"]),
            "type": [_concept("source", document["source"])],
        },
        "extension": [
            {"url": f"{BASE}log-index", "valueInteger": document["index"]},
            *([{"url": f"{BASE}source-sequence", "valueInteger": document["source_sequence"]}]
              if document.get("source_sequence") is not None else []),
        ],
    }
    authorization = []
    if document.get("purpose"):
        authorization.append(_concept("purpose", document["purpose"]))
    if document.get("emergency_reason"):
        authorization.append(_concept("emergency-reason", document["emergency_reason"]))
    if authorization:
        resource["authorization"] = authorization
    if document.get("beneficiary_id"):
        resource["patient"] = _identifier("beneficiary", document["beneficiary_id"])
    if entities:
        resource["entity"] = entities
    return resource


def bundle(documents: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:uuid:{d['event_id']}", "resource": audit_event(d)} for d in documents
        ],
    }
