"""The ``record.*`` events: the contract between the record service, which publishes them, and
every service that follows the journey (alerts). Ids, codes and times only: never identity,
never free text. Each payload has a marshmallow schema here; the record service validates what
it publishes against it (in its tests), and consumers load what they receive with it.

Times are ISO 8601 with their offset; dates (``due_date``) are ISO dates. A correction is
published as the event of the corrected kind again, with ``supersedes`` naming the entry it
replaces; a voided entry is announced by ``record.entry_voided``.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

CONTACT_LOGGED = "record.contact_logged"
STEP_OPENED = "record.step_opened"
STEP_CHANGED = "record.step_changed"
EPISODE_OPENED = "record.episode_opened"
EPISODE_CLOSED = "record.episode_closed"
TRANSITION_RECORDED = "record.transition_recorded"
ACTIVATION_CHANGED = "record.protocol_activation_changed"
REFERENT_CHANGED = "record.referent_changed"
CARE_TEAM_CHANGED = "record.care_team_changed"
ENTRY_VOIDED = "record.entry_voided"
PERSON_ERASED = "record.person_erased"


class _Payload(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    entry_id = ma.fields.String(required=True)
    beneficiary_id = ma.fields.String(required=True)
    occurred_at = ma.fields.AwareDateTime(required=True)
    category = ma.fields.String(required=True)
    supersedes = ma.fields.String(load_default=None, allow_none=True)


class ContactLogged(_Payload):
    modality = ma.fields.String(required=True)
    outcome = ma.fields.String(required=True)  # met | attempt: only "met" counts as seen
    organisation = ma.fields.String(load_default=None, allow_none=True)
    profession = ma.fields.String(load_default=None, allow_none=True)


class StepOpened(_Payload):
    step_id = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    blocker = ma.fields.String(load_default=None, allow_none=True)
    organisation = ma.fields.String(load_default=None, allow_none=True)  # responsible
    due_date = ma.fields.Date(load_default=None, allow_none=True)


class StepChanged(_Payload):
    step_id = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    previous_status = ma.fields.String(required=True)
    blocker = ma.fields.String(load_default=None, allow_none=True)


class EpisodeOpened(_Payload):
    episode_id = ma.fields.String(required=True)
    type = ma.fields.String(required=True)
    institution = ma.fields.Boolean(required=True)  # the not-seen clock pauses while open
    started_at = ma.fields.AwareDateTime(required=True)
    ended_at = ma.fields.AwareDateTime(load_default=None, allow_none=True)


class EpisodeClosed(_Payload):
    episode_id = ma.fields.String(required=True)
    type = ma.fields.String(required=True)
    institution = ma.fields.Boolean(required=True)
    ended_at = ma.fields.AwareDateTime(required=True)


class Fragility(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    housing = ma.fields.String(required=True)
    close_ones = ma.fields.String(required=True)
    income = ma.fields.String(required=True)
    health_follow_up = ma.fields.String(required=True)
    fragile = ma.fields.Boolean(required=True)  # any flag the vocabulary marks as fragile


class Activation(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    activation_id = ma.fields.String(required=True)
    service_kind = ma.fields.String(required=True)
    organisation = ma.fields.String(load_default=None, allow_none=True)
    due_date = ma.fields.Date(required=True)
    status = ma.fields.String(required=True)


class TransitionRecorded(_Payload):
    transition_id = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    fragility = ma.fields.Nested(Fragility, required=True)
    activations = ma.fields.List(ma.fields.Nested(Activation), required=True)
    closed_episode_id = ma.fields.String(load_default=None, allow_none=True)


class ActivationChanged(_Payload):
    activation_id = ma.fields.String(required=True)
    transition_id = ma.fields.String(required=True)
    service_kind = ma.fields.String(required=True)
    organisation = ma.fields.String(load_default=None, allow_none=True)
    due_date = ma.fields.Date(required=True)
    status = ma.fields.String(required=True)
    previous_status = ma.fields.String(load_default=None, allow_none=True)
    reason = ma.fields.String(load_default=None, allow_none=True)


class ReferentChanged(_Payload):
    subject = ma.fields.String(required=True)  # the professional's pseudonymous account id
    organisation = ma.fields.String(load_default=None, allow_none=True)
    profession = ma.fields.String(load_default=None, allow_none=True)
    previous_subject = ma.fields.String(load_default=None, allow_none=True)


class CareTeamChanged(_Payload):
    subject = ma.fields.String(required=True)
    organisation = ma.fields.String(load_default=None, allow_none=True)
    profession = ma.fields.String(load_default=None, allow_none=True)
    change = ma.fields.String(required=True, validate=ma.validate.OneOf(["added", "removed"]))


class EntryVoided(_Payload):
    voided_entry_id = ma.fields.String(required=True)
    voided_kind = ma.fields.String(required=True)
    thread_id = ma.fields.String(load_default=None, allow_none=True)
    reason = ma.fields.String(required=True)


class PersonErased(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    beneficiary_id = ma.fields.String(required=True)


SCHEMAS: dict[str, ma.Schema] = {
    CONTACT_LOGGED: ContactLogged(),
    STEP_OPENED: StepOpened(),
    STEP_CHANGED: StepChanged(),
    EPISODE_OPENED: EpisodeOpened(),
    EPISODE_CLOSED: EpisodeClosed(),
    TRANSITION_RECORDED: TransitionRecorded(),
    ACTIVATION_CHANGED: ActivationChanged(),
    REFERENT_CHANGED: ReferentChanged(),
    CARE_TEAM_CHANGED: CareTeamChanged(),
    ENTRY_VOIDED: EntryVoided(),
    PERSON_ERASED: PersonErased(),
}


class InvalidJourneyEvent(ValueError):
    pass


def is_journey_event(event_type: str) -> bool:
    """The record service publishes other events too (``record.consent_applied``): followers
    of the journey take these and ignore the rest."""
    return event_type in SCHEMAS


def load(event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload of a ``record.*`` event, checked and with times and dates parsed."""
    schema = SCHEMAS.get(event_type)
    if schema is None:
        raise InvalidJourneyEvent(f"{event_type} is not a journey event")
    try:
        return schema.load(payload)
    except ma.ValidationError as exc:
        raise InvalidJourneyEvent(f"{event_type}: {exc.messages}") from None
