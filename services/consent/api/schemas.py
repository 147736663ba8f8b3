from __future__ import annotations

import marshmallow as ma


class BeneficiaryOut(ma.Schema):
    id = ma.fields.String()
    registered_at = ma.fields.DateTime()
    registered_by_organisation = ma.fields.String()
