"""A case manager in a real browser, on a phone-sized screen, against the running stack:
registering a person with their consent, logging a contact in at most three interactions,
steps, a prison exit and its checklist, a share code, and a withdrawal that takes effect on the
professional's very next read."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.support.browser import (
    COUNT_INTERACTIONS,
    fits_width,
    interactions,
    screenshot,
    start_counting_interactions,
)
from tests.web.conftest import ORGANISATION_NAME, make_worker, register_person, sign_in, words

pytestmark = pytest.mark.e2e


def national_number() -> str:
    """A made-up number with the right check digits (each test registers someone new)."""
    body = random.randrange(10**8, 10**9)
    return f"{body:09d}{97 - body % 97:02d}"


def register(bassin, **body) -> str:
    return register_person(bassin, body or None)["id"]


def open_person(page, bassin, beneficiary_id: str) -> None:
    page.goto(f"{bassin.gateway}/work/people/{beneficiary_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(beneficiary_id[:8])


def test_a_case_manager_registers_a_person_with_consent_and_logs_a_contact_in_three_interactions(
        bassin, case_manager, page):
    addresses: list[str] = []
    page.on("request", lambda request: addresses.append(request.url))
    page.context.add_init_script(COUNT_INTERACTIONS)
    sign_in(page, bassin.gateway, case_manager.username)
    page.wait_for_url("**/work")
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")

    page.get_by_role("link", name="Register a person").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register a person")
    assert page.get_by_label("Steps under way").is_checked()  # the policy's defaults
    assert not page.get_by_label("Mental-health stays").is_checked()
    assert f"You record this consent (Case manager (référent), {ORGANISATION_NAME})" in words(
        page.inner_text(".witness"))
    page.get_by_label("Given name").fill("Nadia")
    page.get_by_label("Family name").fill("Benali")
    page.get_by_label("National register number").fill("12345678901")  # the check digits are wrong
    page.get_by_label("By a signed form").check()
    until = date.today() + timedelta(days=365)
    page.get_by_label("Until (day, included").fill(until.isoformat())
    page.get_by_role("button", name="Register the person").click()
    expect(page.get_by_label("Reference of the signed form")).to_have_attribute("aria-invalid", "true")
    assert page.get_by_label("Given name").input_value() == "Nadia"  # nothing typed is lost
    page.get_by_label("In person, in front of me").check()
    page.get_by_role("button", name="Register the person").click()
    # the consent service's 422, beside the field it names
    field = page.get_by_label("National register number")
    expect(field).to_have_attribute("aria-invalid", "true")
    assert "check digits" in page.inner_text("#national_number-error")
    number = national_number()
    field.fill(number)
    screenshot(page, "work-register")
    page.get_by_role("button", name="Register the person").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Nadia Benali")
    expect(page.locator(".notice")).to_have_text("The person is registered.")
    beneficiary_id = page.url.rsplit("/", 1)[-1]
    uuid.UUID(beneficiary_id)
    grant = bassin.api("GET", f"consent/beneficiaries/{beneficiary_id}/grants").json()["items"][0]
    assert grant["witness"] == case_manager.user_id and grant["method"] == "in_person"
    ends = datetime.fromisoformat(grant["valid_until"]).astimezone(ZoneInfo("Europe/Brussels"))
    assert (ends.date(), ends.hour, ends.minute) == (until + timedelta(days=1), 0, 0)  # the day included
    assert "mental_health_episodes" not in grant["categories"]

    # a contact: choose the modality, choose the outcome, submit — counted in the browser
    start_counting_interactions(page)
    page.get_by_label("Phone", exact=True).click()
    page.get_by_label("Met", exact=True).click()
    page.get_by_role("button", name="Log the contact").click()
    expect(page.locator(".notice")).to_have_text("The contact is logged.")
    assert interactions(page) <= 3
    assert interactions(page) == 3
    first = page.locator("ol.timeline > li").first
    assert "Contact: Phone — Met" in words(first.inner_text())
    assert f"By: Case manager (référent), {ORGANISATION_NAME}" in words(first.inner_text())
    # the next one needs a single press: the page opens with the modality used most with them
    start_counting_interactions(page)
    assert page.get_by_label("Phone", exact=True).is_checked()
    page.get_by_role("button", name="Log the contact").click()
    expect(page.locator(".notice")).to_have_text("The contact is logged.")
    assert interactions(page) == 1
    expect(page.locator("ol.timeline > li.kind-contact")).to_have_count(2)
    assert "Last seen" in page.inner_text(".glance") and "Not seen yet" not in page.inner_text(".glance")
    assert fits_width(page)
    screenshot(page, "work-person")

    page.get_by_role("link", name="My caseload").first.click()
    row = page.locator(".caseload > li", has=page.locator(f"a[href$='{beneficiary_id}']"))
    expect(row).to_have_count(1)
    assert "Not seen yet" not in row.inner_text() and "Open steps" in row.inner_text()
    screenshot(page, "work-caseload")

    # the national number went only in a form's body: in no address, in no log line
    assert all(number not in a for a in addresses) and all("Benali" not in a for a in addresses)
    logs = Path(bassin.stack.env["RELAIS_VAR_DIR"]) / "log"
    for log in logs.glob("*.log"):
        text = log.read_text(errors="replace")
        assert number not in text and "Benali" not in text, log.name


def test_a_case_manager_starts_a_step_and_moves_it_with_the_reason_it_is_blocked(bassin, case_manager, page):
    beneficiary_id = register(bassin)
    sign_in(page, bassin.gateway, case_manager.username)
    open_person(page, bassin, beneficiary_id)
    page.get_by_role("link", name="Start a step").click()
    page.get_by_label("Which step").select_option(label="Housing application")
    page.get_by_role("button", name="Start the step").click()
    expect(page.locator(".notice")).to_have_text("The step is started.")
    step = page.locator(".steps > li")
    assert "Housing application — Requested" in words(step.inner_text())

    step.get_by_role("link", name="Move this step").click()
    statuses = page.locator("input[name=status]")
    offered = [statuses.nth(i).get_attribute("value") for i in range(statuses.count())]
    assert "done" not in offered and "in_progress" in offered  # a requested step cannot be done yet
    page.get_by_label("Blocked", exact=True).check()
    page.get_by_role("button", name="Move the step").click()
    blocker = page.get_by_label("What blocks it")
    expect(blocker).to_have_attribute("aria-invalid", "true")
    assert "Say what blocks the step." in page.inner_text("#blocker-error")
    blocker.select_option(label="Waiting list")
    page.get_by_role("button", name="Move the step").click()
    expect(page.locator(".notice")).to_have_text("The step is moved.")
    assert "Housing application — Blocked (Waiting list)" in words(page.locator(".steps > li").inner_text())
    assert "Blocked: 1" in page.inner_text("#steps-title + p")

    page.locator(".steps > li").get_by_role("link", name="Move this step").click()
    page.get_by_label("In progress", exact=True).check()
    page.get_by_role("button", name="Move the step").click()
    assert "Housing application — In progress" in words(page.locator(".steps > li").inner_text())
    timeline = words(page.inner_text("ol.timeline"))
    assert "Step status change: Housing application: In progress" in timeline
    assert "held up by: Waiting list" in timeline

    # a time in the future: the record service's own words, beside the field
    page.locator("details.when-field summary").click()
    page.get_by_label("When (leave empty for now)").fill("2031-01-01T10:00")
    page.get_by_role("button", name="Log the contact").click()
    expect(page.get_by_label("When (leave empty for now)")).to_have_attribute("aria-invalid", "true")
    assert "future" in page.inner_text("#occurred_at-error")


def test_a_case_manager_records_a_prison_exit_and_ticks_its_exit_protocol(bassin, case_manager, page):
    beneficiary_id = register(bassin)
    sign_in(page, bassin.gateway, case_manager.username)
    open_person(page, bassin, beneficiary_id)
    page.get_by_role("link", name="Record a discharge or an exit").click()
    page.get_by_label("Exit from prison").check()
    page.get_by_role("button", name="Record it and start the protocol").click()  # fragility left out
    expect(page.locator("[aria-invalid=true], fieldset[aria-describedby]")).not_to_have_count(0)
    assert "it decides whom the protocol proposes" in page.inner_text("main")
    for flag in ("No housing", "Few close ones", "No income", "Health follow-up arranged"):
        page.get_by_label(flag, exact=True).check()
    page.get_by_role("button", name="Record it and start the protocol").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Exit protocol")
    cards = page.locator(".checklist > li")
    services = [c.split("\n")[0] for c in cards.all_inner_texts()]
    assert {"CPAS social service", "Justice welfare service", "Housing service", "Shelter"} == set(services)
    assert "0 of 4 services answered" in page.inner_text(".progress")
    screenshot(page, "work-protocol")

    cpas = cards.filter(has_text="CPAS social service")
    cpas.get_by_role("button", name="Mark: Contacted").click()
    expect(page.locator(".notice")).to_have_text("The checklist is updated.")
    assert "Contacted" in cards.filter(has_text="CPAS social service").inner_text()
    cards.filter(has_text="CPAS social service").get_by_role("button", name="Mark: Acknowledged").click()
    expect(page.locator(".progress")).to_contain_text("1 of 4 services answered")

    shelter = cards.filter(has_text="Shelter")
    shelter.locator("summary").click()
    shelter.get_by_role("button", name="Mark: Declined").click()  # without saying why
    shelter = page.locator(".checklist > li").filter(has_text="Shelter")
    expect(shelter.get_by_label("Why they declined")).to_have_attribute("aria-invalid", "true")
    shelter.get_by_label("Why they declined").select_option(label="No capacity")
    shelter.get_by_role("button", name="Mark: Declined").click()
    expect(page.locator(".progress")).to_contain_text("2 of 4 services answered")
    assert "Declined — No capacity" in words(page.locator(".checklist > li").filter(has_text="Shelter").inner_text())

    page.get_by_label("Which service").select_option(label="Day centre")
    page.get_by_role("button", name="Add it to the protocol").click()
    expect(page.locator(".checklist > li")).to_have_count(5)
    expect(page.locator(".progress")).to_contain_text("2 of 5 services answered")

    page.get_by_role("link", name=f"Person {beneficiary_id[:8]}").click()
    assert "Exit from prison" in page.inner_text("#transition-title + div")
    assert "2 of 5 services answered" in page.inner_text("#transition-title + div")


def test_a_professional_redeems_the_share_code_a_person_made_and_finds_them_in_the_caseload(
        bassin, person, other_organisation, page, second_page):
    doctor = make_worker(bassin, other_organisation, "general_practitioner")
    sign_in(second_page, bassin.gateway, doctor.username)
    second_page.wait_for_url("**/work")
    assert second_page.locator(f"a[href$='{person.beneficiary_id}']").count() == 0

    sign_in(page, bassin.gateway, person.username)
    page.goto(bassin.gateway + "/me/share")
    page.get_by_role("button", name="Make the code").click()
    code = page.locator(".share-code").inner_text().strip()

    second_page.get_by_role("link", name="Redeem a share code").click()
    second_page.get_by_label("The code").fill("WXYZ-2345")  # not a code anyone made
    second_page.get_by_role("button", name="Redeem the code").click()
    expect(second_page.get_by_label("The code")).to_have_attribute("aria-invalid", "true")
    assert "not valid" in second_page.inner_text("#code-error")
    second_page.get_by_label("The code").fill(code.replace("-", "").lower())  # as typed, quickly
    second_page.get_by_role("button", name="Redeem the code").click()
    expect(second_page.get_by_role("heading", level=1)).to_contain_text(person.beneficiary_id[:8])
    expect(second_page.locator(".notice")).to_contain_text("The code is redeemed")
    second_page.get_by_role("link", name="My caseload").first.click()
    expect(second_page.locator(f".caseload a[href$='{person.beneficiary_id}']")).to_have_count(1)


def test_a_person_withdraws_access_and_the_professionals_next_timeline_read_is_refused(
        bassin, person, case_manager, page, second_page):
    """The issue's scenario, both sides in the browser: a person signs in, sees a grant,
    withdraws it, and the professional's next read of the timeline is refused — with the same
    words as for a person who does not exist."""
    sign_in(second_page, bassin.gateway, case_manager.username)
    open_person(second_page, bassin, person.beneficiary_id)
    expect(second_page.get_by_role("heading", name="Journey")).to_be_visible()

    sign_in(page, bassin.gateway, person.username)
    page.goto(bassin.gateway + "/me/access")
    grant = page.locator(".card.grant")
    expect(grant).to_have_count(1)
    assert ORGANISATION_NAME in grant.inner_text()
    grant.get_by_role("link", name="Withdraw this access").click()
    page.get_by_role("button", name="Yes, withdraw it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The access is withdrawn")
    assert "Every service already applies it." in page.inner_text("main")  # strict: record applied it

    answer = second_page.reload()
    assert answer.status == 404
    expect(second_page.get_by_role("heading", level=1)).to_have_text("Person not found")
    refused = words(second_page.inner_text("main"))
    answer = second_page.goto(f"{bassin.gateway}/work/people/{uuid.uuid4()}")
    assert answer.status == 404 and words(second_page.inner_text("main")) == refused
    assert "not shared with you" in refused
    timeline = bassin.api("GET", f"record/beneficiaries/{person.beneficiary_id}/timeline")
    assert timeline.status_code == 404  # the organisation's system is refused too
    second_page.goto(bassin.gateway + "/work")
    expect(second_page.locator(f".caseload a[href$='{person.beneficiary_id}']")).to_have_count(0)
