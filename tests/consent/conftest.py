from __future__ import annotations

import pytest

from tests.support.consent_app import make_consent

NATIONAL_NUMBER = "80.05.04-123.17"
CASE_MANAGER = {"org": "org-cpas", "profession": "case_manager"}


@pytest.fixture
def consent(tmp_path):
    harness = make_consent(tmp_path)
    yield harness
    harness.engine.dispose()


@pytest.fixture
def person(consent) -> str:
    """A person registered by a case manager of org-cpas, with an identity."""
    response = consent.client.post(
        "/beneficiaries",
        json={"identity": {"given_name": "Amina", "family_name": "Diallo",
                           "birth_date": "1980-05-04", "national_number": NATIONAL_NUMBER}},
        headers=consent.as_("cm-1", **CASE_MANAGER),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]
