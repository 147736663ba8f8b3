"""`relais demo`: a small synthetic bassin in a running stack, so a newcomer can sign in as a
person, a case manager and an auditor and see Relais at work.

Organisations, professionals and the accounts are made with the administrator's commands (on
this machine, as `relais admin` does); everything else goes through the public API of the
gateway, signed in as the professionals themselves (authorization code with PKCE through the
sign-in form): twenty persons registered with their consent, grants to the services that follow
them, journeys of contacts, steps and stays, a prison exit with its exit protocol under way, a
person not met for six weeks (an alert), a psychiatric stay only the mental-health service sees,
and an emergency access. Every name is made up.
"""

from __future__ import annotations

import random
import re
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge

DEMO_REDIRECT = "http://127.0.0.1/relais-demo/callback"
PROFESSIONAL_SCOPES = "consent:read consent:manage record:read record:write alerts:read alerts:manage"

ORGANISATIONS = {
    "cpas-ixelles": "CPAS d'Ixelles",
    "ssm-meridien": "Service de santé mentale Le Méridien",
    "mm-marolles": "Maison médicale des Marolles",
    "rue-bruxelles": "Équipe de rue de Bruxelles",
    "abri-nuit": "Abri de nuit du Canal",
    "sps-haren": "Service psychosocial de la prison de Haren",
    "ss-saint-pierre": "Service social du CHU Saint-Pierre",
    "dpo-relais": "Délégué à la protection des données du réseau",
}
# username → (organisation, profession)
PROFESSIONALS = {
    "lea": ("cpas-ixelles", "case_manager"),
    "tom": ("cpas-ixelles", "social_worker"),
    "nadia": ("ssm-meridien", "psychologist"),
    "yves": ("mm-marolles", "general_practitioner"),
    "sam": ("rue-bruxelles", "outreach_worker"),
    "ines": ("abri-nuit", "shelter_worker"),
    "marc": ("sps-haren", "prison_psychosocial_service"),
    "julie": ("ss-saint-pierre", "hospital_social_service"),
}
GIVEN = ["Amina", "Bruno", "Chloé", "Driss", "Elif", "Fabrice", "Grâce", "Hugo", "Imane", "Jonas",
         "Karima", "Lucas", "Maëlle", "Nordine", "Olga", "Pieter", "Rachida", "Sven", "Tatiana", "Youssef"]
FAMILY = ["Exemple", "Fictif", "Démo", "Testaert", "Voorbeeld", "Modèle", "Essai", "Proef"]


class DemoError(RuntimeError):
    pass


def _password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


@dataclass
class Api:
    """Calls through the gateway with one professional's token."""

    base: str
    token: str
    http: requests.Session = field(default_factory=requests.Session)

    def __call__(self, method: str, path: str, body: Any = None, *, expect: tuple[int, ...] = (200, 201),
                 params: dict[str, Any] | None = None) -> Any:
        response = self.http.request(method, f"{self.base}/api/v1{path}", json=body, params=params,
                                     headers={"Authorization": f"Bearer {self.token}"}, timeout=30)
        if response.status_code not in expect:
            raise DemoError(f"{method} {path}: {response.status_code} {response.text[:400]}")
        return response.json() if response.content else None


def sign_in(base: str, client_id: str, client_secret: str, username: str, password: str,
            totp: Callable[[], str] | None = None, scope: str = PROFESSIONAL_SCOPES) -> str:
    """An access token for a person, through the gateway's sign-in form, as a browser would."""
    verifier = secrets.token_urlsafe(48)
    oauth = OAuth2Session(client_id, client_secret, scope=scope, redirect_uri=DEMO_REDIRECT)
    url, _state = oauth.create_authorization_url(
        f"{base}/oauth/authorize", code_challenge=create_s256_code_challenge(verifier),
        code_challenge_method="S256")
    browser = requests.Session()
    page = browser.get(url, timeout=30)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    if page.status_code != 200 or not found or not action:
        raise DemoError(f"the sign-in page did not show ({page.status_code})")
    form = {"csrf_token": found.group(1), "username": username, "password": password}
    if totp:
        form["code"] = totp()
    target = requests.compat.urljoin(page.url, action.group(1).replace("&amp;", "&"))
    answer = browser.post(target, data=form, allow_redirects=False, timeout=30)
    location = answer.headers.get("Location", "")
    if answer.status_code not in (302, 303) or not location.startswith(DEMO_REDIRECT):
        raise DemoError(f"signing in as {username} failed ({answer.status_code})")
    token = oauth.fetch_token(f"{base}/oauth/token", authorization_response=location, code_verifier=verifier)
    return token["access_token"]


def _ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).replace(microsecond=0).isoformat()


def _wait_until(check: Callable[[], bool], what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise DemoError(f"timed out waiting for {what}")
        time.sleep(0.2)


@dataclass
class Loaded:
    passwords: dict[str, str]
    person_username: str
    auditor_username: str
    auditor_totp_secret: str
    persons: list[str]


def load(base: str, *, seed: int = 2026, log: Callable[[str], None] = print) -> Loaded:
    from services.gateway import admin

    rng = random.Random(seed)
    base = base.rstrip("/")
    if requests.get(f"{base}/readyz", timeout=10).status_code != 200:
        raise DemoError(f"Relais does not answer ready at {base}: start it first (./scripts/run)")
    log("organisations and accounts")
    passwords: dict[str, str] = {}
    users: dict[str, str] = {}
    try:
        for code, name in ORGANISATIONS.items():
            admin.create_organisation(code, name)
        for username, (organisation, profession) in PROFESSIONALS.items():
            passwords[username] = _password()
            users[username] = admin.create_user(username, "professional", passwords[username],
                                                organisation=organisation, profession=profession).user_id
        passwords["dora"] = _password()
        auditor = admin.create_user("dora", "auditor", passwords["dora"], organisation="dpo-relais", totp=True)
    except admin.IdentityError as exc:
        raise DemoError(f"{exc} (the demo was loaded already?)") from None
    client_id, client_secret = admin.create_client(
        "Relais demo loader", PROFESSIONAL_SCOPES.split(), None, None, redirect_uris=[DEMO_REDIRECT])
    assert client_secret is not None and auditor.totp_secret is not None
    api = {name: Api(base, sign_in(base, client_id, client_secret, name, passwords[name]))
           for name in PROFESSIONALS}

    log("twenty persons, registered with their consent")
    persons: list[str] = []
    for number in range(20):
        identity = {"given_name": GIVEN[number], "family_name": rng.choice(FAMILY),
                    "birth_date": date(1950 + rng.randrange(50), 1 + rng.randrange(12), 1 + rng.randrange(28)).isoformat()}
        registered = api["lea"]("POST", "/consent/beneficiaries", {"identity": identity, "method": "in_person"})
        person = registered["id"]
        persons.append(person)
        api["lea"]("POST", f"/consent/beneficiaries/{person}/grants", {
            "grantee_kind": "professional", "grantee": users["lea"], "referent": True,
            "categories": ["identity", "contacts", "steps", "episodes", "transitions", "alerts", "referent"],
            "actions": ["read", "write"]})
        api["lea"]("POST", f"/consent/beneficiaries/{person}/grants", {
            "grantee_kind": "organisation", "grantee": "rue-bruxelles",
            "categories": ["contacts", "steps", "alerts", "referent"], "actions": ["read", "write"]})
        if number % 3 == 0:
            api["lea"]("POST", f"/consent/beneficiaries/{person}/grants", {
                "grantee_kind": "organisation", "grantee": "mm-marolles",
                "categories": ["contacts", "steps", "episodes", "referent"], "actions": ["read", "write"],
                "valid_until": _ago(days=-365)})
    _wait_until(lambda: _visible(api["lea"], persons[-1]), "the record service to learn of the new persons")

    log("journeys")
    for number, person in enumerate(persons):
        lea = api["lea"]
        lea("POST", f"/record/beneficiaries/{person}/referent",
            {"subject": users["lea"], "organisation": "cpas-ixelles", "profession": "case_manager"})
        lea("POST", f"/record/beneficiaries/{person}/care-team",
            {"subject": users["sam"], "organisation": "rue-bruxelles", "profession": "outreach_worker",
             "change": "added"})
        # Person 3 was last met six weeks ago: the not-seen clock has run out.
        newest = 42 if number == 2 else rng.randrange(1, 20)
        for days in sorted({newest, *(newest + rng.randrange(3, 120) for _ in range(rng.randrange(3, 9)))}):
            who = rng.choice(["lea", "sam", "tom"])
            api[who]("POST", f"/record/beneficiaries/{person}/contacts", {
                "occurred_at": _ago(days=days, hours=rng.randrange(8)),
                "modality": rng.choice(["in_person", "street_outreach", "phone", "home_visit", "at_day_centre"]),
                "outcome": "met" if days == newest or rng.random() < 0.8 else "attempt",
                "duration_minutes": rng.choice([10, 20, 30, 45, 60])})
        sam = api["sam"]
        sam("POST", f"/record/beneficiaries/{person}/contacts", {
            "occurred_at": _ago(days=newest - 0.5 if newest > 1 else 0.1), "modality": "street_outreach",
            "outcome": "attempt"})
        for kind in rng.sample(["housing_application", "social_income", "reference_address",
                                "health_insurance", "identity_documents", "bank_account"], 2):
            step = lea("POST", f"/record/beneficiaries/{person}/steps", {
                "step_kind": kind, "occurred_at": _ago(days=rng.randrange(30, 150)),
                "due_date": (date.today() + timedelta(days=rng.randrange(-10, 60))).isoformat()})
            step_id = step["data"]["step_id"]
            path = rng.choice([[], ["in_progress"], ["in_progress", "done"], ["blocked"]])
            for status in path:
                body: dict[str, Any] = {"status": status}
                if status == "blocked":
                    body["blocker"] = rng.choice(["waiting_list", "waiting_for_document", "no_address"])
                lea("POST", f"/record/beneficiaries/{person}/steps/{step_id}/status", body)
        if number % 4 == 1:
            lea("POST", f"/record/beneficiaries/{person}/episodes",
                {"episode_type": "living_on_street", "started_at": _ago(days=rng.randrange(200, 900))})

    log("a prison exit and its exit protocol")
    leaving = persons[1]
    api["lea"]("POST", f"/consent/beneficiaries/{leaving}/grants", {
        "grantee_kind": "organisation", "grantee": "sps-haren",
        "categories": ["contacts", "steps", "transitions", "episodes", "referent"], "actions": ["read", "write"],
        "valid_until": _ago(days=-90)})
    _wait_until(lambda: _visible(api["marc"], leaving), "the prison's grant to reach the record service")
    marc = api["marc"]
    api["lea"]("POST", f"/record/beneficiaries/{leaving}/episodes",
               {"episode_type": "incarceration", "started_at": _ago(days=400)})
    exit_ = marc("POST", f"/record/beneficiaries/{leaving}/transitions", {
        "transition_kind": "exit_prison", "occurred_at": _ago(days=4),
        "fragility": {"housing": "none", "close_ones": "limited", "income": "none", "health_follow_up": "no"}})
    activations = {a["data"]["service_kind"]: a["data"]["activation_id"] for a in exit_["activations"]}
    lea = api["lea"]
    for kind, steps_ in (("cpas_social_service", ["contacted", "acknowledged"]), ("shelter", ["contacted"]),
                         ("housing_service", [])):
        for status in steps_:
            lea("POST", f"/record/beneficiaries/{leaving}/activations/{activations[kind]}/status",
                {"status": status, "organisation": "abri-nuit" if kind == "shelter" else None})

    log("a psychiatric stay only the mental-health service sees")
    followed = persons[3]
    api["lea"]("POST", f"/consent/beneficiaries/{followed}/grants", {
        "grantee_kind": "organisation", "grantee": "ssm-meridien",
        "categories": ["contacts", "steps", "mental_health_episodes", "referent"], "actions": ["read", "write"]})
    _wait_until(lambda: _visible(api["nadia"], followed), "the mental-health service's grant")
    api["nadia"]("POST", f"/record/beneficiaries/{followed}/episodes", {
        "episode_type": "psychiatric_stay", "started_at": _ago(days=60), "ended_at": _ago(days=25)})
    api["nadia"]("POST", f"/record/beneficiaries/{followed}/contacts",
                 {"occurred_at": _ago(days=6), "modality": "in_person", "outcome": "met"})

    log("an emergency access")
    urgent = persons[4]
    api["julie"]("POST", f"/consent/beneficiaries/{urgent}/emergency-access", {
        "reason_code": "medical_emergency", "categories": ["contacts", "steps"], "hours": 4})
    _wait_until(lambda: _emergency_visible(api["julie"], urgent),
                "the emergency access to reach the record service")

    log("the person's own account")
    passwords["bea"] = _password()
    admin.create_user("bea", "beneficiary", passwords["bea"], beneficiary=persons[0])
    return Loaded(passwords, "bea", "dora", auditor.totp_secret, persons)


def _visible(api: Api, person: str) -> bool:
    response = api.http.get(f"{api.base}/api/v1/record/beneficiaries/{person}/summary",
                            headers={"Authorization": f"Bearer {api.token}"}, timeout=30)
    return response.status_code == 200


def _emergency_visible(api: Api, person: str) -> bool:
    response = api.http.get(f"{api.base}/api/v1/record/beneficiaries/{person}/timeline",
                            params={"purpose": "emergency"},
                            headers={"Authorization": f"Bearer {api.token}"}, timeout=30)
    return response.status_code == 200
