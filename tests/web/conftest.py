"""One running stack (`relais up`) for every browser test, with a small bassin: an
organisation, its case system (client credentials), persons registered through the consent
API with their own accounts, and auditors with a second factor."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import pytest
from authlib.integrations.requests_client import OAuth2Session
from playwright.sync_api import sync_playwright
from sqlalchemy import create_engine, text

from tests.support import infra
from tests.support.browser import PHONE, launch, totp_code
from tests.support.gateway_cli import relais_admin
from tests.support.stack import start_stack, teardown

PASSWORD = "a long and private passphrase"
ORGANISATION = "cpas-web"
ORGANISATION_NAME = "CPAS de Saint-Gilles"
OTHER_ORGANISATION = "mm-web"
OTHER_ORGANISATION_NAME = "Maison médicale du Midi"


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory.mktemp("web-e2e") / "var")
    yield running
    running.stop()
    teardown(running)


@dataclass
class Bassin:
    stack: object
    system: OAuth2Session

    @property
    def gateway(self) -> str:
        return self.stack.gateway

    def api(self, method: str, path: str, **kwargs):
        return self.system.request(method, f"{self.gateway}/api/v1/{path}", timeout=20, **kwargs)


@pytest.fixture(scope="session")
def bassin(stack) -> Bassin:
    relais_admin(stack, "create-org", "--code", ORGANISATION, "--name", ORGANISATION_NAME)
    system = relais_admin(stack, "create-client", "--name", "Saint-Gilles case system",
                          "--scopes", "consent:manage consent:read record:read record:write",
                          "--organisation", ORGANISATION,
                          "--profession", "case_manager")
    client = OAuth2Session(system["client_id"], system["client_secret"])
    client.fetch_token(f"{stack.gateway}/oauth/token", grant_type="client_credentials")
    return Bassin(stack, client)


@dataclass
class Person:
    username: str
    beneficiary_id: str
    grant_id: str


def register_person(bassin, body: dict | None = None) -> dict:
    """Registered by the organisation's system, and readable by the record service when this
    returns: wait=true answers once the projections applied the grant (within the consent
    service's strict timeout; should the broker be slow beyond it, wait until the record reads)."""
    registered = bassin.api("POST", "consent/beneficiaries?wait=true", json=body)
    assert registered.status_code == 201, registered.text
    answer = registered.json()
    if not answer["enforcement"]["confirmed"]:
        infra.wait_until(lambda: bassin.api("GET", f"record/beneficiaries/{answer['id']}/summary").status_code
                         == 200, timeout=60, message="the record service applies the registration")
    return answer


@pytest.fixture
def person(bassin) -> Person:
    """A person registered with their consent by the organisation, with an account of their own."""
    body = register_person(bassin)
    username = f"person.{secrets.token_hex(4)}"
    relais_admin(bassin.stack, "create-user", "--username", username, "--role", "beneficiary",
                 "--beneficiary", body["id"], stdin=f"{PASSWORD}\n{PASSWORD}\n")
    return Person(username, body["id"], body["grant_id"])


@dataclass
class Worker:
    username: str
    user_id: str
    organisation: str


def make_worker(bassin, organisation: str = ORGANISATION, profession: str = "case_manager") -> Worker:
    username = f"worker.{secrets.token_hex(4)}"
    created = relais_admin(bassin.stack, "create-user", "--username", username, "--role", "professional",
                           "--organisation", organisation, "--profession", profession,
                           stdin=f"{PASSWORD}\n{PASSWORD}\n")
    return Worker(username, created["user_id"], organisation)


@pytest.fixture
def case_manager(bassin) -> Worker:
    """A case manager of the organisation that registers the persons."""
    return make_worker(bassin)


@pytest.fixture(scope="session")
def other_organisation(bassin) -> str:
    relais_admin(bassin.stack, "create-org", "--code", OTHER_ORGANISATION, "--name", OTHER_ORGANISATION_NAME)
    return OTHER_ORGANISATION


@dataclass
class Auditor:
    username: str
    totp_secret: str

    def code(self) -> str:
        return totp_code(self.totp_secret, time.time())


@pytest.fixture
def auditor(bassin) -> Auditor:
    username = f"auditor.{secrets.token_hex(4)}"
    created = relais_admin(bassin.stack, "create-user", "--username", username, "--role", "auditor",
                           "--organisation", ORGANISATION, "--totp", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    return Auditor(username, created["totp_secret"])


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser):
    """A phone-sized browser whose person reads English first."""
    context = browser.new_context(viewport=PHONE, locale="en-GB", accept_downloads=True)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def second_page(browser):
    """Another person's browser, beside ``page`` (a professional and the person, say)."""
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    yield context.new_page()
    context.close()


def sign_in(page, gateway: str, username: str, code: str | None = None, *, succeeds: bool = True) -> None:
    """What a person does: open Relais, press Sign in, fill the gateway's form; then (unless
    it is meant to fail) wait until their first page has loaded."""
    page.goto(gateway + "/")
    page.get_by_role("link", name="Sign in").click()
    page.wait_for_url("**/oauth/authorize?**")
    page.get_by_label("Name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    if code is not None:
        page.get_by_label("Code from your authenticator app").fill(code)
    page.get_by_role("button", name="Sign in").click()
    if succeeds:
        page.wait_for_url(lambda url: "/oauth/" not in url and "/signin" not in url)


def audit_rows(stack, sql: str, **params) -> list[dict]:
    engine = create_engine(stack.database_urls["audit"])
    try:
        with engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


def wait_for_audit(stack, person: str, action: str, count: int = 1) -> None:
    """Until the audit log holds ``count`` entries of ``action`` about ``person`` (they travel
    through the outbox and the broker)."""
    infra.wait_until(lambda: audit_rows(stack, "SELECT count(*) AS n FROM audit_log WHERE beneficiary_id = :p "
                                               "AND action = :a", p=person, a=action)[0]["n"] >= count,
                     timeout=30, message=f"{action} reached the audit log")


def wait_for_checkpoint_covering(stack, person: str) -> None:
    """Until a signed checkpoint covers the last entry about ``person``."""
    def covered() -> bool:
        last = audit_rows(stack, 'SELECT max(leaf_index) AS i FROM audit_log WHERE beneficiary_id = :p', p=person)[0]["i"]
        size = audit_rows(stack, "SELECT max(size) AS s FROM audit_checkpoints")[0]["s"]
        return last is not None and size is not None and size > last

    infra.wait_until(covered, timeout=30, message="a checkpoint covers the person's entries")


def words(text: str | None) -> str:
    """Text with its whitespace folded, as a person reads it."""
    return " ".join((text or "").split())
