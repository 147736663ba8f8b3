"""A person (beneficiary) in a real browser, on a phone-sized screen, against the running stack."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from services.gateway.web.person import JOURNEY_PAGE
from tests.support.browser import fits_width, screenshot
from tests.web.conftest import ORGANISATION, ORGANISATION_NAME, sign_in, wait_for_audit, words

pytestmark = pytest.mark.e2e


def test_a_person_signs_in_sees_a_grant_and_withdraws_it(bassin, person, page):
    read = bassin.api("GET", f"record/beneficiaries/{person.beneficiary_id}/timeline")
    assert read.status_code == 200, read.text  # the organisation uses its access once
    wait_for_audit(bassin.stack, person.beneficiary_id, "timeline.read")
    sign_in(page, bassin.gateway, person.username)
    page.wait_for_url("**/me")
    expect(page.get_by_role("heading", level=1)).to_have_text("My record")
    assert "1 access is open" in words(page.locator(".facts").text_content())
    screenshot(page, "person-home")

    page.get_by_role("link", name="Who can see my record").click()
    grant = page.locator(".card.grant")
    expect(grant).to_have_count(1)
    assert ORGANISATION_NAME in grant.inner_text()  # the organisation's name, not its code
    assert "The service cpas-web can see" in grant.inner_text()  # the consent API's own words
    use = grant.locator(".use")  # joined from the audit log: the read above, under this grant
    assert re.match(r"(once|\d+ times), (the last )?on \w+ \d+, \d{4}", words(use.inner_text())), use.inner_text()
    expect(use.get_by_role("link", name="see who looked")).to_have_attribute("href", "/me/looked")
    screenshot(page, "person-who-can-see")

    grant.get_by_role("link", name="Withdraw this access").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Withdraw this access?")
    page.get_by_role("button", name="Yes, withdraw it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The access is withdrawn")

    # the consent API now answers the organisation as if there were no one
    decision = bassin.api("POST", "consent/decisions",
                          json={"beneficiary_id": person.beneficiary_id, "categories": ["contacts"]})
    assert decision.status_code == 200, decision.text
    assert decision.json()["categories"][0]["decision"] == "deny"
    page.get_by_role("link", name="Back to who can see my record").click()
    expect(page.locator("main p.lead")).to_have_text("Nobody can see your record now.")
    assert "withdrawn" in page.locator(".card.ended").inner_text()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are signed out")
    page.goto(bassin.gateway + "/me")  # the session is gone: back to the sign-in page
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_a_person_sees_who_looked_at_their_record_with_the_proof_that_the_list_is_complete(
        bassin, person, page):
    looked = bassin.api("GET", f"consent/beneficiaries/{person.beneficiary_id}")
    assert looked.status_code == 200, looked.text
    wait_for_audit(bassin.stack, person.beneficiary_id, "beneficiary.read")
    sign_in(page, bassin.gateway, person.username)
    page.wait_for_url("**/me")
    wait_for_audit(bassin.stack, person.beneficiary_id, "self.status")  # the person's own look
    page.goto(bassin.gateway + "/me/looked")
    proof = page.locator(".proof")
    assert "This list is complete" in proof.inner_text()
    entries = page.locator("ol.timeline > li")
    expect(entries).to_have_count(2)  # the organisation's registration and read; the person's own apart
    text_of_all = page.inner_text("ol.timeline")
    assert f"Case manager (référent), {ORGANISATION_NAME}" in text_of_all
    assert "looked at your record" in text_of_all and "registered your record" in text_of_all
    own = page.locator("details.own summary").inner_text()
    assert own.startswith("You opened your own record")
    assert fits_width(page)
    screenshot(page, "person-who-looked")


def test_a_person_gives_access_with_a_share_code_and_blocks_someone(bassin, person, page):
    sign_in(page, bassin.gateway, person.username)
    page.goto(bassin.gateway + "/me/share")
    page.get_by_label("Stays", exact=True).check()
    page.get_by_label("For how long").select_option("30")
    screenshot(page, "person-share-form")
    page.get_by_role("button", name="Make the code").click()
    expect(page.locator(".spelled span")).to_have_count(8)
    code = page.locator(".share-code").inner_text().strip()
    assert len(code) == 9 and code[4] == "-"
    assert code not in page.url  # the code never travels in an address
    screenshot(page, "person-share-code")

    page.goto(bassin.gateway + "/me/block")
    page.get_by_label(f"The whole service {ORGANISATION_NAME}").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Block them?")
    page.get_by_role("button", name="Yes, block").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("They are blocked")
    page.goto(bassin.gateway + "/me/block")
    assert ORGANISATION_NAME in page.locator(".cards").first.inner_text()
    refused = bassin.api("GET", f"consent/beneficiaries/{person.beneficiary_id}")
    assert refused.status_code == 404  # blocked: the organisation no longer learns they exist


def test_a_person_downloads_everything_then_erases_their_record_after_confirming(bassin, person, page):
    sign_in(page, bassin.gateway, person.username)
    page.goto(bassin.gateway + "/me/data")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download my data").click()
    saved = download.value
    assert saved.suggested_filename == "relais-my-data.json"
    import json

    document = json.loads(open(saved.path(), encoding="utf-8").read())
    assert document["consent"]["beneficiary"]["id"] == person.beneficiary_id
    assert document["accesses"]["accesses"]

    page.get_by_role("link", name="Ask for erasure…").click()
    page.get_by_role("button", name="Erase my record").click()  # without ticking the box
    expect(page.locator("#understood")).to_have_attribute("aria-invalid", "true")
    assert "Tick the box" in page.inner_text("main")
    page.get_by_label("I understand that this cannot be undone.").check()
    page.get_by_role("button", name="Erase my record").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your record is erased")
    assert bassin.api("GET", f"consent/beneficiaries/{person.beneficiary_id}").status_code == 404


def test_the_other_pages_of_the_person_open(bassin, person, page):
    sign_in(page, bassin.gateway, person.username)
    for path, heading in (("/me/emergencies", "Emergency accesses"), ("/me/receipts", "My receipts"),
                          ("/me/journey", "My journey")):
        page.goto(bassin.gateway + path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert fits_width(page), path
    assert "Nothing has been noted in your journey yet." in page.inner_text("main")
    page.goto(bassin.gateway + "/me/receipts")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the signed receipt").first.click()
    assert download.value.suggested_filename.endswith(".jws")
    page.goto(bassin.gateway + "/audit")  # not an auditor
    expect(page.get_by_role("heading", level=1)).to_have_text("Not for this account")


def test_a_person_reads_their_journey_in_plain_words_a_page_at_a_time(bassin, person, page):
    base = f"record/beneficiaries/{person.beneficiary_id}"
    now = datetime.now(UTC)
    step = bassin.api("POST", f"{base}/steps", json={"step_kind": "housing_application", "status": "in_progress",
                                                    "occurred_at": (now - timedelta(days=2)).isoformat()})
    assert step.status_code == 201, step.text
    for minutes in range(JOURNEY_PAGE + 1):  # one more than a page
        logged = bassin.api("POST", f"{base}/contacts", json={
            "occurred_at": (now - timedelta(hours=1, minutes=minutes)).isoformat(),
            "modality": "street_outreach", "outcome": "met"})
        assert logged.status_code == 201, logged.text
    bassin.api("POST", f"{base}/contacts", json={"occurred_at": now.isoformat(), "modality": "phone",
                                                 "outcome": "attempt"}).raise_for_status()

    sign_in(page, bassin.gateway, person.username)
    page.get_by_role("link", name="My journey").click()
    steps = page.locator(".steps > li")
    expect(steps).to_have_count(1)
    assert "Housing application" in steps.inner_text() and "In progress" in steps.inner_text()
    entries = page.locator("ol.journey > li")
    expect(entries).to_have_count(JOURNEY_PAGE)
    newest, second = words(entries.nth(0).inner_text()), words(entries.nth(1).inner_text())
    assert f"Case manager (référent), {ORGANISATION_NAME} tried to reach you" in newest and "Phone" in newest
    assert f"Case manager (référent), {ORGANISATION_NAME} met you" in second and "Street outreach" in second
    assert entries.locator("svg.icon").count() == JOURNEY_PAGE  # a pictogram each
    assert fits_width(page)
    screenshot(page, "person-journey", full_page=False)

    page.get_by_role("link", name="Earlier").click()
    expect(page.get_by_role("heading", level=2, name="Earlier")).to_be_visible()
    expect(page.locator("ol.journey > li")).to_have_count(3)  # the last contact and the step
    assert "A step began: Housing application" in words(page.locator("ol.journey > li").last.inner_text())
    assert "cursor=" in page.url and person.beneficiary_id not in page.url
    page.get_by_role("button", name="Français").click()  # the same page, in French
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon parcours")
    assert "vous a rencontré·e" in page.inner_text("ol.journey") and "Travail de rue" in page.inner_text("ol.journey")
    page.get_by_role("link", name="Retour aux plus récents").click()
    expect(page.locator("ol.journey > li")).to_have_count(JOURNEY_PAGE)


def test_a_person_is_told_that_someone_was_asked_to_get_in_touch_and_nothing_more(
        bassin, person, case_manager, page):
    from tests.web.test_alerts_pages import wait_for_open_alerts

    sign_in(page, bassin.gateway, person.username)
    page.wait_for_url("**/me")
    expect(page.locator("section.asked")).to_have_count(0)  # nothing asked yet
    base = f"record/beneficiaries/{person.beneficiary_id}"
    bassin.api("POST", f"{base}/referent", json={
        "subject": case_manager.user_id, "organisation": ORGANISATION, "profession": "case_manager"}
    ).raise_for_status()
    met = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    bassin.api("POST", f"{base}/contacts", json={"occurred_at": met, "modality": "street_outreach",
                                                 "outcome": "met"}).raise_for_status()
    wait_for_open_alerts(bassin, person.beneficiary_id, lambda n: n >= 1)
    page.reload()
    asked = page.locator("section.asked")
    expect(asked.get_by_role("heading", level=2)).to_have_text("Someone will get in touch")
    text = words(asked.inner_text())
    assert "Someone in your network has been asked to get in touch with you." in text
    assert "Asked on" in text
    for never in ("Not seen", "40", "days", "rule"):  # no rule, no absence, no count
        assert never not in text, never
    assert fits_width(page)
