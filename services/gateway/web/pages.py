"""The pages everyone meets: the start page, signing in and out, the language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext

from services.gateway.web import account
from services.gateway.web.errors import error_page
from services.gateway.web.guards import signed_in
from services.gateway.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from shared.web.app_factory import accepts

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/assets")
FORM = "application/x-www-form-urlencoded"
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


def local_path(target: str | None, default: str = "/") -> str:
    """Only a path on this site (never another site, never `//host`)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@bp.get("/")
def home():
    user = account.current_user()
    if user is not None:
        return redirect(url_for(account.home_endpoint(user["role"])))
    return render_template("welcome.html")


@bp.get("/signin")
def signin():
    issuer = current_app.extensions["relais.settings"].issuer
    here = request.host_url.rstrip("/")
    if here != issuer and request.args.get("here") != "1":
        # The session cookie belongs to one address: sign in where the sign-in comes back.
        return redirect(f"{issuer}/signin?here=1")
    if account.current_user() is not None:
        return redirect(url_for("pages.home"))
    return redirect(account.start_sign_in())


@bp.get("/signin/callback")
def callback():
    if request.args.get("error"):
        return error_page(400, gettext("You are not signed in"),
                          gettext("The sign-in was stopped. You can start again."),
                          action=url_for("pages.signin"), action_label=gettext("Sign in"))
    try:
        user = account.finish_sign_in(request.args.get("code", ""), request.args.get("state", ""))
    except account.SignInFailed:
        return error_page(400, gettext("This sign-in has expired"),
                          gettext("It took too long, or the page was opened twice. Start again."),
                          action=url_for("pages.signin"), action_label=gettext("Sign in"))
    return redirect(url_for(account.home_endpoint(user["role"])))


@bp.post("/signout")
@accepts(FORM)
def signout():
    account.sign_out()
    return render_template("signed_out.html")


@bp.post("/language")
@accepts(FORM)
def language():
    chosen = request.form.get("lang", "")
    response = redirect(local_path(request.form.get("next")), code=303)
    if chosen in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=LANGUAGE_COOKIE_SECONDS, path="/",
                            secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True,
                            samesite="Lax")
    return response


@bp.get("/work")
@signed_in("professional", "close_one")
def professional_home():
    return render_template("professional_home.html")
