"""The pages' language: French, Dutch or English, chosen by the person (a cookie set by the
language form) or else by the browser (Accept-Language); French when neither says. Messages
come from the catalogues under ``translations/`` (compiled .mo files are kept beside the .po
files, so a fresh clone needs no build step); dates are shown in Brussels time."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import Flask, request
from flask_babel import Babel, format_date, format_time, get_locale, to_user_timezone

LANGUAGES = ("fr", "nl", "en")
DEFAULT_LANGUAGE = "fr"
LANGUAGE_COOKIE = "relais_lang"
LANGUAGE_NAMES = {"fr": "Français", "nl": "Nederlands", "en": "English"}
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
TIMEZONE = "Europe/Brussels"


def choose_language() -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else DEFAULT_LANGUAGE


def _moment(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def when(value: str | datetime | None) -> str:
    """An API time (ISO 8601) in the page's language, in Brussels time: the day and the minute."""
    if not value:
        return ""
    moment = to_user_timezone(_moment(value))
    return f"{format_date(moment, 'long')}, {format_time(moment, 'short')}"


def day(value: str | datetime | None) -> str:
    return format_date(to_user_timezone(_moment(value)), "long") if value else ""


def clock_time(value: str | datetime | None) -> str:
    return format_time(to_user_timezone(_moment(value)), "short") if value else ""


def install(app: Flask) -> None:
    app.config.update(
        BABEL_DEFAULT_LOCALE=DEFAULT_LANGUAGE,
        BABEL_DEFAULT_TIMEZONE=TIMEZONE,
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
    )
    Babel(app, locale_selector=choose_language)
    app.jinja_env.filters.update(when=when, day=day, clock_time=clock_time)
    app.jinja_env.globals.update(current_language=current_language, LANGUAGE_NAMES=LANGUAGE_NAMES,
                                 LANGUAGES=LANGUAGES)
