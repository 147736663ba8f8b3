"""Marshmallow schemas of the alerts API. Every field is a code from the alerts vocabulary, a
number, a date or an identifier: nothing to write prose into. Unknown fields, wrong types and
codes outside the vocabulary are a 422 naming each field."""

from __future__ import annotations

import marshmallow as ma

from services.alerts.domain import alerts as life
from services.alerts.domain.rules import RULES
from services.alerts.handlers.webhooks import DEFAULT_EVENTS
from shared.consent.vocabulary import professions
from shared.vocabularies import load_vocabulary

_vocabulary = load_vocabulary("alerts")
IDENTIFIER = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,119}$"
MANUAL_RESOLUTIONS = [t.code for t in _vocabulary["resolution_reason"]
                      if not t.retired and not t.get("automatic")]
DELIVERY_STATES = ("pending", "delivered", "dead", "withheld")


def _identifier(**kwargs) -> ma.fields.String:
    return ma.fields.String(
        validate=ma.validate.Regexp(IDENTIFIER, error="An identifier (letters, digits, . _ : @ -), not prose."),
        **kwargs)


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class AlertListQuery(Strict):
    state = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(life.UNRESOLVED)), load_default=(),
                           metadata={"description": "Only alerts still asking for something are listed."})
    rule = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(RULES)), load_default=())
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=300))
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))


class AcknowledgeIn(Strict):
    reason = ma.fields.String(required=True,
                              validate=ma.validate.OneOf(_vocabulary["acknowledgement_reason"].offered()))
    last_seen_on = ma.fields.Date(load_default=None, allow_none=True, metadata={
        "description": "When you know the person was last seen, if you know it."})


class ResolveIn(Strict):
    reason = ma.fields.String(required=True, validate=ma.validate.OneOf(MANUAL_RESOLUTIONS))


class SnoozeIn(Strict):
    days = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=365))


class RuleOverrideIn(Strict):
    """Only what changes; which fields a level may set depends on the rule."""

    enabled = ma.fields.Boolean()
    days = ma.fields.Integer(strict=True)
    warning_days = ma.fields.Integer(strict=True)
    short_days = ma.fields.Integer(strict=True)
    grace_days = ma.fields.Integer(strict=True)
    escalate_after_days = ma.fields.Integer(strict=True)
    escalate_to = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=140)))


class CoordinatorIn(Strict):
    coordinator = _identifier(required=True, allow_none=True,
                              metadata={"description": "The professional's account id; null: none."})


class WebhookIn(Strict):
    url = ma.fields.String(required=True, validate=ma.validate.Length(max=500))
    events = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(DEFAULT_EVENTS)),
                            load_default=None, validate=ma.validate.Length(min=1, max=10))
    profession = ma.fields.String(load_default=None, allow_none=True,
                                  validate=ma.validate.OneOf(list(professions().professions)))


class DeliveriesQuery(Strict):
    state = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(DELIVERY_STATES)), load_default=())
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))


class StatisticsQuery(Strict):
    days = ma.fields.Integer(load_default=30, validate=ma.validate.Range(min=1, max=366))


# -- answers ----------------------------------------------------------------------------------
class AcknowledgedOut(ma.Schema):
    at = ma.fields.DateTime()
    by = ma.fields.String()
    reason = ma.fields.String()
    reason_label = ma.fields.String()
    last_seen_on = ma.fields.Date(allow_none=True)


class ResolvedOut(ma.Schema):
    at = ma.fields.DateTime()
    by = ma.fields.String(allow_none=True)
    reason = ma.fields.String()
    reason_label = ma.fields.String()
    automatic = ma.fields.Boolean()


class AlertOut(ma.Schema):
    alert_id = ma.fields.String()
    beneficiary_id = ma.fields.String()
    rule = ma.fields.String()
    rule_label = ma.fields.String()
    state = ma.fields.String()
    state_label = ma.fields.String()
    subject_id = ma.fields.String(allow_none=True, metadata={"description": "The activation or step watched."})
    organisation = ma.fields.String(allow_none=True)
    since = ma.fields.DateTime(allow_none=True)
    due_at = ma.fields.DateTime(allow_none=True)
    raised_at = ma.fields.DateTime()
    opened_at = ma.fields.DateTime(allow_none=True)
    escalation_level = ma.fields.Integer()
    escalated_at = ma.fields.DateTime(allow_none=True)
    escalated_to = ma.fields.List(ma.fields.String())
    reaches_care_team = ma.fields.Boolean()
    acknowledged = ma.fields.Nested(AcknowledgedOut, allow_none=True)
    snoozed_until = ma.fields.DateTime(allow_none=True)
    snoozes_left = ma.fields.Integer()
    resolved = ma.fields.Nested(ResolvedOut, allow_none=True)


class AlertPageOut(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AlertOut))
    next_cursor = ma.fields.String(allow_none=True)


class PersonAlertsOut(AlertPageOut):
    beneficiary_id = ma.fields.String()


class LastSeenOut(ma.Schema):
    beneficiary_id = ma.fields.String()
    last_seen_at = ma.fields.DateTime(allow_none=True)
    last_attempt_at = ma.fields.DateTime(allow_none=True)


class OwnItemOut(ma.Schema):
    asked_at = ma.fields.DateTime()
    message = ma.fields.String()
    message_code = ma.fields.String()


class OwnOut(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(OwnItemOut))


class NoticeOut(ma.Schema):
    notice_id = ma.fields.String()
    at = ma.fields.DateTime()
    message = ma.fields.String()
    message_code = ma.fields.String()


class NoticesOut(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(NoticeOut))


class WebhookOut(ma.Schema):
    webhook_id = ma.fields.String()
    organisation = ma.fields.String()
    url = ma.fields.String()
    events = ma.fields.List(ma.fields.String())
    profession = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    active = ma.fields.Boolean()


class WebhookCreatedOut(WebhookOut):
    secret = ma.fields.String(metadata={"description": "Shown once: the key of the signature."})


class WebhooksOut(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(WebhookOut))


class DeliveryOut(ma.Schema):
    delivery_id = ma.fields.String()
    event_id = ma.fields.String()
    event_type = ma.fields.String()
    state = ma.fields.String()
    attempts = ma.fields.Integer()
    next_attempt_at = ma.fields.DateTime(allow_none=True)
    last_status = ma.fields.Integer(allow_none=True)
    last_error = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    finished_at = ma.fields.DateTime(allow_none=True)


class DeliveriesOut(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(DeliveryOut))
