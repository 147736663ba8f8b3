"""An auditor in a real browser: sign in with a second factor, find an access, export it,
and look at the chain's verification with the last signed checkpoint."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from tests.support.browser import screenshot
from tests.web.conftest import (
    ORGANISATION,
    sign_in,
    wait_for_audit,
    wait_for_checkpoint_covering,
    words,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def desk(browser):
    """An auditor works at a desk: a wider screen."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="en-GB", accept_downloads=True)
    yield context.new_page()
    context.close()


def test_an_auditor_needs_the_second_factor(bassin, auditor, desk):
    sign_in(desk, bassin.gateway, auditor.username, succeeds=False)  # no code
    expect(desk.get_by_role("alert")).to_have_text("The name, the password or the code is not right.")
    assert "/oauth/authorize" in desk.url


def test_an_auditor_finds_an_access_in_the_log_and_exports_it_as_csv(bassin, person, auditor, desk):
    looked = bassin.api("GET", f"consent/beneficiaries/{person.beneficiary_id}")
    assert looked.status_code == 200
    sign_in(desk, bassin.gateway, auditor.username, auditor.code())
    desk.wait_for_url("**/audit")
    expect(desk.get_by_role("heading", level=1)).to_have_text("Search the access log")

    desk.get_by_label("Person (pseudonymous identifier)").fill(person.beneficiary_id)
    desk.get_by_label("Action (code, or its beginning)").fill("beneficiary.read")
    wait_for_audit(bassin.stack, person.beneficiary_id, "beneficiary.read")
    desk.get_by_role("button", name="Search").click()
    entries = desk.locator("ol.entries > li")
    expect(entries).to_have_count(1)
    found = entries.first.inner_text()
    assert "beneficiary.read" in found and person.beneficiary_id in found and ORGANISATION in found
    assert "Case manager (référent)" in found
    screenshot(desk, "auditor-search")

    with desk.expect_download() as download:
        desk.get_by_role("link", name="Export CSV").click()
    saved = download.value
    assert saved.suggested_filename.startswith("relais-audit-") and saved.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(open(saved.path(), encoding="utf-8").read())))
    assert [(r["action"], r["beneficiary_id"], r["organisation"]) for r in rows] == [
        ("beneficiary.read", person.beneficiary_id, ORGANISATION)]

    with desk.expect_download() as download:
        desk.get_by_role("link", name="Export JSON").click()
    assert download.value.suggested_filename.endswith(".jsonl")


def test_a_search_with_a_bad_field_says_which_and_pages_go_by_cursor(bassin, person, auditor, desk):
    sign_in(desk, bassin.gateway, auditor.username, auditor.code())
    desk.wait_for_url("**/audit")
    desk.get_by_label("Person (pseudonymous identifier)").fill("not-an-id")
    desk.get_by_role("button", name="Search").click()
    field = desk.get_by_label("Person (pseudonymous identifier)")
    expect(field).to_have_attribute("aria-invalid", "true")
    assert "A person's identifier looks like" in desk.inner_text("main")
    assert desk.locator("ol.entries").count() == 0

    for _ in range(11):  # eleven reads and the registration: twelve entries about the person
        assert bassin.api("GET", f"consent/beneficiaries/{person.beneficiary_id}").status_code == 200
    wait_for_audit(bassin.stack, person.beneficiary_id, "beneficiary.read", 11)
    desk.get_by_label("Person (pseudonymous identifier)").fill(person.beneficiary_id)
    desk.get_by_label("Entries per page").select_option("10")
    desk.get_by_role("button", name="Search").click()
    expect(desk.locator("ol.entries > li")).to_have_count(10)
    first_page = [int(i.lstrip("#")) for i in desk.locator("ol.entries > li .index").all_inner_texts()]
    assert len(first_page) == 10 and first_page == sorted(first_page, reverse=True)  # newest first
    desk.get_by_role("link", name="Older entries").click()
    desk.wait_for_url("**cursor=**")
    assert "cursor=" in desk.url and person.beneficiary_id in desk.url  # a pseudonymous id, no name
    second = [int(i.lstrip("#")) for i in desk.locator("ol.entries > li .index").all_inner_texts()]
    assert len(second) >= 2 and max(second) < min(first_page)
    assert not set(second) & set(first_page)
    desk.get_by_role("link", name="Newest entries").click()
    desk.wait_for_url(lambda url: "cursor=" not in url)
    newest = [int(i.lstrip("#")) for i in desk.locator("ol.entries > li .index").all_inner_texts()]
    assert len(newest) == 10 and newest[0] >= first_page[0]  # (each search is itself logged, newest)


def test_the_verification_page_shows_the_chain_state_and_the_last_checkpoint(bassin, person, auditor, desk):
    wait_for_audit(bassin.stack, person.beneficiary_id, "beneficiary.register")
    wait_for_checkpoint_covering(bassin.stack, person.beneficiary_id)
    sign_in(desk, bassin.gateway, auditor.username, auditor.code())
    desk.wait_for_url("**/audit")
    desk.get_by_role("link", name="Verification").click()
    assert "The log is intact" in desk.locator(".proof").first.inner_text(), desk.inner_text("main")
    report = words(desk.locator("dl.report").inner_text())
    assert "Entries and tree intact" in report and "Persons' index matches" in report
    note = desk.locator("pre.checkpoint").inner_text()
    assert note.startswith("relais.local/audit\n")
    screenshot(desk, "auditor-verification")
