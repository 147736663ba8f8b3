from __future__ import annotations

import marshmallow as ma

OUTCOMES = ("permit", "deny", "error")


class FilterQuery(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    beneficiary_id = ma.fields.UUID(load_default=None)
    actor = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=120))
    organisation = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=120))
    action = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=80))
    outcome = ma.fields.String(load_default=None, validate=ma.validate.OneOf(OUTCOMES))
    purpose = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=200))
    since = ma.fields.AwareDateTime(load_default=None)
    until = ma.fields.AwareDateTime(load_default=None)

    @ma.validates_schema
    def _period(self, data, **_kwargs):
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise ma.ValidationError("must be after since", field_name="until")


class SearchQuery(FilterQuery):
    cursor = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=0))
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))


class SignalQuery(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    cursor = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=0))
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))


class ExportQuery(FilterQuery):
    format = ma.fields.String(load_default="jsonl", validate=ma.validate.OneOf(("jsonl", "csv", "fhir")))


class ConsistencyQuery(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    old = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1))
    new = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1))

    @ma.validates_schema
    def _order(self, data, **_kwargs):
        if data["old"] > data["new"]:
            raise ma.ValidationError("must not be smaller than old", field_name="new")


class LogEntryOut(ma.Schema):
    index = ma.fields.Integer()
    event = ma.fields.Dict()


class SearchOut(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(LogEntryOut))
    next_cursor = ma.fields.Integer(allow_none=True)
