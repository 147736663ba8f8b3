"""The ``record.*`` event each entry publishes (shared/journey/events.py is the contract): ids,
codes and times only, written to the outbox in the entry's own transaction."""

from __future__ import annotations

from typing import Any

from services.record.domain.entries import Entry
from shared.journey import events
from shared.vocabularies import Vocabulary


def _base(entry: Entry) -> dict[str, Any]:
    return {"entry_id": entry.id, "beneficiary_id": entry.beneficiary_id,
            "occurred_at": entry.occurred_at.isoformat(), "category": entry.category,
            "supersedes": entry.supersedes}


def event_of(vocabulary: Vocabulary, entry: Entry, *,
             activations: list[Entry] | None = None,
             closed_episode_id: str | None = None,
             voided: Entry | None = None) -> tuple[str, dict[str, Any]]:
    body = entry.body
    base = _base(entry)
    kind = entry.kind
    if kind == "contact":
        return events.CONTACT_LOGGED, {**base, "modality": body["modality"], "outcome": body["outcome"],
                                       "organisation": entry.author.organisation,
                                       "profession": entry.author.profession}
    if kind == "step":
        return events.STEP_OPENED, {**base, "step_id": body["step_id"], "kind": body["step_kind"],
                                    "status": body["status"], "blocker": body["blocker"],
                                    "organisation": body["organisation"], "due_date": body["due_date"]}
    if kind == "step_status":
        return events.STEP_CHANGED, {**base, "step_id": body["step_id"], "kind": body["step_kind"],
                                     "status": body["status"], "previous_status": body["previous_status"],
                                     "blocker": body["blocker"]}
    if kind in ("episode", "episode_end"):
        institution = bool(vocabulary["episode_type"].term(body["episode_type"]).get("institution"))
        if kind == "episode":
            return events.EPISODE_OPENED, {**base, "episode_id": body["episode_id"],
                                           "type": body["episode_type"], "institution": institution,
                                           "started_at": body["started_at"], "ended_at": body["ended_at"]}
        return events.EPISODE_CLOSED, {**base, "episode_id": body["episode_id"],
                                       "type": body["episode_type"], "institution": institution,
                                       "ended_at": body["ended_at"]}
    if kind == "transition":
        return events.TRANSITION_RECORDED, {
            **base, "transition_id": body["transition_id"], "kind": body["transition_kind"],
            "fragility": {**body["fragility"], "fragile": body["fragile"]},
            "activations": [_activation(a) for a in activations or ()],
            "closed_episode_id": closed_episode_id,
        }
    if kind in ("activation", "activation_status"):
        return events.ACTIVATION_CHANGED, {
            **base, **_activation(entry), "transition_id": body["transition_id"],
            "previous_status": body.get("previous_status"), "reason": body.get("reason"),
        }
    if kind == "referent":
        return events.REFERENT_CHANGED, {**base, "subject": body["subject"],
                                         "organisation": body["organisation"],
                                         "profession": body["profession"],
                                         "previous_subject": body["previous_subject"]}
    if kind == "care_team":
        return events.CARE_TEAM_CHANGED, {**base, "subject": body["subject"],
                                          "organisation": body["organisation"],
                                          "profession": body["profession"], "change": body["change"]}
    if kind == "void":
        assert voided is not None
        return events.ENTRY_VOIDED, {**base, "voided_entry_id": voided.id, "voided_kind": voided.kind,
                                     "thread_id": voided.thread_id, "reason": body["reason"]}
    raise ValueError(f"no event for entries of kind {kind}")


def _activation(entry: Entry) -> dict[str, Any]:
    body = entry.body
    return {"activation_id": body["activation_id"], "service_kind": body["service_kind"],
            "organisation": body["organisation"], "due_date": body["due_date"],
            "status": body["status"]}
