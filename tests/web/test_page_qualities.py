"""What every page must be, checked in a real browser against the running stack: in the
person's language, CSRF-protected forms, a strict CSP, visible keyboard focus, no sideways
scroll at 360 px, HttpOnly session cookies, no personal data in addresses, plain error pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.browser import PHONE, fits_width, screenshot
from tests.web.conftest import PASSWORD, sign_in

pytestmark = pytest.mark.e2e

PERSON_PAGES = ("/me", "/me/access", "/me/looked", "/me/share", "/me/block", "/me/emergencies",
                "/me/receipts", "/me/data", "/me/erasure", "/me/journey")


def test_the_language_follows_the_browser_then_the_persons_choice(bassin, person, browser):
    context = browser.new_context(viewport=PHONE, locale="nl-BE")
    page = context.new_page()
    page.goto(bassin.gateway + "/")
    assert page.locator("html").get_attribute("lang") == "nl"
    expect(page.get_by_role("heading", level=1)).to_have_text("Relais: uw dossier, uw keuze")
    screenshot(page, "welcome-nl")
    page.get_by_role("button", name="Français").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Relais : votre dossier, votre choix")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert "lang=" not in page.url and "fr" not in page.url.rsplit("/", 1)[-1]
    page.get_by_role("link", name="Se connecter").click()  # the choice holds on the sign-in page
    expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
    screenshot(page, "sign-in-fr")
    page.get_by_label("Nom d'utilisateur").fill(person.username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/me")
    page.goto(bassin.gateway + "/me/access")
    card = page.locator(".card.grant").inner_text()
    assert "Le service cpas-web peut voir" in card  # the consent API's plain words, in French
    assert "Démarches en cours" in card and "Identité" in card  # category labels
    page.locator(".card.grant summary").click()
    assert "Référent·e / gestionnaire de parcours" in page.locator(".card.grant details").inner_text()
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Who can see my record")
    assert "/me/access" in page.url
    context.close()


def _posting_forms_have_tokens(page) -> None:
    forms = page.locator("form[method=post]")
    for i in range(forms.count()):
        token = forms.nth(i).locator("input[name=csrf_token]")
        assert token.count() == 1 and len(token.get_attribute("value") or "") > 20, page.url


def test_every_form_has_a_csrf_token_and_a_post_without_it_is_refused(bassin, person, page):
    page.goto(bassin.gateway + "/")
    _posting_forms_have_tokens(page)
    page.get_by_role("link", name="Sign in").click()
    page.wait_for_url("**/oauth/authorize?**")
    _posting_forms_have_tokens(page)
    sign_in(page, bassin.gateway, person.username)
    page.wait_for_url("**/me")
    for path in (*PERSON_PAGES, f"/me/access/{person.grant_id}/withdraw"):
        page.goto(bassin.gateway + path)
        _posting_forms_have_tokens(page)

    withdraw = f"{bassin.gateway}/me/access/{person.grant_id}/withdraw"
    for form in ({}, {"csrf_token": "forged"}):
        refused = page.request.post(withdraw, form=form,  # the person's own cookies, no valid token
                                    headers={"Accept-Language": "en"})
        assert refused.status == 400
        assert "text/html" in refused.headers["content-type"]
        assert "This form has expired" in refused.text() and "Traceback" not in refused.text()
    refused = page.request.post(f"{bassin.gateway}/language", form={"lang": "nl"})
    assert refused.status == 400
    still = bassin.api("POST", "consent/decisions",
                       json={"beneficiary_id": person.beneficiary_id, "categories": ["contacts"]})
    assert still.json()["categories"][0]["decision"] == "permit"  # nothing was withdrawn


def test_pages_have_a_strict_csp_and_no_inline_script_or_style(bassin, person, page):
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    answer = page.goto(bassin.gateway + "/")
    policies = [answer.headers["content-security-policy"]]
    sign_in(page, bassin.gateway, person.username)
    page.wait_for_url("**/me")
    for path in PERSON_PAGES:
        answer = page.goto(bassin.gateway + path)
        policies.append(answer.headers["content-security-policy"])
        assert page.evaluate("document.querySelectorAll('script:not([src]), [style], style').length") == 0
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-frame-options"] == "DENY"
    for policy in policies:
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "default-src 'none'" in policy
    assert violations == []


def _focus_ring(page) -> dict:
    return page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
        return {tag: document.activeElement.tagName, style: s.outlineStyle,
                width: parseFloat(s.outlineWidth), text: document.activeElement.textContent.trim()}; }""")


def test_keyboard_focus_is_visible_and_the_skip_link_leads_to_the_content(bassin, person, page):
    page.goto(bassin.gateway + "/")
    page.keyboard.press("Tab")
    ring = _focus_ring(page)
    assert ring["text"] == "Skip to the content" and ring["style"] != "none" and ring["width"] >= 2
    assert page.locator(".skip-link").bounding_box()["y"] >= 0  # shown when focused
    seen = [ring["text"]]
    for _ in range(20):  # every control, in order, has a ring
        page.keyboard.press("Tab")
        ring = _focus_ring(page)
        if ring["tag"] == "BODY":
            break
        assert ring["style"] != "none" and ring["width"] >= 2, ring
        seen.append(ring["text"])
    assert seen[:6] == ["Skip to the content", "Relais", "Français", "Nederlands", "English", "Sign in"]
    page.goto(bassin.gateway + "/")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    sign_in(page, bassin.gateway, person.username)
    page.wait_for_url("**/me")
    page.locator(".tiles a").first.focus()
    page.keyboard.press("Tab")
    ring = _focus_ring(page)
    assert ring["tag"] == "A" and ring["style"] != "none" and ring["width"] >= 2
    page.keyboard.press("Enter")  # a tile opens with the keyboard
    expect(page.get_by_role("heading", level=1)).to_have_text("Who looked at my record")


def test_every_page_fits_a_360_pixel_screen(bassin, person, auditor, page, browser):
    assert page.viewport_size["width"] == 360
    for path in ("/", "/signin"):
        page.goto(bassin.gateway + path)
        assert fits_width(page), path
    screenshot(page, "sign-in")
    sign_in(page, bassin.gateway, person.username)
    page.wait_for_url("**/me")
    for path in PERSON_PAGES:
        page.goto(bassin.gateway + path)
        assert fits_width(page), path
    context = browser.new_context(viewport=PHONE, locale="en-GB")
    desk = context.new_page()
    sign_in(desk, bassin.gateway, auditor.username, auditor.code())
    desk.wait_for_url("**/audit")
    desk.goto(bassin.gateway + f"/audit?search=1&beneficiary_id={person.beneficiary_id}")
    assert fits_width(desk)
    _posting_forms_have_tokens(desk)
    desk.goto(bassin.gateway + "/audit/verification")
    assert fits_width(desk)
    _posting_forms_have_tokens(desk)
    context.close()


def test_session_cookies_are_http_only_and_no_address_carries_personal_data(bassin, person, page, context):
    addresses: list[str] = []
    page.on("request", lambda request: addresses.append(request.url))
    sign_in(page, bassin.gateway, person.username)
    page.wait_for_url("**/me")
    page.goto(bassin.gateway + "/me/share")
    page.get_by_role("button", name="Make the code").click()
    expect(page.locator(".share-code")).to_be_visible()
    code = page.locator(".share-code").inner_text().strip()
    cookies = {c["name"]: c for c in context.cookies()}
    session = cookies["relais_session"]  # served over http here: Secure is configured for https
    assert session["httpOnly"] and session["sameSite"] == "Lax" and session["expires"] == -1
    assert len(session["value"]) >= 40 and "." not in session["value"]  # an opaque id, no data
    assert all(person.username not in a and code not in a and PASSWORD not in a for a in addresses)


def test_errors_are_plain_pages_for_people_and_problems_for_programs(bassin, person, page):
    answer = page.goto(bassin.gateway + "/no/such/page")
    assert answer.status == 404 and "text/html" in answer.headers["content-type"]
    expect(page.get_by_role("heading", level=1)).to_have_text("Nothing here")
    assert page.get_by_role("link", name="Go to the start page").count() == 1
    api = page.request.get(bassin.gateway + "/api/v1/consent/nothing")
    assert api.status == 401 and api.headers["content-type"] == "application/problem+json"
    sign_in(page, bassin.gateway, person.username)
    page.wait_for_url("**/me")
    answer = page.goto(bassin.gateway + "/me/access/00000000-0000-4000-8000-000000000000/withdraw")
    assert answer.status == 404 and "Traceback" not in page.content()
    page.goto(bassin.gateway + "/signin/callback?code=stolen&state=guessed")
    expect(page.get_by_role("heading", level=1)).to_have_text("This sign-in has expired")


def test_a_professional_lands_on_their_page_with_the_codes_others_use_for_them(bassin, page):
    import secrets

    from tests.support.gateway_cli import relais_admin
    from tests.web.conftest import ORGANISATION

    username = f"worker.{secrets.token_hex(4)}"
    created = relais_admin(bassin.stack, "create-user", "--username", username, "--role", "professional",
                           "--organisation", ORGANISATION, "--profession", "social_worker",
                           stdin=f"{PASSWORD}\n{PASSWORD}\n")
    sign_in(page, bassin.gateway, username)
    assert page.url.endswith("/work")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pages for professionals are on their way")
    assert created["user_id"] in page.inner_text("main") and ORGANISATION in page.inner_text("main")
    page.goto(bassin.gateway + "/me")  # a person's page is not theirs
    expect(page.get_by_role("heading", level=1)).to_have_text("Not for this account")
