"""The alerts inbox pages against a stand-in alerts service that answers as the alerts API
documents (inbox, one alert, acknowledge, resolve, snooze, vocabularies): the gateway runs over
real HTTP, a case manager signs in through the real form, and the stand-in records what each
page sent, so each rule of the pages is checked on its own, quickly. The browser tests against
the real service are in tests/web/test_alerts_pages.py."""

from __future__ import annotations

import json
import re
import threading
import uuid
from html import unescape

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from services.gateway import admin
from shared.config import load_settings
from shared.db.engine import dispose_engines
from shared.db.migrations import upgrade
from tests.gateway.conftest import PASSWORD, Clock
from tests.gateway.test_web_sign_in import _free_port, serving, sign_in

PERSON = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
ALERT = str(uuid.uuid4())
VOCABULARIES = {
    "name": "alerts", "version": "test", "language": "en",
    "lists": {
        "acknowledgement_reason": [{"code": "seen_elsewhere", "label": "Seen elsewhere in the network"},
                                   {"code": "unreachable", "label": "Unreachable"}],
        "resolution_reason": [{"code": "contact_made", "label": "Contact made", "automatic": False},
                              {"code": "seen_again", "label": "Seen again in the network", "automatic": True}],
        "rule": [{"code": "not_seen", "label": "Not seen for a long time"}],
    },
    "rules": {"defaults": {"not_seen": {"snooze_max_days": 14, "snooze_max_times": 2}}},
}


class FakeAlerts:
    def __init__(self) -> None:
        self.posted: list[tuple[str, dict]] = []
        self.state = "open"
        self.lock = threading.Lock()

    def alert(self) -> dict:
        return {"alert_id": ALERT, "beneficiary_id": PERSON, "rule": "not_seen",
                "rule_label": "Not seen for a long time", "state": self.state,
                "state_label": {"open": "To handle", "acknowledged": "Acknowledged"}.get(self.state, self.state),
                "subject_id": None, "organisation": "cpas-ixelles", "since": "2026-10-01T10:00:00+00:00",
                "due_at": "2026-10-31T10:00:00+00:00", "raised_at": "2026-10-31T10:00:00+00:00",
                "opened_at": "2026-10-31T10:00:00+00:00", "escalation_level": 0, "escalated_at": None,
                "escalated_to": [], "reaches_care_team": False,
                "acknowledged": None if self.state != "acknowledged" else {
                    "at": "2026-11-02T09:00:00+00:00", "by": "x", "reason": "seen_elsewhere",
                    "reason_label": "Seen elsewhere in the network", "last_seen_on": "2026-11-01"},
                "snoozed_until": None, "snoozes_left": 2, "resolved": None}

    def __call__(self, environ, start_response):
        request = Request(environ)
        path = request.path
        with self.lock:
            if path == "/vocabularies":
                body, status = VOCABULARIES, 200
            elif path == "/alerts":
                body, status = {"items": [self.alert()], "next_cursor": None}, 200
            elif path == f"/alerts/{ALERT}" and request.method == "GET":
                body, status = self.alert(), 200
            elif path.startswith(f"/alerts/{ALERT}/") and request.method == "POST":
                action = path.rsplit("/", 1)[-1]
                sent = request.get_json()
                self.posted.append((action, sent))
                if action == "snooze" and sent.get("days", 0) > 14:
                    body, status = {"errors": [{"field": "days", "message": "From 1 to 14 days for this rule."}]}, 422
                elif self.state == "acknowledged" and action == "acknowledge":
                    body, status = {"detail": "This alert is acknowledged: it cannot be acknowledged."}, 409
                else:
                    self.state = {"acknowledge": "acknowledged", "resolve": "resolved"}.get(action, "snoozed")
                    body, status = self.alert(), 200
            elif path == f"/beneficiaries/{PERSON}/alerts":
                body, status = {"beneficiary_id": PERSON, "items": [self.alert()], "next_cursor": None}, 200
            else:
                body, status = {"title": "Not found"}, 404
        return Response(json.dumps(body), status=status, mimetype="application/json")(environ, start_response)


def fake_record(environ, start_response):
    request = Request(environ)
    if request.path == "/caseload":
        body = {"items": [], "next_offset": None, "total": 0}
    elif request.path == "/vocabularies":
        body = {"version": "test", "language": "en", "lists": {}, "lifecycles": {}}
    else:
        return Response("{}", status=404, mimetype="application/json")(environ, start_response)
    return Response(json.dumps(body), mimetype="application/json")(environ, start_response)


@pytest.fixture
def inbox(tmp_path, monkeypatch):
    alerts = FakeAlerts()
    port = _free_port()
    gateway_url = f"http://127.0.0.1:{port}"
    db = f"sqlite:///{tmp_path / 'gateway.db'}"
    env = {"RELAIS_VAR_DIR": str(tmp_path / "var"), "GATEWAY_DATABASE_URL": db, "RELAIS_ISSUER": gateway_url,
           "RELAIS_GATEWAY_INTERNAL_URL": gateway_url, "RELAIS_LOG_FORMAT": "console",
           "AUDIT_URL": "http://127.0.0.1:1", "CONSENT_URL": "http://127.0.0.1:1"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    upgrade("gateway", db)
    admin.ensure_web_client()
    admin.create_organisation("cpas-ixelles", "CPAS d'Ixelles")
    admin.create_user("carla.cm", "professional", PASSWORD, organisation="cpas-ixelles", profession="case_manager")
    with serving(alerts) as alerts_url, serving(fake_record) as record_url:
        monkeypatch.setenv("ALERTS_URL", alerts_url)
        monkeypatch.setenv("RECORD_URL", record_url)
        from services.gateway.app import create_app

        app = create_app(settings=load_settings("gateway"), clock=Clock())
        server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield gateway_url, alerts, sign_in(gateway_url, "carla.cm", "/work")
        finally:
            server.shutdown()
            thread.join(timeout=10)
    dispose_engines()


def _form(html: str, action_end: str) -> tuple[str, str]:
    for action in re.findall(r'<form method="post" action="([^"]+)"', html):
        if unescape(action).endswith(action_end):
            return unescape(action), re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    raise AssertionError(f"no form posting to …{action_end}")


def test_the_inbox_lists_my_alerts_with_their_labels_and_links(inbox):
    url, _alerts, browser = inbox
    page = browser.get(url + "/work/alerts")
    assert page.status_code == 200
    assert "Not seen for a long time" in page.text and "To handle" in page.text
    assert f'href="/work/alerts/{ALERT}"' in page.text and f'href="/work/people/{PERSON}"' in page.text


def test_acknowledging_sends_the_coded_reason_and_the_day_last_seen(inbox):
    url, alerts, browser = inbox
    page = browser.get(f"{url}/work/alerts/{ALERT}")
    assert "Seen elsewhere in the network" in page.text
    assert "Seen again in the network" not in page.text  # set by the service itself, never by hand
    action, token = _form(page.text, "/acknowledge")
    missing = browser.post(url + action, data={"csrf_token": token})
    assert missing.status_code == 422 and "Choose what you know." in missing.text
    assert alerts.posted == []  # nothing sent before the form is complete
    done = browser.post(url + action, data={"csrf_token": token, "reason": "seen_elsewhere",
                                             "last_seen_on": "2026-11-01"}, allow_redirects=False)
    assert done.status_code == 303 and done.headers["Location"].endswith("/work/alerts")
    assert alerts.posted == [("acknowledge", {"reason": "seen_elsewhere", "last_seen_on": "2026-11-01"})]
    assert "The alert is acknowledged" in browser.get(url + "/work/alerts").text
    again = browser.get(f"{url}/work/alerts/{ALERT}")
    assert "/acknowledge" not in again.text and "last seen" in again.text.lower()  # no second take
    refused = browser.post(url + action, data={"csrf_token": token, "reason": "unreachable"})
    assert refused.status_code == 409 and "This cannot be done now" in refused.text


def test_snoozing_offers_what_the_rule_allows_and_shows_a_refusal_beside_the_field(inbox):
    url, alerts, browser = inbox
    page = browser.get(f"{url}/work/alerts/{ALERT}")
    offered = re.findall(r'<option value="(\d+)">', page.text)
    assert offered == ["1", "3", "7", "14"]  # within the rule's 14 days
    action, token = _form(page.text, "/snooze")
    refused = browser.post(url + action, data={"csrf_token": token, "days": "30"})  # typed by hand
    assert refused.status_code == 422
    assert 'id="days-error"' in refused.text and "From 1 to 14 days for this rule." in refused.text
    done = browser.post(url + action, data={"csrf_token": token, "days": "7"}, allow_redirects=False)
    assert done.status_code == 303 and alerts.posted[-1] == ("snooze", {"days": 7})


def test_resolving_needs_a_reason_and_posts_without_a_token_are_refused(inbox):
    url, alerts, browser = inbox
    page = browser.get(f"{url}/work/alerts/{ALERT}")
    action, token = _form(page.text, "/resolve")
    assert browser.post(url + action, data={"reason": "contact_made"}).status_code == 400  # no CSRF token
    assert browser.post(url + action, data={"csrf_token": token}).status_code == 422
    done = browser.post(url + action, data={"csrf_token": token, "reason": "contact_made"}, allow_redirects=False)
    assert done.status_code == 303 and alerts.posted == [("resolve", {"reason": "contact_made"})]


def test_an_unknown_alert_reads_as_not_found(inbox):
    url, _alerts, browser = inbox
    page = browser.get(f"{url}/work/alerts/{uuid.uuid4()}")
    assert page.status_code == 404 and "This alert is not found, or it is not yours to see." in page.text
