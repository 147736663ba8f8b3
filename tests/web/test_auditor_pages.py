"""An auditor in a real browser: sign in with a second factor, find an access, export it,
and look at the chain's verification with the last signed checkpoint."""

from __future__ import annotations

import csv
import io

import pytest

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
    sign_in(desk, bassin.gateway, auditor.username)  # no code
    assert "The name, the password or the code is not right." in desk.inner_text("main")
    assert "/oauth/authorize" in desk.url


def test_an_auditor_finds_an_access_in_the_log_and_exports_it_as_csv(bassin, person, auditor, desk):
    looked = bassin.api("GET", f"consent/beneficiaries/{person.beneficiary_id}")
    assert looked.status_code == 200
    sign_in(desk, bassin.gateway, auditor.username, auditor.code())
    desk.wait_for_url("**/audit")
    assert desk.get_by_role("heading", level=1).inner_text().strip() == "Search the access log"

    desk.get_by_label("Person (pseudonymous identifier)").fill(person.beneficiary_id)
    desk.get_by_label("Action (code, or its beginning)").fill("beneficiary.read")
    wait_for_audit(bassin.stack, person.beneficiary_id, "beneficiary.read")
    desk.get_by_role("button", name="Search").click()
    entries = desk.locator("ol.entries > li")
    assert entries.count() == 1
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
    assert field.get_attribute("aria-invalid") == "true"
    assert "A person's identifier looks like" in desk.inner_text("main")
    assert desk.locator("ol.entries").count() == 0

    desk.goto(bassin.gateway + "/audit?search=1&organisation=" + ORGANISATION)
    first_page = desk.locator("ol.entries > li .index").all_inner_texts()
    assert first_page
    older = desk.get_by_role("link", name="Older entries")
    if older.count():  # more than one page: the next one starts below the first
        older.click()
        second = desk.locator("ol.entries > li .index").all_inner_texts()
        assert second and int(second[0].lstrip("#")) < int(first_page[-1].lstrip("#"))


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
