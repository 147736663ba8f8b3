from __future__ import annotations

import marshmallow as ma

from services.record.domain import contacts


class ContactIn(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    occurred_at = ma.fields.AwareDateTime(required=True, metadata={"description": "When it happened, with its time zone."})
    modality = ma.fields.String(required=True, validate=ma.validate.OneOf(sorted(contacts.MODALITIES)))
    outcome = ma.fields.String(required=True, validate=ma.validate.OneOf(sorted(contacts.OUTCOMES)))
    duration_minutes = ma.fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=ma.validate.Range(min=1, max=1440)
    )


class AuthorOut(ma.Schema):
    organisation = ma.fields.String(allow_none=True)
    profession = ma.fields.String(allow_none=True)


class EntryOut(ma.Schema):
    id = ma.fields.String()
    kind = ma.fields.String()
    category = ma.fields.String()
    occurred_at = ma.fields.DateTime()
    recorded_at = ma.fields.DateTime()
    author = ma.fields.Nested(AuthorOut)
    modality = ma.fields.String()
    outcome = ma.fields.String()
    duration_minutes = ma.fields.Integer(allow_none=True)


class TimelineQuery(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=500))


class TimelineOut(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(EntryOut))
