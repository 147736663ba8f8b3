"""Who sees an alert is decided by the person's consent at the moment of the read: a revoked
grant hides it at once, "no such alert" and "not allowed" are one answer, the person sees only
that someone was asked to reach out, close ones only a notice without record data."""

from __future__ import annotations

import uuid

from shared.alerting import events as alert_events
from tests.alerts.conftest import OUTREACH, SOCIAL_WORKER, inbox, raised


def strip(response):
    return {k: v for k, v in response.get_json().items() if k != "request_id"}


def referent_elsewhere(alerts, person):
    """sw-2 of org-ssm is the person's référent, on a grant of their own."""
    grant = alerts.record.grant(person, grantee_kind="professional", grantee="sw-2",
                                categories=["alerts", "contacts"], referent=True)
    alerts.post_record(f"/beneficiaries/{person}/referent",
                       {"subject": "sw-2", "organisation": "org-ssm", "profession": "social_worker"})
    return grant["grant_id"], alerts.as_("sw-2", **SOCIAL_WORKER)


def test_a_revoked_grant_hides_the_alert_at_once(alerts, person):
    grant_id, sw = referent_elsewhere(alerts, person)
    alert_id = raised(alerts, person)
    assert [a["alert_id"] for a in inbox(alerts, sw)] == [alert_id]
    assert alerts.client.get(f"/alerts/{alert_id}", headers=sw).status_code == 200
    alerts.record.consent_post(f"/beneficiaries/{person}/grants/{grant_id}/revoke")
    alerts.sync()
    assert inbox(alerts, sw) == []
    hidden = alerts.client.get(f"/alerts/{alert_id}", headers=sw)
    unknown = alerts.client.get(f"/alerts/{uuid.uuid4()}", headers=sw)
    assert hidden.status_code == unknown.status_code == 404
    assert strip(hidden) == strip(unknown)
    acting = alerts.client.post(f"/alerts/{alert_id}/acknowledge", json={"reason": "unreachable"}, headers=sw)
    assert acting.status_code == 404
    denied = [a for a in alerts.audits() if a["outcome"] == "deny" and a["beneficiary_id"] == person]
    assert denied, "the refused reads are audited"
    # The projection acknowledged the withdrawal for strict mode.
    acks = [e for e in alerts.outbox_events("alerts.consent_applied")]
    assert acks and acks[-1].payload["projection"] == "alerts"


def test_a_stranger_gets_the_answer_of_nobody(alerts, person):
    alert_id = raised(alerts, person)
    stranger = alerts.as_("ow-1", **OUTREACH)
    for path in (f"/alerts/{alert_id}", f"/beneficiaries/{person}/alerts",
                 f"/beneficiaries/{person}/last-seen", f"/beneficiaries/{person}/rules"):
        mine = alerts.client.get(path, headers=stranger)
        nobody = alerts.client.get(path.replace(alert_id, str(uuid.uuid4())).replace(person, str(uuid.uuid4())),
                                   headers=stranger)
        assert mine.status_code == nobody.status_code == 404, path
        assert strip(mine) == strip(nobody)
    assert inbox(alerts, stranger) == []


def test_every_read_is_audited_in_its_transaction(alerts, person, cm):
    alert_id = raised(alerts, person)
    inbox(alerts, cm)
    alerts.client.get(f"/alerts/{alert_id}", headers=cm)
    alerts.client.get(f"/beneficiaries/{person}/alerts", headers=cm)
    actions = [(a["action"], a["beneficiary_id"], a["outcome"]) for a in alerts.audits()]
    assert ("inbox.read", person, "permit") in actions
    assert ("alert.read", person, "permit") in actions
    assert ("person_alerts.read", person, "permit") in actions
    [read] = [a for a in alerts.audits() if a["action"] == "alert.read"]
    assert read["entry_ids"] == [alert_id] and read["categories"] == ["alerts"]


def test_the_person_sees_that_someone_was_asked_never_a_score(alerts, person, cm):
    alert_id = raised(alerts, person)
    me = alerts.as_("bea", role="beneficiary", beneficiary=person, scopes="self")
    response = alerts.client.get("/me/alerts", headers={**me, "Accept-Language": "nl"})
    assert response.status_code == 200
    [item] = response.get_json()["items"]
    assert set(item) == {"asked_at", "message", "message_code"}
    assert item["message_code"] == "someone_asked" and "contact" in item["message"]
    alerts.client.post(f"/alerts/{alert_id}/acknowledge", json={"reason": "unreachable"}, headers=cm)
    [item] = alerts.client.get("/me/alerts", headers=me).get_json()["items"]
    assert item["message_code"] == "someone_on_it"
    assert "unreachable" not in str(item)
    assert [a for a in alerts.audits() if a["action"] == "alerts.read_own"]


def test_a_close_one_gets_a_notice_without_record_data(alerts, person):
    grant = alerts.record.grant(person, grantee_kind="close_one", grantee="sister-1", categories=["alerts"])
    alerts.sync()
    raised(alerts, person)
    [notice] = alerts.outbox_events(alert_events.CLOSE_ONE_NOTICE)
    assert notice.payload["close_one"] == "sister-1"
    close_one = alerts.as_("sister-1", role="close_one", scopes="record:read")
    response = alerts.client.get("/notices", headers={**close_one, "Accept-Language": "en"})
    [item] = response.get_json()["items"]
    assert item["message"] == "Your contact person has been asked to get in touch."
    assert set(item) == {"notice_id", "at", "message", "message_code"}
    alerts.record.consent_post(f"/beneficiaries/{person}/grants/{grant['grant_id']}/revoke")
    alerts.sync()
    assert alerts.client.get("/notices", headers=close_one).get_json()["items"] == []


def test_no_close_one_notice_without_the_persons_grant(alerts, person):
    raised(alerts, person)
    assert alerts.outbox_events(alert_events.CLOSE_ONE_NOTICE) == []


def test_the_referent_with_consent_sets_the_persons_clock(alerts, person, cm):
    # cm-1 sees the person's alerts through the organisation's grant, but is not their référent
    # in consent: they may not set the person's rules.
    refused = alerts.client.put(f"/beneficiaries/{person}/rules/not_seen", json={"days": 14}, headers=cm)
    assert refused.status_code == 403
    _grant, sw = referent_elsewhere(alerts, person)
    bad = alerts.client.put(f"/beneficiaries/{person}/rules/not_seen",
                            json={"days": 14, "warning_days": 20}, headers=sw)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "warning_days"
    not_for_persons = alerts.client.put(f"/beneficiaries/{person}/rules/not_seen",
                                        json={"escalate_after_days": 1}, headers=sw)
    assert not_for_persons.status_code == 422
    assert not_for_persons.get_json()["errors"][0]["field"] == "escalate_after_days"
    alerts.contact(person)
    answer = alerts.client.put(f"/beneficiaries/{person}/rules/not_seen", json={"days": 14}, headers=sw)
    assert answer.status_code == 200, answer.get_json()
    rules = answer.get_json()["rules"]["not_seen"]
    assert rules["days"] == 14 and rules["sources"]["days"] == "person"
    assert rules["sources"]["warning_days"] == "default"
    alerts.advance(days=14)
    assert alerts.scan().opened == 1  # the clock changed at once
    # Turned off for the person ("visit any time"): the open alert is closed, no new one comes.
    off = alerts.client.put(f"/beneficiaries/{person}/rules/not_seen", json={"enabled": False}, headers=sw)
    assert off.status_code == 200
    assert [a["resolution"] for a in alerts.alerts() if a["rule"] == "not_seen"] == ["rule_changed"]
    alerts.advance(days=60)
    assert alerts.scan().opened == 0


def test_unknown_rule_and_unknown_fields(alerts, person, cm):
    assert alerts.client.put(f"/beneficiaries/{person}/rules/sleeping", json={"days": 3},
                             headers=cm).status_code == 404
    response = alerts.client.put(f"/beneficiaries/{person}/rules/not_seen", json={"score": 3}, headers=cm)
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "score"


def test_the_warning_does_not_count_as_an_open_alert(alerts, person, cm):
    alerts.contact(person)
    alerts.advance(days=25)
    alerts.scan()
    [item] = inbox(alerts, cm)
    assert item["state"] == "warning"
    assert alerts.client.get("/me/alerts", headers=alerts.as_(
        "bea", role="beneficiary", beneficiary=person, scopes="self")).get_json()["items"] == []
