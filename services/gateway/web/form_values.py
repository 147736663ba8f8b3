"""What the pages' forms send, turned into what the APIs take: days and local times (typed in
Brussels time) as aware moments, and the errors a field shows beside it — the page's own, in
the page's language, or the message a service gave for that field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.gateway.web.i18n import TIMEZONE
from services.gateway.web.service_calls import ServiceError

ZONE = ZoneInfo(TIMEZONE)


@dataclass(frozen=True)
class FieldError:
    """A message shown beside a field. ``from_service``: the words of the service that refused
    the value (in English), shown as such under a sentence in the page's language."""

    message: str
    from_service: bool = False

    def __str__(self) -> str:
        return self.message


def service_field_errors(error: ServiceError, fields: Mapping[str, str] | Iterable[str],
                         fallback: str | None = None) -> dict[str, FieldError]:
    """The fields a service's 422 names, placed beside the form's fields. ``fields`` maps an API
    field to the form's field (or lists the fields both name alike); a nested field such as
    ``fragility.housing`` is matched whole first, then by its last part. What no field of the
    form shows goes beside ``fallback`` (else keeps the API's name)."""
    mapping = dict(fields) if isinstance(fields, Mapping) else {name: name for name in fields}
    out: dict[str, FieldError] = {}
    for name, message in error.field_errors().items():
        target = mapping.get(name) or mapping.get(name.rsplit(".", 1)[-1]) or fallback or name
        if target not in out:
            out[target] = FieldError(message, from_service=True)
    return out


def day_start(value: date) -> datetime:
    return datetime.combine(value, time(0), tzinfo=ZONE)


def parse_day(raw: str | None) -> date | None:
    """A day as a date field sends it (2026-11-28); None when empty; ValueError otherwise."""
    raw = (raw or "").strip()
    return date.fromisoformat(raw) if raw else None


def end_of_day(value: date) -> datetime:
    """The first moment after ``value``: an "until" day includes the whole day."""
    return day_start(value + timedelta(days=1))


def parse_local_moment(raw: str | None) -> datetime | None:
    """A moment as a datetime-local field sends it (2026-11-28T14:30), read in Brussels time;
    None when empty; ValueError when it is not a moment."""
    raw = (raw or "").strip()
    if not raw:
        return None
    moment = datetime.fromisoformat(raw)
    if moment.tzinfo is not None:
        raise ValueError("a local time has no offset")
    return moment.replace(tzinfo=ZONE)


def local_input_value(moment: datetime) -> str:
    """What a datetime-local field shows for ``moment``: Brussels time, to the minute."""
    return moment.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")
