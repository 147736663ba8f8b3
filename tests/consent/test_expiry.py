"""Expiry: decisions deny from the end of the period; the sweep records it, publishes it and
signs a receipt; a projection fed with the events agrees. Erasure reaches projections too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.consent.handlers.grants import expire_due_grants
from shared.consent.decision import Actor, Question, decide
from tests.consent.conftest import CASE_MANAGER
from tests.support.consent_app import LocalProjection

HOUSING = Actor("hw-1", "professional", "org-housing", "housing_worker")


def test_an_ended_grant_is_denied_then_marked_expired_everywhere(consent, person, tmp_path):
    ctx = consent.app.extensions["relais.consent"]
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    given = consent.client.post(f"/beneficiaries/{person}/grants", json={
        "grantee_kind": "organisation", "grantee": "org-housing", "categories": ["steps"],
        "valid_until": until}, headers=consent.as_("cm-1", **CASE_MANAGER)).get_json()
    later = datetime.now(UTC) + timedelta(days=2)
    question = Question(person, "read", ("steps",), "care_coordination", later)
    local = LocalProjection(f"sqlite:///{tmp_path / 'record.db'}")
    local.feed(consent.outbox_events())
    assert not decide(local.state(person), HOUSING, question, ctx.policy).permitted
    assert decide(local.state(person), HOUSING, Question(
        person, "read", ("steps",), "care_coordination", datetime.now(UTC)), ctx.policy).permitted

    ctx.clock = lambda: later
    assert expire_due_grants(ctx) == 1
    assert expire_due_grants(ctx) == 0
    expired = [e for e in consent.outbox_events() if e.type == "consent.grant_expired"]
    assert [e.payload["grant_id"] for e in expired] == [given["grant_id"]]
    local.feed(consent.outbox_events())
    now_question = Question(person, "read", ("steps",), "care_coordination", datetime.now(UTC))
    assert not decide(local.state(person), HOUSING, now_question, ctx.policy).permitted
    me = consent.as_("p-1", role="beneficiary", beneficiary=person, scopes="self")
    receipts = consent.client.get("/me/receipts", headers=me).get_json()["items"]
    assert "consent_expired" in [r["kind"] for r in receipts]


def test_erasure_reaches_a_projection(consent, person, tmp_path):
    local = LocalProjection(f"sqlite:///{tmp_path / 'record.db'}")
    local.feed(consent.outbox_events())
    assert local.state(person) is not None
    me = consent.as_("p-1", role="beneficiary", beneficiary=person, scopes="self")
    assert consent.client.post("/me/erasure", headers=me).status_code == 200
    local.feed(consent.outbox_events())
    assert local.state(person) is None
