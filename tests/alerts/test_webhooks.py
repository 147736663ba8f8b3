"""Webhooks to an organisation's own system, against a real HTTP server on this machine:
signed with the secret the receiver was given, retried with back-off, dead-lettered after the
last attempt and sent again on request, withheld when the consent is gone; and targets that
point inside are refused unless the operator allows them."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.alerts.adapters import http_sender, orm
from services.alerts.domain import webhooks as signing
from services.alerts.domain.webhooks import TargetRefused, address_refusal, parse_target
from services.alerts.handlers.webhooks import deliver_due
from tests.alerts.conftest import raised
from tests.support.alerts_app import dispose, make_alerts

SYSTEM = {"role": "system", "org": "org-cpas", "profession": "case_manager"}
LOCAL = {"ALERTS_WEBHOOK_ALLOW_PRIVATE": "true", "ALERTS_WEBHOOK_REQUIRE_HTTPS": "false",
         "ALERTS_WEBHOOK_RETRY_DELAYS_SECONDS": "10,60"}


class Receiver:
    """An organisation's system: answers each POST with the next status of ``statuses``."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/relais/alerts"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    found.thread.start()
    yield found
    found.server.shutdown()
    found.server.server_close()


@pytest.fixture
def alerts(tmp_path):
    harness = make_alerts(tmp_path, env=LOCAL)
    yield harness
    dispose(harness)


def subscribe(alerts, url: str) -> dict:
    response = alerts.client.post("/organisations/org-cpas/webhooks", json={"url": url},
                                  headers=alerts.as_("sys-cpas", **SYSTEM))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def receiver_accepts(secret: str, headers: dict[str, str], body: bytes, now: int) -> bool:
    """What the organisation's system does, written here independently of the service."""
    fields = dict(part.split("=", 1) for part in headers["x-relais-signature"].split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"]) and abs(now - int(fields["t"])) <= 300


def deliveries(alerts, webhook_id, state=None):
    response = alerts.client.get(f"/webhooks/{webhook_id}/deliveries", headers=alerts.as_("sys-cpas", **SYSTEM),
                                 query_string={"state": state} if state else {})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_a_delivery_is_signed_with_the_receivers_secret(alerts, person, receiver):
    hook = subscribe(alerts, receiver.url)
    alert_id = raised(alerts, person)
    report = deliver_due(alerts.ctx, alerts.now)
    assert report.delivered >= 1
    opened = [(h, b) for h, b in receiver.received if h["x-relais-event-type"] == "alert.opened"]
    [(headers, body)] = opened
    now = int(alerts.now.timestamp())
    assert receiver_accepts(hook["secret"], headers, body, now)
    assert not receiver_accepts(hook["secret"], headers, body.replace(b"open", b"shut"), now)
    assert not receiver_accepts("another secret", headers, body, now)
    assert not receiver_accepts(hook["secret"], headers, body, now + 3600)  # a replay, an hour on
    assert signing.verify(hook["secret"].encode(), headers["x-relais-signature"], body, now=now)
    document = json.loads(body)
    assert document["type"] == "alert.opened" and document["data"]["alert_id"] == alert_id
    assert headers["x-relais-event-id"] == document["id"]
    assert "count" not in body.decode() and "score" not in body.decode()
    audits = [a for a in alerts.audits() if a["action"] == "webhook.deliver"]
    assert audits and all(a["actor"]["organisation"] == "org-cpas" for a in audits)
    # Nothing is sent twice.
    assert deliver_due(alerts.ctx, alerts.now).delivered == 0


def test_a_failing_receiver_is_retried_then_dead_lettered_then_sent_on_request(alerts, person, receiver):
    hook = subscribe(alerts, receiver.url)
    raised(alerts, person)
    pending = len(deliveries(alerts, hook["webhook_id"], "pending"))
    assert pending == 1  # alert.opened (31 days on, the warning's time had passed too)
    receiver.statuses = [500] * (3 * pending)
    assert deliver_due(alerts.ctx, alerts.now).retried == pending
    assert deliver_due(alerts.ctx, alerts.now + timedelta(seconds=9)).retried == 0  # not due yet
    assert deliver_due(alerts.ctx, alerts.now + timedelta(seconds=10)).retried == pending
    assert deliver_due(alerts.ctx, alerts.now + timedelta(seconds=69)).dead == 0
    assert deliver_due(alerts.ctx, alerts.now + timedelta(seconds=70)).dead == pending
    assert len(receiver.received) == 3 * pending
    dead = deliveries(alerts, hook["webhook_id"], "dead")
    assert len(dead) == pending and {d["attempts"] for d in dead} == {3}
    assert {d["last_error"] for d in dead} == {"http_500"}
    retried = alerts.client.post(f"/webhooks/{hook['webhook_id']}/deliveries/{dead[0]['delivery_id']}/retry",
                                 headers=alerts.as_("sys-cpas", **SYSTEM))
    assert retried.status_code == 200 and retried.get_json()["state"] == "pending"
    assert deliver_due(alerts.ctx, alerts.now + timedelta(seconds=71)).delivered == 1


def test_a_redirect_is_not_followed(alerts, person, receiver):
    hook = subscribe(alerts, receiver.url)
    raised(alerts, person)
    receiver.statuses = [302]
    deliver_due(alerts.ctx, alerts.now)
    assert len(receiver.received) == 1  # no hop to the Location
    assert {d["last_error"] for d in deliveries(alerts, hook["webhook_id"], "pending")} == {"redirect_not_followed"}


def test_a_delivery_is_withheld_when_the_consent_is_gone(alerts, receiver):
    person = alerts.register("cm-1", org="org-cpas", profession="case_manager")
    subscribe(alerts, receiver.url)
    raised(alerts, person)
    grants = alerts.record.consent.client.get(
        f"/beneficiaries/{person}/grants", headers=alerts.record.consent.as_("cm-1", org="org-cpas",
                                                                              profession="case_manager"))
    for grant in grants.get_json()["items"]:
        alerts.record.consent_post(f"/beneficiaries/{person}/grants/{grant['grant_id']}/revoke")
    alerts.sync()
    report = deliver_due(alerts.ctx, alerts.now)
    assert report.withheld >= 1 and report.delivered == 0
    assert receiver.received == []


def test_only_the_organisation_manages_its_webhooks(alerts, receiver):
    other = alerts.as_("sys-other", role="system", org="org-other", profession="case_manager")
    response = alerts.client.post("/organisations/org-cpas/webhooks", json={"url": receiver.url}, headers=other)
    assert response.status_code == 403
    hook = subscribe(alerts, receiver.url)
    assert alerts.client.get(f"/webhooks/{hook['webhook_id']}/deliveries", headers=other).status_code == 403
    listed = alerts.client.get("/organisations/org-cpas/webhooks", headers=alerts.as_("sys-cpas", **SYSTEM))
    assert [h["webhook_id"] for h in listed.get_json()["items"]] == [hook["webhook_id"]]
    assert "secret" not in listed.get_json()["items"][0]
    with alerts.engine.connect() as connection:
        stored = connection.execute(orm.webhooks.select()).first()
    assert hook["secret"].encode() not in bytes(stored.sealed_secret)  # sealed at rest


# -- targets ----------------------------------------------------------------------------------
@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.0.1", "::1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254",
    "fe80::1", "fc00::1", "100.64.0.1", "0.0.0.0", "224.0.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    "192.0.2.10",
])
def test_addresses_that_point_inside_are_refused(address):
    assert address_refusal(address, allow_private=False) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111", "8.8.8.8"])
def test_public_addresses_are_accepted(address):
    assert address_refusal(address, allow_private=False) is None


def test_the_operator_may_allow_private_targets_but_never_multicast():
    assert address_refusal("10.1.2.3", allow_private=True) is None
    assert address_refusal("127.0.0.1", allow_private=True) is None
    assert address_refusal("224.0.0.1", allow_private=True) is not None


@pytest.mark.parametrize("url", [
    "http://example.org/hook", "ftp://example.org/", "https://user:pw@example.org/", "https:///nohost",
    "https://example.org/#frag", "https://example.org:99999/", "https://" + "a" * 600 + ".org/",
])
def test_malformed_or_plain_http_urls_are_refused(url):
    with pytest.raises(TargetRefused):
        parse_target(url, require_https=True)


def test_a_name_that_resolves_inside_is_refused():
    target = parse_target("https://hooks.example.org/relais", require_https=True)
    with pytest.raises(TargetRefused):
        http_sender.checked_addresses(target, allow_private=False,
                                      resolver=lambda host, port: ["93.184.216.34", "10.0.0.5"])
    assert http_sender.checked_addresses(target, allow_private=False,
                                         resolver=lambda host, port: ["93.184.216.34"]) == ["93.184.216.34"]


def test_by_default_a_local_target_is_refused_at_registration(tmp_path):
    harness = make_alerts(tmp_path)
    try:
        for url in ("http://127.0.0.1:8080/hook", "https://127.0.0.1/hook", "https://[::1]/hook",
                    "https://169.254.169.254/latest"):
            response = harness.client.post("/organisations/org-cpas/webhooks", json={"url": url},
                                           headers=harness.as_("sys-cpas", **SYSTEM))
            assert response.status_code == 422, url
            assert response.get_json()["errors"][0]["field"] == "url"
    finally:
        dispose(harness)
