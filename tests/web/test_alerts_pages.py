"""The alerts inbox in a real browser against the running stack: a case manager sees the alert
about a person not seen for a long time, logs a contact from the person's page, and sees the
alert resolve by itself; and handles alerts by hand (acknowledge with a reason and the day last
seen, snooze, resolve with a reason). The stack's alerts worker scans every second."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.support import infra
from tests.support.browser import (
    COUNT_INTERACTIONS,
    interactions,
    screenshot,
    start_counting_interactions,
)
from tests.web.conftest import ORGANISATION, sign_in, words
from tests.web.test_work_pages import register

pytestmark = pytest.mark.e2e


def forgotten_person(bassin, case_manager, days: int = 40) -> str:
    """A person whose référent is the case manager, last met ``days`` ago: overdue for the
    "not seen" rule (30 days by default), so the alerts service raises an alert at its next scan."""
    person = register(bassin)
    base = f"record/beneficiaries/{person}"
    bassin.api("POST", f"{base}/referent", json={
        "subject": case_manager.user_id, "organisation": ORGANISATION, "profession": "case_manager"}
    ).raise_for_status()
    met = (datetime.now(UTC) - timedelta(days=days)).isoformat()
    bassin.api("POST", f"{base}/contacts", json={"occurred_at": met, "modality": "street_outreach",
                                                 "outcome": "met"}).raise_for_status()
    return person


def open_alerts(bassin, person: str) -> int:
    return bassin.api("GET", f"record/beneficiaries/{person}/summary").json()["open_alerts"] or 0


def wait_for_open_alerts(bassin, person: str, wanted) -> None:
    infra.wait_until(lambda: wanted(open_alerts(bassin, person)), timeout=60,
                     message="the person's open alerts reached the record service")


def test_a_case_manager_logs_a_contact_and_sees_the_persons_alert_resolve(
        bassin, case_manager, page):
    person = forgotten_person(bassin, case_manager)
    wait_for_open_alerts(bassin, person, lambda n: n >= 1)
    page.context.add_init_script(COUNT_INTERACTIONS)
    sign_in(page, bassin.gateway, case_manager.username)
    page.get_by_role("link", name="My alerts").click()
    card = page.locator(".alerts > li", has=page.locator(f"a[href$='{person}']"))
    expect(card).to_have_count(1)
    assert "Not seen for a long time" in card.inner_text()
    screenshot(page, "work-alerts")

    card.get_by_role("link", name=f"Person {person[:8]}").click()
    expect(page.locator("#alerts-title")).to_be_visible()
    assert "Not seen for a long time" in page.inner_text("section:has(#alerts-title)")
    start_counting_interactions(page)
    page.get_by_label("Street outreach").click()  # the default already; pressed as a person would
    page.get_by_label("Met", exact=True).click()
    page.get_by_role("button", name="Log the contact").click()
    expect(page.locator(".notice")).to_have_text("The contact is logged.")
    assert interactions(page) == 3

    wait_for_open_alerts(bassin, person, lambda n: n == 0)  # resolved by the contact, through the bus
    page.reload()
    assert page.locator("#alerts-title").count() == 0
    assert "Open alerts none" in words(page.inner_text(".glance"))
    page.get_by_role("link", name="My caseload").first.click()
    page.get_by_role("link", name="My alerts").click()
    expect(page.locator(f".alerts a[href$='{person}']")).to_have_count(0)


def test_a_case_manager_acknowledges_snoozes_and_resolves_alerts_by_hand(
        bassin, case_manager, page):
    acknowledged, snoozed, resolved = (forgotten_person(bassin, case_manager) for _ in range(3))
    for person in (acknowledged, snoozed, resolved):
        wait_for_open_alerts(bassin, person, lambda n: n >= 1)
    sign_in(page, bassin.gateway, case_manager.username)

    def open_alert(person: str) -> None:
        page.goto(bassin.gateway + "/work/alerts")
        page.locator(".alerts > li", has=page.locator(f"a[href$='{person}']")).get_by_role(
            "link", name="Not seen for a long time").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Not seen for a long time")

    open_alert(acknowledged)
    page.get_by_role("button", name="Acknowledge").click()  # no reason chosen
    assert "Choose what you know." in page.inner_text("main")
    page.get_by_label("Seen elsewhere in the network").check()
    page.get_by_label("Last seen on").fill((date.today() - timedelta(days=2)).isoformat())
    screenshot(page, "work-alert")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".notice")).to_contain_text("The alert is acknowledged")
    card = page.locator(".alerts > li", has=page.locator(f"a[href$='{acknowledged}']"))
    assert "Acknowledged" in card.inner_text() and "Seen elsewhere in the network" in card.inner_text()

    open_alert(snoozed)
    page.get_by_label("In", exact=True).select_option("7")
    page.get_by_role("button", name="Snooze").click()
    expect(page.locator(".notice")).to_contain_text("The alert is snoozed")
    card = page.locator(".alerts > li", has=page.locator(f"a[href$='{snoozed}']"))
    assert "Snoozed until" in card.inner_text()

    open_alert(resolved)
    page.get_by_label("Why").select_option(label="Followed by another service")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator(".notice")).to_have_text("The alert is resolved.")
    expect(page.locator(f".alerts a[href$='{resolved}']")).to_have_count(0)
    wait_for_open_alerts(bassin, resolved, lambda n: n == 0)
