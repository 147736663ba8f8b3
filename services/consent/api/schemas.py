"""Marshmallow schemas of the consent API: unknown fields are refused, codes are checked
against the shared vocabularies, so bad input is a 422 naming the field."""

from __future__ import annotations

import marshmallow as ma

from services.consent.domain.grants import METHODS, TRANSITION_KINDS
from shared.consent.vocabulary import (
    ACTIONS,
    CATEGORIES,
    EXCLUSION_KINDS,
    GRANTEE_KINDS,
    PURPOSES,
)

_Codes = ma.validate.OneOf


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


def _categories(**kwargs) -> ma.fields.List:
    return ma.fields.List(ma.fields.String(validate=_Codes(CATEGORIES)),
                          validate=ma.validate.Length(min=1, max=len(CATEGORIES)), **kwargs)


class IdentityIn(Strict):
    given_name = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=100))
    family_name = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=100))
    birth_date = ma.fields.Date(load_default=None, allow_none=True)
    national_number = ma.fields.String(load_default=None, allow_none=True,
                                       validate=ma.validate.Length(max=20))


class RegistrationIn(Strict):
    identity = ma.fields.Nested(IdentityIn, load_default=None, allow_none=True)
    categories = _categories(load_default=None, allow_none=True)
    method = ma.fields.String(load_default="in_person", validate=_Codes(("in_person", "signed_form")))
    form_reference = ma.fields.String(load_default=None, allow_none=True,
                                      validate=ma.validate.Length(min=1, max=100))
    valid_until = ma.fields.AwareDateTime(load_default=None, allow_none=True, metadata={
        "description": "Until when the person agreed; left out: until they withdraw it."})


class WaitQuery(Strict):
    wait = ma.fields.Boolean(load_default=False, metadata={
        "description": "Answer once the services that decide reads from consent (those of "
                       "CONSENT_STRICT_PROJECTIONS) have applied the new grant, within "
                       "CONSENT_STRICT_TIMEOUT_SECONDS; `enforcement.confirmed` says whether they did."})


class BeneficiaryOut(ma.Schema):
    id = ma.fields.String()
    registered_at = ma.fields.DateTime()
    registered_by_organisation = ma.fields.String()
    anonymous = ma.fields.Boolean()
    grant_id = ma.fields.String()
    enforcement = ma.fields.Nested("EnforcementOut", allow_none=True,
                                   metadata={"description": "With wait=true only."})


class IdentityOut(ma.Schema):
    given_name = ma.fields.String(allow_none=True)
    family_name = ma.fields.String(allow_none=True)
    birth_date = ma.fields.Date(allow_none=True)
    national_number = ma.fields.String(allow_none=True)


class LookupIn(Strict):
    national_number = ma.fields.String(required=True, validate=ma.validate.Length(min=11, max=20))


class LookupOut(ma.Schema):
    id = ma.fields.String()


class GrantIn(Strict):
    grantee_kind = ma.fields.String(required=True, validate=_Codes(GRANTEE_KINDS))
    grantee = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    categories = _categories(required=True)
    purpose = ma.fields.String(load_default="care_coordination", validate=_Codes(PURPOSES))
    actions = ma.fields.List(ma.fields.String(validate=_Codes(ACTIONS)), load_default=["read"],
                             validate=ma.validate.Length(min=1, max=2))
    valid_from = ma.fields.AwareDateTime(load_default=None, allow_none=True)
    valid_until = ma.fields.AwareDateTime(load_default=None, allow_none=True)
    transition_kind = ma.fields.String(load_default=None, allow_none=True,
                                       validate=_Codes(TRANSITION_KINDS))
    transition_days = ma.fields.Integer(load_default=None, allow_none=True, strict=True,
                                        validate=ma.validate.Range(min=1, max=730))
    referent = ma.fields.Boolean(load_default=False)
    method = ma.fields.String(load_default="in_person", validate=_Codes(METHODS))
    form_reference = ma.fields.String(load_default=None, allow_none=True,
                                      validate=ma.validate.Length(min=1, max=100))
    powers = ma.fields.List(ma.fields.String(validate=_Codes(("manage",))), load_default=[])

    @ma.validates_schema
    def _period(self, data, **_kwargs):
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end <= start:
            raise ma.ValidationError("the period must end after it starts", "valid_until")


class GrantOut(ma.Schema):
    grant_id = ma.fields.String()
    version = ma.fields.Integer()
    status = ma.fields.String()
    grantee_kind = ma.fields.String()
    grantee = ma.fields.String()
    categories = ma.fields.List(ma.fields.String())
    purpose = ma.fields.String()
    actions = ma.fields.List(ma.fields.String())
    valid_from = ma.fields.DateTime()
    valid_until = ma.fields.DateTime(allow_none=True)
    referent = ma.fields.Boolean()
    transition_kind = ma.fields.String(allow_none=True)
    transition_days = ma.fields.Integer(allow_none=True)
    powers = ma.fields.List(ma.fields.String())
    method = ma.fields.String()
    witness = ma.fields.String(allow_none=True)
    form_reference = ma.fields.String(allow_none=True)
    recorded_at = ma.fields.DateTime()
    description = ma.fields.String()


class GrantListOut(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(GrantOut))


class EnforcementOut(ma.Schema):
    mode = ma.fields.String()
    epoch = ma.fields.Integer()
    confirmed = ma.fields.Boolean()
    pending = ma.fields.List(ma.fields.String())


class RevocationOut(ma.Schema):
    grant = ma.fields.Nested(GrantOut)
    enforcement = ma.fields.Nested(EnforcementOut)


class ExclusionIn(Strict):
    kind = ma.fields.String(required=True, validate=_Codes(EXCLUSION_KINDS))
    target = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


class ExclusionOut(ma.Schema):
    exclusion_id = ma.fields.String()
    enforcement = ma.fields.Nested(EnforcementOut)


class ActorIn(Strict):
    subject = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


class DecisionIn(Strict):
    beneficiary_id = ma.fields.UUID(required=True)
    action = ma.fields.String(load_default="read", validate=_Codes(ACTIONS))
    categories = _categories(required=True)
    purpose = ma.fields.String(load_default="care_coordination", validate=_Codes(PURPOSES))
    actor = ma.fields.Nested(ActorIn, load_default=None, allow_none=True)


class DecisionBatchIn(Strict):
    items = ma.fields.List(ma.fields.Nested(DecisionIn), required=True,
                           validate=ma.validate.Length(min=1, max=100))


class CategoryDecisionOut(ma.Schema):
    category = ma.fields.String()
    decision = ma.fields.String()
    reason = ma.fields.String()
    grant_id = ma.fields.String(allow_none=True)
    rule = ma.fields.String(allow_none=True)


class DecisionOut(ma.Schema):
    beneficiary_id = ma.fields.String()
    action = ma.fields.String()
    purpose = ma.fields.String()
    policy_version = ma.fields.String()
    epoch = ma.fields.Integer()
    categories = ma.fields.List(ma.fields.Nested(CategoryDecisionOut))


class DecisionBatchOut(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(DecisionOut))


class TeamMemberIn(Strict):
    subject = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


class EmergencyIn(Strict):
    reason_code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=40))
    categories = _categories(required=True)
    hours = ma.fields.Integer(required=True, strict=True)


class EmergencyOut(ma.Schema):
    access_id = ma.fields.String()
    categories = ma.fields.List(ma.fields.String())
    opened_at = ma.fields.DateTime()
    until = ma.fields.DateTime()


class ShareCodeIn(Strict):
    categories = _categories(required=True)
    actions = ma.fields.List(ma.fields.String(validate=_Codes(ACTIONS)), load_default=["read"],
                             validate=ma.validate.Length(min=1, max=2))
    days = ma.fields.Integer(load_default=90, strict=True, validate=ma.validate.Range(min=1, max=730))
    grantee_kind = ma.fields.String(load_default="professional",
                                    validate=_Codes(("professional", "organisation")))


class ShareCodeOut(ma.Schema):
    code = ma.fields.String()
    expires_at = ma.fields.DateTime()


class RedeemIn(Strict):
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=4, max=20))


class RedeemedOut(ma.Schema):
    beneficiary_id = ma.fields.String()
    grant = ma.fields.Nested(GrantOut)
    enforcement = ma.fields.Nested(EnforcementOut, allow_none=True,
                                   metadata={"description": "With wait=true only."})


class ReceiptOut(ma.Schema):
    id = ma.fields.String()
    kind = ma.fields.String()
    subject_ref = ma.fields.String()
    issued_at = ma.fields.DateTime()
    jws = ma.fields.String()


class ReceiptListOut(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ReceiptOut))


class StatusOut(ma.Schema):
    id = ma.fields.String()
    registered_at = ma.fields.DateTime()
    anonymous = ma.fields.Boolean()
    epoch = ma.fields.Integer()
    active_grants = ma.fields.Integer()
    exclusions = ma.fields.Integer()
    open_emergency_accesses = ma.fields.Integer()


class ErasureOut(ma.Schema):
    erased_at = ma.fields.DateTime()
    enforcement = ma.fields.Nested(EnforcementOut)


class ExclusionItemOut(ma.Schema):
    id = ma.fields.String()
    kind = ma.fields.String()
    target = ma.fields.String()
    created_at = ma.fields.DateTime()
    lifted_at = ma.fields.DateTime(allow_none=True)


class ExclusionListOut(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ExclusionItemOut))


class EmergencyItemOut(ma.Schema):
    id = ma.fields.String()
    professional = ma.fields.String()
    organisation = ma.fields.String(allow_none=True)
    profession = ma.fields.String(allow_none=True)
    reason_code = ma.fields.String()
    categories = ma.fields.List(ma.fields.String())
    opened_at = ma.fields.DateTime()
    until = ma.fields.DateTime()
    closed_at = ma.fields.DateTime(allow_none=True, metadata={"description": "Ended before its time."})


class EmergencyListOut(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(EmergencyItemOut))


class ClosedOut(ma.Schema):
    access_id = ma.fields.String()
    enforcement = ma.fields.Nested(EnforcementOut)
