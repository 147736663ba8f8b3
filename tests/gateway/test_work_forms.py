"""The professionals' pages' own rules, without a browser: the contact form's defaults, the
timeline filters, moments typed in Brussels time, a service's field errors placed beside the
form's fields, and what the record's vocabularies say a status needs."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from werkzeug.datastructures import MultiDict

from services.gateway.web.form_values import (
    end_of_day,
    local_input_value,
    parse_local_moment,
    service_field_errors,
)
from services.gateway.web.published_codes import JourneyCodes
from services.gateway.web.service_calls import ServiceError
from services.gateway.web.work.person_page import TIMELINE_PAGE, contact_defaults, timeline_query

CODES = JourneyCodes(
    language="en", version="test",
    lists={
        "contact_modality": [{"code": "in_person", "label": "In person"}, {"code": "phone", "label": "Phone"},
                             {"code": "fax", "label": "Fax", "retired": True},
                             {"code": "street_outreach", "label": "Street outreach"}],
        "contact_outcome": [{"code": "attempt", "label": "Attempt", "seen": False},
                            {"code": "met", "label": "Met", "seen": True}],
        "entry_kind": [{"code": "contact", "label": "Contact"}, {"code": "step", "label": "Step"}],
        "step_status": [{"code": s, "label": s.title()} for s in ("requested", "in_progress", "blocked", "done")],
        "fragility_housing": [{"code": "none", "label": "No housing"}],
        "fragility_income": [{"code": "none", "label": "No income"}],
    },
    lifecycles={"step_status": {"initial": ["requested", "in_progress", "blocked"],
                                "next": {"requested": ["blocked", "in_progress"], "done": []},
                                "requires": {"blocked": {"field": "blocker", "list": "step_blocker"}}}},
)


def contact(modality: str) -> dict:
    return {"kind": "contact", "data": {"modality": modality, "outcome": "met"}}


def test_the_contact_form_opens_on_the_modality_most_used_with_the_person_and_on_seen():
    entries = [contact("phone"), contact("street_outreach"), contact("phone"), {"kind": "step", "data": {}}]
    assert contact_defaults(CODES, entries, remembered="in_person") == {"modality": "phone", "outcome": "met"}
    tie = [contact("street_outreach"), contact("phone")]
    assert contact_defaults(CODES, tie, None)["modality"] == "phone"  # a tie: the one listed first
    assert contact_defaults(CODES, [], remembered="street_outreach")["modality"] == "street_outreach"
    assert contact_defaults(CODES, [], remembered="fax")["modality"] == "in_person"  # retired: not offered
    assert contact_defaults(CODES, [contact("fax")], None)["modality"] == "in_person"


def test_the_vocabularies_say_where_a_status_goes_and_what_it_needs():
    assert CODES.codes("contact_modality") == ["in_person", "phone", "street_outreach"]
    assert CODES.next_statuses("step_status", "requested") == ["in_progress", "blocked"]  # list order
    assert CODES.next_statuses("step_status", "done") == []
    assert CODES.requirement("step_status", "blocked") == {"field": "blocker", "list": "step_blocker"}
    assert CODES.requirement("step_status", "requested") is None
    assert CODES.status_requiring("step_status", "blocker") == "blocked"
    assert CODES.fragility_flags() == ["housing", "income"]
    assert CODES.label("contact_modality", "fax") == "Fax" and CODES.label("contact_modality", "new") == "new"


@pytest.fixture
def request_context(app):
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        yield


def test_timeline_filters_become_the_record_query(request_context):
    params, filters, errors = timeline_query(MultiDict({
        "category": "steps", "kind": "step", "since": "2026-03-01", "until": "2026-03-31", "cursor": "abc"}),
        ["contacts", "steps"], CODES)
    assert errors == {}
    assert params == {"limit": TIMELINE_PAGE, "category": "steps", "kind": "step", "cursor": "abc",
                      "since": "2026-03-01T00:00:00+01:00", "until": "2026-04-01T00:00:00+02:00"}
    assert filters["since"] == "2026-03-01"


def test_timeline_filters_that_are_not_right_are_said_per_field(request_context):
    _params, _filters, errors = timeline_query(MultiDict({
        "category": "mental_health_episodes", "kind": "nonsense", "since": "yesterday"}), ["contacts"], CODES)
    assert set(errors) == {"category", "kind", "since"}  # a category the reader may not see is refused
    _params, _filters, errors = timeline_query(MultiDict({"since": "2026-03-02", "until": "2026-03-01"}),
                                               ["contacts"], CODES)
    assert set(errors) == {"until"}
    params, _filters, _errors = timeline_query(MultiDict({"cursor": "x" * 201}), [], CODES)
    assert "cursor" not in params


def test_moments_are_typed_in_brussels_time():
    summer = parse_local_moment("2026-07-01T14:30")
    assert summer.utcoffset().total_seconds() == 7200 and summer.astimezone(UTC).hour == 12
    assert parse_local_moment("") is None
    with pytest.raises(ValueError):
        parse_local_moment("2026-07-01T14:30+00:00")
    with pytest.raises(ValueError):
        parse_local_moment("tomorrow")
    assert local_input_value(datetime(2026, 1, 5, 9, 0, tzinfo=UTC)) == "2026-01-05T10:00"
    assert end_of_day(date(2026, 3, 28)).isoformat() == "2026-03-29T00:00:00+01:00"


def test_a_services_field_errors_go_beside_the_forms_fields():
    refused = ServiceError("consent", 422, {"errors": [
        {"field": "identity.national_number", "message": "its check digits do not match"},
        {"field": "fragility.housing", "message": "Must be one of: none."},
        {"field": "somewhere_else", "message": "no."}]})
    placed = service_field_errors(refused, {"identity.national_number": "national_number", "housing": "housing"},
                                  fallback="categories")
    assert placed["national_number"].message == "its check digits do not match"
    assert placed["national_number"].from_service is True
    assert "housing" in placed and placed["categories"].message == "no."
    alike = service_field_errors(refused, ("housing", "somewhere_else"))
    assert set(alike) == {"identity.national_number", "housing", "somewhere_else"}  # no fallback: the API's name
