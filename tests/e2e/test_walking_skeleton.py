"""One write through the gateway flows through all five services, as real processes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psutil
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from sqlalchemy import create_engine, text

from tests.support import infra
from tests.support.stack import start_stack, teardown

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(tmp_path):
    running = start_stack(tmp_path / "var")
    yield running
    running.stop()
    teardown(running)


def _rows(url: str, sql: str, **params):
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


def test_one_contact_flows_through_every_service(stack):
    created = stack.relais(
        "admin", "create-client", "--name", "e2e case system",
        "--scopes", "consent:manage record:read record:write alerts:read audit:read",
        "--organisation", "org-cpas-1", "--profession", "case_manager",
    )
    fields = dict(line.split(": ", 1) for line in created.stdout.strip().splitlines())
    client = OAuth2Session(
        fields["client_id"], fields["client_secret"], scope="consent:manage record:write"
    )
    token = client.fetch_token(f"{stack.gateway}/oauth/token", grant_type="client_credentials")
    assert token["token_type"].lower() == "bearer"
    assert token["scope"] == "consent:manage record:write"
    urls = stack.database_urls

    # consent: the person is registered (with their agreement) and gets a pseudonymous id
    registered = client.post(f"{stack.gateway}/api/v1/consent/beneficiaries", timeout=10)
    assert registered.status_code == 201, registered.text
    person = registered.json()["id"]
    assert uuid.UUID(person)
    assert _rows(urls["consent"], "SELECT registered_by_organisation FROM beneficiaries WHERE id = :i",
                 i=person) == [{"registered_by_organisation": "org-cpas-1"}]
    infra.wait_until(
        lambda: (rows := _rows(urls["consent"], "SELECT published_at FROM outbox"))
        and all(r["published_at"] is not None for r in rows),
        message="consent's outbox relayed",
    )

    # record: its consent projection learns of the person from consent's events
    infra.wait_until(
        lambda: _rows(urls["record"], "SELECT epoch FROM consent_people WHERE beneficiary_id = :p",
                      p=person),
        message="record's consent projection knows the person",
    )

    met_at = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
    response = client.post(
        f"{stack.gateway}/api/v1/record/beneficiaries/{person}/contacts",
        json={"occurred_at": met_at.isoformat(), "modality": "street_outreach", "outcome": "met"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    entry_id = response.json()["id"]
    request_id = response.headers["X-Request-ID"]

    # record: the entry (sealed), and its events in its outbox, each confirmed by the broker
    [stored_entry] = _rows(urls["record"], "SELECT beneficiary_id, sealed FROM journey_entries WHERE id = :i",
                           i=entry_id)
    assert stored_entry["beneficiary_id"] == person and b"street_outreach" not in bytes(stored_entry["sealed"])
    outbox = infra.wait_until(
        lambda: (rows := _rows(urls["record"], "SELECT event_type, sequence, stream, stream_sequence, "
                                               "published_at FROM outbox"))
        and all(r["published_at"] is not None for r in rows) and rows,
        message="record's outbox relayed",
    )
    assert sorted(r["event_type"] for r in outbox) == [
        "audit.access_recorded", "record.consent_applied", "record.contact_logged"]
    assert sorted(r["sequence"] for r in outbox) == [1, 2, 3]
    # Within each stream the numbers start at 1 with no gap: the audit log receives only the
    # audit stream, and must see no hole where the record's own events were numbered.
    assert sorted((r["stream"], r["stream_sequence"]) for r in outbox) == [
        ("audit", 1), ("record", 1), ("record", 2)]

    # audit: the access, with who, what, on whom, the request id and the source sequence
    audit = infra.wait_until(
        lambda: _rows(urls["audit"], "SELECT * FROM audit_log WHERE source = 'record'"),
        message="audit stored the access",
    )
    registration = infra.wait_until(
        lambda: _rows(urls["audit"], "SELECT * FROM audit_log WHERE source = 'consent'"),
        message="audit stored the registration",
    )
    assert [(r["action"], r["beneficiary_id"]) for r in registration] == [("beneficiary.register", person)]
    assert len(audit) == 1
    assert audit[0]["beneficiary_id"] == person
    assert audit[0]["action"] == "contact.log"
    assert audit[0]["actor_organisation"] == "org-cpas-1"
    assert audit[0]["source_sequence"] == 1
    assert request_id in audit[0]["canonical"] and entry_id in audit[0]["canonical"]

    # alerts: the person's last-seen time
    seen = infra.wait_until(
        lambda: _rows(urls["alerts"], "SELECT * FROM last_seen WHERE beneficiary_id = :p", p=person),
        message="alerts updated last seen",
    )
    assert seen[0]["last_seen_entry_id"] == entry_id
    stored = seen[0]["last_seen_at"]
    assert stored.astimezone(UTC) == met_at

    # the audit log sees no missing event of record's, nor of consent's (which also numbers
    # consent.* events beside its audit events)
    sources = {r["source"]: r for r in _rows(urls["audit"], "SELECT * FROM audit_sources")}
    assert sources["record"]["contiguous"] == sources["record"]["highest"] == 1
    assert sources["consent"]["contiguous"] == sources["consent"]["highest"]

    # the service answered with the gateway's request id, and the services agree on it
    assert _rows(urls["record"], "SELECT body FROM outbox WHERE event_type = 'record.contact_logged'")[0][
        "body"
    ].count(request_id) == 1


def test_status_shows_every_process_and_ctrl_c_stops_them(stack):
    status = stack.relais("status")
    lines = status.stdout.splitlines()
    names = [line.split()[0] for line in lines[1:-1]]
    assert names == ["gateway", "consent", "record", "alerts", "audit",
                     "consent-worker", "record-worker", "alerts-worker", "audit-worker"]
    assert all(" running " in line for line in lines[1:-1])
    assert lines[-1].startswith("total")
    pids = [int(line.split()[1]) for line in lines[1:-1]]
    assert requests.get(f"{stack.gateway}/readyz", timeout=5).status_code == 200
    assert stack.stop() == 0
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                   for pid in pids)
