"""Marshmallow schemas of the record API. Every field is a code from the journey vocabulary, a
date, a number or an identifier: there is no free text to fill. Unknown fields, wrong types and
codes outside the vocabulary are a 422 naming each field."""

from __future__ import annotations

import marshmallow as ma

from services.record.domain.entries import IDENTIFIER, KINDS
from shared.consent.vocabulary import CATEGORIES, PURPOSES, professions
from shared.vocabularies import load_vocabulary

_vocabulary = load_vocabulary("journey")


def _code(list_name: str, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.OneOf(_vocabulary[list_name].offered()), **kwargs)


def _identifier(**kwargs) -> ma.fields.String:
    return ma.fields.String(
        validate=ma.validate.Regexp(IDENTIFIER, error="An identifier (letters, digits, . _ : @ -), not prose."),
        **kwargs)


def _profession(**kwargs) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.OneOf(list(professions().professions)), **kwargs)


def _when(description: str, **kwargs) -> ma.fields.AwareDateTime:
    return ma.fields.AwareDateTime(metadata={"description": description}, **kwargs)


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class ContactIn(Strict):
    occurred_at = _when("When it happened, with its time zone.", required=True)
    modality = _code("contact_modality", required=True)
    outcome = _code("contact_outcome", required=True,
                    metadata={"description": "met, or attempt (an attempt does not count as seen)."})
    duration_minutes = ma.fields.Integer(load_default=None, allow_none=True, strict=True,
                                         validate=ma.validate.Range(min=1, max=1440))


class StepIn(Strict):
    step_kind = _code("step_kind", required=True)
    status = ma.fields.String(load_default="requested",
                              validate=ma.validate.OneOf(["requested", "in_progress", "blocked"]))
    blocker = _code("step_blocker", load_default=None, allow_none=True)
    organisation = _identifier(load_default=None, allow_none=True,
                               metadata={"description": "The organisation responsible for the step."})
    due_date = ma.fields.Date(load_default=None, allow_none=True)
    occurred_at = _when("When the step started (now when left out).", load_default=None)


class StepStatusIn(Strict):
    status = _code("step_status", required=True)
    blocker = _code("step_blocker", load_default=None, allow_none=True)
    occurred_at = _when("When it changed (now when left out).", load_default=None)


class EpisodeIn(Strict):
    episode_type = _code("episode_type", required=True)
    started_at = _when("When it started.", required=True)
    ended_at = _when("When it ended, if it has.", load_default=None, allow_none=True)


class EpisodeEndIn(Strict):
    ended_at = _when("When it ended.", required=True)


class FragilityIn(Strict):
    housing = _code("fragility_housing", required=True)
    close_ones = _code("fragility_close_ones", required=True)
    income = _code("fragility_income", required=True)
    health_follow_up = _code("fragility_health_follow_up", required=True)


class ActivationIn(Strict):
    service_kind = _code("service_kind", required=True)
    organisation = _identifier(load_default=None, allow_none=True)
    due_date = ma.fields.Date(load_default=None, allow_none=True)


class TransitionIn(Strict):
    transition_kind = _code("transition_kind", required=True)
    occurred_at = _when("When the person left.", required=True)
    fragility = ma.fields.Nested(FragilityIn, required=True)
    activations = ma.fields.List(
        ma.fields.Nested(ActivationIn), load_default=None, allow_none=True,
        validate=ma.validate.Length(max=30),
        metadata={"description": "The services to activate. Left out: proposed from the protocol "
                                 "template of this kind of transition and fragility."})


class AddActivationIn(Strict):
    service_kind = _code("service_kind", required=True)
    organisation = _identifier(load_default=None, allow_none=True)
    due_date = ma.fields.Date(required=True)


class ActivationStatusIn(Strict):
    status = _code("activation_status", required=True)
    organisation = _identifier(load_default=None, allow_none=True,
                               metadata={"description": "The organisation contacted or answering."})
    reason = _code("activation_decline_reason", load_default=None, allow_none=True)
    occurred_at = _when("When it changed (now when left out).", load_default=None)


class ReferentIn(Strict):
    subject = _identifier(required=True, metadata={"description": "The professional's account id."})
    organisation = _identifier(load_default=None, allow_none=True)
    profession = _profession(load_default=None, allow_none=True)
    occurred_at = _when("Since when (now when left out).", load_default=None)


class CareTeamIn(Strict):
    subject = _identifier(required=True)
    change = _code("team_change", required=True)
    organisation = _identifier(load_default=None, allow_none=True)
    profession = _profession(load_default=None, allow_none=True)
    occurred_at = _when("When (now when left out).", load_default=None)


class CorrectionIn(Strict):
    """Only the fields to change; what may change depends on the entry's kind."""

    occurred_at = _when("", )
    modality = _code("contact_modality")
    outcome = _code("contact_outcome")
    duration_minutes = ma.fields.Integer(allow_none=True, strict=True,
                                         validate=ma.validate.Range(min=1, max=1440))
    step_kind = _code("step_kind")
    organisation = _identifier(allow_none=True)
    due_date = ma.fields.Date(allow_none=True)
    episode_type = _code("episode_type")
    started_at = _when("")
    ended_at = _when("", allow_none=True)
    fragility = ma.fields.Nested(FragilityIn)
    service_kind = _code("service_kind")


class VoidIn(Strict):
    reason = _code("void_reason", required=True)


class PurposeQuery(Strict):
    purpose = ma.fields.String(load_default="care_coordination", validate=ma.validate.OneOf(PURPOSES),
                               metadata={"description": "emergency: read under an open emergency access."})


class TimelineQuery(PurposeQuery):
    category = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(CATEGORIES)), load_default=())
    kind = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(KINDS)), load_default=())
    since = ma.fields.AwareDateTime(load_default=None)
    until = ma.fields.AwareDateTime(load_default=None)
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200))
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=500))
    order = ma.fields.String(load_default="desc", validate=ma.validate.OneOf(["desc", "asc"]))
    history = ma.fields.Boolean(load_default=False, metadata={
        "description": "Also the entries that were corrected or voided, and the voids."})

    @ma.validates_schema
    def _period(self, data, **_kwargs):
        if data.get("since") and data.get("until") and data["until"] <= data["since"]:
            raise ma.ValidationError("Must be after since.", field_name="until")


class CaseloadQuery(Strict):
    sort = ma.fields.String(load_default="last_seen",
                            validate=ma.validate.OneOf(["last_seen", "open_alerts", "open_steps"]))
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=500))
    offset = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=1_000_000))


# -- answers ----------------------------------------------------------------------------------
class AuthorOut(ma.Schema):
    organisation = ma.fields.String(allow_none=True)
    profession = ma.fields.String(allow_none=True)
    masked = ma.fields.Boolean(metadata={"description": "The author's service is hidden from this reader."})


class EntryOut(ma.Schema):
    id = ma.fields.String()
    kind = ma.fields.String()
    category = ma.fields.String()
    occurred_at = ma.fields.DateTime()
    recorded_at = ma.fields.DateTime()
    thread_id = ma.fields.String(allow_none=True)
    author = ma.fields.Nested(AuthorOut)
    vocabulary_version = ma.fields.String()
    supersedes = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"description": "current, superseded or voided."})
    replaced_by = ma.fields.String(allow_none=True)
    data = ma.fields.Dict(metadata={"description": "The entry's codes, dates and ids."})
    labels = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(),
                            metadata={"description": "Labels of the codes in the language asked for."})


class TransitionOut(ma.Schema):
    transition = ma.fields.Nested(EntryOut)
    activations = ma.fields.List(ma.fields.Nested(EntryOut))


class LastSeenOut(ma.Schema):
    at = ma.fields.DateTime(allow_none=True)
    organisation = ma.fields.String(allow_none=True)
    profession = ma.fields.String(allow_none=True)
    masked = ma.fields.Boolean()
    last_attempt_at = ma.fields.DateTime(allow_none=True)


class TimelineOut(ma.Schema):
    beneficiary_id = ma.fields.String()
    items = ma.fields.List(ma.fields.Nested(EntryOut))
    next_cursor = ma.fields.String(allow_none=True)
    last_seen = ma.fields.Nested(LastSeenOut, allow_none=True)
    categories = ma.fields.List(ma.fields.String())
    vocabulary_version = ma.fields.String()


class OpenStepOut(ma.Schema):
    step_id = ma.fields.String()
    step_kind = ma.fields.String()
    status = ma.fields.String()
    blocker = ma.fields.String(allow_none=True)
    since = ma.fields.DateTime()
    organisation = ma.fields.String(allow_none=True)
    due_date = ma.fields.String(allow_none=True)
    overdue = ma.fields.Boolean()
    labels = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())


class ProfessionalOut(ma.Schema):
    subject = ma.fields.String()
    organisation = ma.fields.String(allow_none=True)
    profession = ma.fields.String(allow_none=True)
    since = ma.fields.DateTime()


class ProtocolProgressOut(ma.Schema):
    total = ma.fields.Integer()
    to_activate = ma.fields.Integer()
    contacted = ma.fields.Integer()
    acknowledged = ma.fields.Integer()
    declined = ma.fields.Integer()
    overdue = ma.fields.Integer()


class ActivationOut(EntryOut):
    activation_id = ma.fields.String()
    overdue = ma.fields.Boolean()


class LastTransitionOut(EntryOut):
    protocol = ma.fields.Nested(ProtocolProgressOut)
    activations = ma.fields.List(ma.fields.Nested(ActivationOut))


class SummaryOut(ma.Schema):
    beneficiary_id = ma.fields.String()
    categories = ma.fields.List(ma.fields.String())
    open_steps = ma.fields.List(ma.fields.Nested(OpenStepOut))
    open_steps_by_status = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    active_episodes = ma.fields.List(ma.fields.Nested(EntryOut))
    last_transition = ma.fields.Nested(LastTransitionOut, allow_none=True)
    referent = ma.fields.Nested(ProfessionalOut, allow_none=True)
    care_team = ma.fields.List(ma.fields.Nested(ProfessionalOut))
    last_seen = ma.fields.Nested(LastSeenOut, allow_none=True)
    open_alerts = ma.fields.Integer(allow_none=True)


class CaseloadItemOut(ma.Schema):
    beneficiary_id = ma.fields.String()
    last_seen_at = ma.fields.DateTime(allow_none=True)
    last_attempt_at = ma.fields.DateTime(allow_none=True)
    open_alerts = ma.fields.Integer(allow_none=True)
    open_steps = ma.fields.Integer(allow_none=True)
    categories = ma.fields.List(ma.fields.String())


class CaseloadOut(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CaseloadItemOut))
    next_offset = ma.fields.Integer(allow_none=True)
    total = ma.fields.Integer()
