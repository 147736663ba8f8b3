from __future__ import annotations

import pytest

from tests.support.record_app import CASE_MANAGER, make_record

PSYCHOLOGIST = {"org": "org-ssm", "profession": "psychologist"}
HOUSING = {"org": "org-housing", "profession": "housing_worker"}
STRANGER = {"org": "org-other", "profession": "social_worker"}


@pytest.fixture
def record(tmp_path):
    harness = make_record(tmp_path)
    yield harness
    harness.engine.dispose()
    harness.consent.engine.dispose()


@pytest.fixture
def person(record) -> str:
    """A person registered by a case manager of org-cpas (the registration defaults: identity,
    contacts, steps, transitions, alerts and referent, read and write, to org-cpas)."""
    return record.register("cm-1", **CASE_MANAGER)


@pytest.fixture
def cm(record):
    return record.as_("cm-1", **CASE_MANAGER)
