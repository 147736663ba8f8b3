"""Domain rules of a contact, and when a contact moves the last-seen time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.alerts.domain.last_seen import moves_last_seen
from services.record.domain.contacts import (
    MODALITIES,
    OUTCOMES,
    VOCABULARY_VERSION,
    Author,
    Contact,
    ContactRejected,
    new_contact,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
AUTHOR = Author(subject="user-1", organisation="org-1", profession="nurse")
BENEFICIARY = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


def contact(**overrides):
    arguments = {
        "beneficiary_id": BENEFICIARY,
        "occurred_at": NOW - timedelta(hours=2),
        "modality": "phone",
        "outcome": "met",
        "author": AUTHOR,
        "duration_minutes": 20,
        "now": NOW,
    }
    arguments.update(overrides)
    return new_contact(**arguments)


def rejected(field, **overrides):
    with pytest.raises(ContactRejected) as caught:
        contact(**overrides)
    assert caught.value.field == field
    assert caught.value.message
    assert str(caught.value) == caught.value.message
    return caught.value


def test_a_valid_contact_is_built():
    built = contact()
    assert isinstance(built, Contact)
    assert built.beneficiary_id == BENEFICIARY
    assert built.occurred_at == NOW - timedelta(hours=2)
    assert built.modality == "phone"
    assert built.outcome == "met"
    assert built.author == AUTHOR
    assert built.duration_minutes == 20
    assert built.vocabulary_version == VOCABULARY_VERSION
    assert built.recorded_at.tzinfo is not None


def test_each_contact_gets_its_own_id():
    assert contact().id != contact().id


def test_vocabulary():
    assert OUTCOMES == {"met", "attempt"}
    assert {"in_person", "phone", "video", "home_visit"} <= MODALITIES


@pytest.mark.parametrize("modality", sorted(MODALITIES))
def test_every_modality_of_the_vocabulary_is_accepted(modality):
    assert contact(modality=modality).modality == modality


def test_a_contact_in_the_future_is_rejected():
    error = rejected("occurred_at", occurred_at=NOW + timedelta(minutes=1))
    assert "future" in error.message


def test_a_contact_at_this_very_moment_is_accepted():
    assert contact(occurred_at=NOW).occurred_at == NOW


def test_the_future_is_judged_in_absolute_time_whatever_the_offset():
    brussels = timezone(timedelta(hours=1))
    # 12:30 in Brussels is 11:30 UTC: in the past of NOW (12:00 UTC).
    assert contact(occurred_at=datetime(2026, 3, 1, 12, 30, tzinfo=brussels)).modality == "phone"
    # 13:30 UTC written as 14:30 in Brussels: in the future.
    rejected("occurred_at", occurred_at=datetime(2026, 3, 1, 14, 30, tzinfo=brussels))


def test_without_now_the_real_clock_is_used():
    with pytest.raises(ContactRejected):
        new_contact(BENEFICIARY, datetime.now(UTC) + timedelta(days=1), "phone", "met", AUTHOR)
    assert new_contact(BENEFICIARY, datetime.now(UTC) - timedelta(days=1), "phone", "met", AUTHOR)


def test_a_naive_datetime_is_rejected():
    error = rejected("occurred_at", occurred_at=datetime(2026, 3, 1, 9, 0))
    assert "time zone" in error.message


def test_a_naive_datetime_in_the_future_is_rejected_for_its_zone_not_a_type_error():
    error = rejected("occurred_at", occurred_at=datetime(2999, 1, 1))
    assert "time zone" in error.message


@pytest.mark.parametrize("modality", ["telepathy", "", "Phone", "PHONE", "in person"])
def test_an_unknown_modality_is_rejected(modality):
    rejected("modality", modality=modality)


@pytest.mark.parametrize("outcome", ["seen", "", "Met", "missed"])
def test_an_unknown_outcome_is_rejected(outcome):
    rejected("outcome", outcome=outcome)


@pytest.mark.parametrize("minutes", [None, 1, 60, 1440])
def test_durations_within_bounds(minutes):
    assert contact(duration_minutes=minutes).duration_minutes == minutes


@pytest.mark.parametrize("minutes", [0, -5, 1441, 10_000])
def test_durations_out_of_bounds(minutes):
    rejected("duration_minutes", duration_minutes=minutes)


def test_only_a_met_contact_counts_as_seen():
    assert contact(outcome="met").counts_as_seen is True
    assert contact(outcome="attempt").counts_as_seen is False


def test_attempt_does_not_move_last_seen():
    assert moves_last_seen("attempt", NOW, None) is False
    assert moves_last_seen("attempt", NOW, NOW - timedelta(days=10)) is False


def test_first_met_contact_moves_last_seen():
    assert moves_last_seen("met", NOW, None) is True


def test_newer_met_contact_moves_last_seen():
    assert moves_last_seen("met", NOW, NOW - timedelta(seconds=1)) is True


def test_older_contact_does_not_move_last_seen_back():
    assert moves_last_seen("met", NOW - timedelta(days=3), NOW) is False


def test_same_instant_does_not_move_last_seen():
    assert moves_last_seen("met", NOW, NOW) is False


def test_last_seen_compares_instants_across_offsets():
    brussels = timezone(timedelta(hours=1))
    current = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert moves_last_seen("met", datetime(2026, 3, 1, 12, 30, tzinfo=brussels), current) is False
    assert moves_last_seen("met", datetime(2026, 3, 1, 13, 30, tzinfo=brussels), current) is True
