"""An organisation's settings and counts: its rules change its persons' clocks at once, only
the organisation (or an administrator) manages them, and a count leaves the service only when
it is about at least ten persons — never anything per person."""

from __future__ import annotations

from datetime import timedelta

from services.alerts.domain import aggregates
from tests.support.record_app import CASE_MANAGER

SYSTEM = {"role": "system", "org": "org-cpas", "profession": "case_manager"}


def manager(alerts):
    return alerts.as_("sys-cpas", **SYSTEM)


def test_an_organisations_rule_changes_its_persons_clocks_at_once(alerts, person):
    alerts.contact(person)
    response = alerts.client.put("/organisations/org-cpas/rules/not_seen",
                                 json={"days": 10, "warning_days": 2}, headers=manager(alerts))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["overrides"]["not_seen"] == {"days": 10, "warning_days": 2}
    assert body["in_force"]["not_seen"]["days"] == 10
    alerts.advance(days=10)
    assert alerts.scan().opened == 1
    rules = alerts.client.get(f"/beneficiaries/{person}/rules", headers=alerts.as_("cm-1", **CASE_MANAGER))
    assert rules.get_json()["rules"]["not_seen"]["sources"]["days"] == "organisation"
    cleared = alerts.client.delete("/organisations/org-cpas/rules/not_seen", headers=manager(alerts))
    assert cleared.status_code == 200 and cleared.get_json()["overrides"] == {}


def test_escalation_may_name_a_professional(alerts, person):
    response = alerts.client.put("/organisations/org-cpas/rules/not_seen",
                                 json={"escalate_to": ["professional:duty-1"], "escalate_after_days": 1},
                                 headers=manager(alerts))
    assert response.status_code == 200, response.get_json()
    bad = alerts.client.put("/organisations/org-cpas/rules/not_seen",
                            json={"escalate_to": ["the boss"]}, headers=manager(alerts))
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "escalate_to"
    alerts.contact(person)
    alerts.advance(days=31)
    alerts.scan()
    alerts.advance(days=1)
    assert alerts.scan().escalated == 1
    duty = alerts.client.get("/alerts", headers=alerts.as_("duty-1", **CASE_MANAGER)).get_json()["items"]
    assert [a["escalated_to"] for a in duty] == [["duty-1"]]


def test_only_the_organisation_or_an_administrator_manages_its_settings(alerts):
    other = alerts.as_("sys-x", role="system", org="org-other", profession="case_manager")
    for method, path, body in (("put", "/organisations/org-cpas/rules/not_seen", {"days": 3}),
                               ("put", "/organisations/org-cpas/coordinator", {"coordinator": "me"}),
                               ("get", "/organisations/org-cpas/statistics", None),
                               ("get", "/organisations/org-cpas/rules", None)):
        response = getattr(alerts.client, method)(path, json=body, headers=other)
        assert response.status_code == 403, path
    admin = alerts.as_("admin-1", role="admin", scopes="admin")
    assert alerts.client.put("/organisations/org-cpas/coordinator", json={"coordinator": "c-1"},
                             headers=admin).status_code == 200
    assert alerts.client.get("/organisations/org-cpas/coordinator",
                             headers=manager(alerts)).get_json()["coordinator"] == "c-1"
    denied = [a for a in alerts.audits() if a["outcome"] == "deny" and a["action"].startswith("organisation_rules")]
    assert denied


def test_counts_leave_only_over_at_least_ten_persons(alerts):
    people = [alerts.register("cm-1", **CASE_MANAGER) for _ in range(10)]
    for person in people:
        alerts.contact(person, ago=timedelta(hours=1))
    alerts.advance(days=31)
    alerts.scan()

    def figures():
        response = alerts.client.get("/organisations/org-cpas/statistics", headers=manager(alerts))
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    ten = figures()
    assert ten["minimum_persons"] == 10
    assert ten["unresolved"]["not_seen"]["open"] == 10 and ten["unresolved"]["not_seen"]["total"] == 10
    assert ten["raised"]["by_rule"]["not_seen"] == 10
    # One of them is met again: nine persons left in "open", too few to say anything.
    alerts.contact(people[0], ago=timedelta(minutes=1))
    nine = figures()
    assert nine["unresolved"]["not_seen"]["open"] is None
    assert nine["unresolved"]["not_seen"]["total"] is None
    assert nine["raised"]["by_rule"]["not_seen"] == 10  # raised lately: still ten persons
    assert "beneficiary_id" not in str(nine) and all(p not in str(nine) for p in people)
    audit = [a for a in alerts.audits() if a["action"] == "statistics.read"]
    assert audit and audit[-1]["beneficiary_id"] is None


def test_a_lone_withheld_cell_cannot_be_read_back_from_the_total():
    cells = {"open": aggregates.Cell(40, 40), "acknowledged": aggregates.Cell(30, 30),
             "snoozed": aggregates.Cell(3, 3)}
    row = aggregates.row(cells, ("open", "acknowledged", "snoozed"), aggregates.Cell(73, 73))
    assert row["snoozed"] is None and row["total"] == 73
    assert row["acknowledged"] is None  # withheld too: 73 - 40 gives two cells, not one
    assert row["open"] == 40
