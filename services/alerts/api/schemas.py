from __future__ import annotations

import marshmallow as ma


class LastSeenOut(ma.Schema):
    beneficiary_id = ma.fields.String()
    last_seen_at = ma.fields.DateTime(allow_none=True)
    last_attempt_at = ma.fields.DateTime(allow_none=True)
