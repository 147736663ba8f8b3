from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.alerts_app import dispose, make_alerts
from tests.support.record_app import CASE_MANAGER

SOCIAL_WORKER = {"org": "org-ssm", "profession": "social_worker"}
OUTREACH = {"org": "org-street", "profession": "outreach_worker"}
PRISON = {"org": "org-prison", "profession": "prison_psychosocial_service"}


@pytest.fixture
def alerts(request, tmp_path):
    """The harness, its clock at the real time, or at the hour a test asks through indirect
    parametrisation (``late_evening``: the next 23:30 UTC, when Brussels is already on the next day)."""
    start = None
    if getattr(request, "param", None) == "late_evening":
        now = datetime.now(UTC)
        start = now.replace(hour=23, minute=30, second=0, microsecond=0)
        if start <= now + timedelta(minutes=1):
            start += timedelta(days=1)
    harness = make_alerts(tmp_path, start=start)
    yield harness
    dispose(harness)


@pytest.fixture
def person(alerts) -> str:
    """A person registered by a case manager of org-cpas (the registration's grant to org-cpas
    covers alerts), with cm-1 named their référent in the journey."""
    person = alerts.register("cm-1", **CASE_MANAGER)
    alerts.post_record(f"/beneficiaries/{person}/referent",
                       {"subject": "cm-1", "organisation": "org-cpas", "profession": "case_manager"})
    return person


@pytest.fixture
def cm(alerts):
    return alerts.as_("cm-1", **CASE_MANAGER)


def inbox(alerts, headers, **params):
    response = alerts.client.get("/alerts", headers=headers, query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def raised(alerts, person) -> str:
    """A not-seen alert of the person, open: met now, then 31 days without anyone meeting them."""
    alerts.contact(person, ago=timedelta(hours=1))
    alerts.advance(days=31)
    alerts.scan()
    [alert] = [a for a in alerts.alerts() if a["rule"] == "not_seen"]
    return alert["alert_id"]
