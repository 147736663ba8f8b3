"""The Blueprint every service's API is made of: flask-smorest's, with its argument schemas built
once when the view is declared. Given a schema class, webargs would build a new instance of it
for every request (marshmallow binds every field of the schema anew), which on record's timeline
cost about as much as checking the token; an instance is reused as it is (the schemas keep no
state between loads: ``unknown`` and the rest are passed with each call)."""

from __future__ import annotations

from typing import Any

import flask_smorest
import marshmallow as ma


class Blueprint(flask_smorest.Blueprint):
    def arguments(self, schema: Any, *args: Any, **kwargs: Any):  # type: ignore[override]
        if isinstance(schema, type) and issubclass(schema, ma.Schema):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)
