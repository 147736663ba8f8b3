"""`relais demo` fills a running stack through its public API, and the accounts it prints work."""

from __future__ import annotations

import re

import pytest
import requests

from relais.demo import DEMO_REDIRECT, PROFESSIONAL_SCOPES, sign_in
from tests.support import infra
from tests.support.stack import start_stack, teardown

pytestmark = pytest.mark.e2e


@pytest.fixture
def demo_stack(tmp_path):
    running = start_stack(tmp_path / "var")
    yield running
    running.stop()
    teardown(running)


def _accounts(stdout: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(?:the person|a case manager|an outreach worker|a psychologist|the auditor)"
                           r"\s+(\w+)\s+(\S+)", stdout, re.M))


def test_the_demo_fills_the_stack_and_its_accounts_sign_in(demo_stack):
    loaded = demo_stack.relais("demo")
    accounts = _accounts(loaded.stdout)
    assert set(accounts) == {"bea", "lea", "sam", "nadia", "dora"}
    secret = re.search(r"relais admin totp-code (\w+)", loaded.stdout).group(1)

    # The demo's accounts sign in through the real form, with the one-time code for the auditor.
    created = demo_stack.relais("admin", "create-client", "--name", "test app", "--scopes",
                                f"{PROFESSIONAL_SCOPES} self audit:read", "--redirect-uri", DEMO_REDIRECT)
    fields = dict(line.split(": ", 1) for line in created.stdout.strip().splitlines())
    client = (fields["client_id"], fields["client_secret"])
    base = demo_stack.gateway

    def token(name: str, scope: str, **kwargs) -> dict[str, str]:
        return {"Authorization": f"Bearer {sign_in(base, *client, name, accounts[name], scope=scope, **kwargs)}"}

    lea = token("lea", "record:read")
    caseload = requests.get(f"{base}/api/v1/record/caseload?limit=50", headers=lea, timeout=30).json()
    assert caseload["total"] == 20
    never_or_longest = caseload["items"][0]
    assert never_or_longest["last_seen_at"] is not None
    summaries = [requests.get(f"{base}/api/v1/record/beneficiaries/{item['beneficiary_id']}/summary",
                              headers=lea, timeout=30).json() for item in caseload["items"]]
    exits = [s for s in summaries if s["last_transition"]]
    assert len(exits) == 1 and exits[0]["last_transition"]["protocol"]["acknowledged"] == 1
    assert all(s["referent"] for s in summaries)

    # The alerts service found the person not met for six weeks and the protocol's late service.
    lea_alerts = token("lea", "alerts:read")

    def inbox_rules() -> set[str]:
        page = requests.get(f"{base}/api/v1/alerts/alerts", headers=lea_alerts, timeout=30).json()
        return {alert["rule"] for alert in page["items"]}

    infra.wait_until(lambda: inbox_rules() >= {"not_seen", "activation_overdue"},
                     message="the demo's alerts in the référent's inbox")

    bea = token("bea", "self")
    own = requests.get(f"{base}/api/v1/record/me/timeline", headers=bea, timeout=30).json()
    assert own["items"]

    code = lambda: demo_stack.relais("admin", "totp-code", secret).stdout.strip()  # noqa: E731
    dora = token("dora", "audit:read", totp=code)
    infra.wait_until(lambda: requests.get(f"{base}/api/v1/audit/events", params={"action": "emergency.open"},
                                          headers=dora, timeout=30).json()["items"],
                     message="the emergency access in the audit log")

    # Loading it twice is refused in plain words, and changes nothing.
    again = demo_stack.relais("demo", check=False)
    assert again.returncode != 0
    assert "already" in again.stderr
