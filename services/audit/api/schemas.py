from __future__ import annotations

import marshmallow as ma


class SearchQuery(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    beneficiary_id = ma.fields.UUID(load_default=None)
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))


class LogEntryOut(ma.Schema):
    index = ma.fields.Integer()
    event_id = ma.fields.String()
    source = ma.fields.String()
    source_sequence = ma.fields.Integer(allow_none=True)
    event = ma.fields.Dict()


class SearchOut(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(LogEntryOut))
