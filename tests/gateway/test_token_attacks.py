"""Forged and stale tokens at the door: each refused with 401 and a problem+json body, before
anything reaches a service."""

from __future__ import annotations

import json
import time

import pytest
from joserfc.jwk import ECKey

from services.gateway.adapters.signing_keys import ACTIVATION_SECONDS
from tests.gateway.conftest import ISSUER
from tests.support import gateway_tokens as forge


def call(http, token: str):
    return http.get("/api/v1/record/beneficiaries/x/timeline", headers={"Authorization": f"Bearer {token}"})


def refused(response, detail_part: str) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"] == "urn:relais:problem:invalid-token"
    assert detail_part in body["detail"]
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert "upstream" not in response.get_data(as_text=True)


@pytest.fixture
def key(app) -> ECKey:
    return app.extensions["relais.keys"].signing_key()


def test_a_well_made_token_passes(http, key):
    assert call(http, forge.signed(key, forge.claims(ISSUER))).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "detail"),
    [
        ({"exp": int(time.time()) - 120, "iat": int(time.time()) - 420}, "expired"),
        ({"aud": ["urn:relais:elsewhere"]}, "not meant for this service"),
        ({"aud": "urn:relais:audit"}, "not meant for this service"),
        ({"iss": "https://issuer.evil.example"}, "not issued by this issuer"),
        ({"nbf": int(time.time()) + 3600}, "not valid"),
        ({"jti": None}, "lacks a required claim"),
    ],
    ids=["expired", "wrong-audience", "other-service-audience", "wrong-issuer", "not-yet-valid", "no-jti"],
)
def test_bad_claims_are_refused(http, key, overrides, detail):
    refused(call(http, forge.signed(key, forge.claims(ISSUER, **overrides))), detail)


def test_a_tampered_signature_is_refused(http, key):
    refused(call(http, forge.tampered(forge.signed(key, forge.claims(ISSUER)))), "signature")


def test_alg_none_is_refused(http):
    refused(call(http, forge.unsigned(forge.claims(ISSUER))), "algorithm")


def test_hs256_signed_with_the_public_key_is_refused(http, app, key):
    public = ECKey.import_key(json.loads(json.dumps(key.as_dict(private=False))))
    pem = public.as_pem(private=False)
    refused(call(http, forge.hmac_with_public_key(pem, forge.claims(ISSUER), key.kid)), "algorithm")


def test_a_key_the_gateway_never_published_is_refused(http):
    stranger = ECKey.generate_key("P-256", parameters={"kid": "20260101T000000000-abcdef"})
    refused(call(http, forge.signed(stranger, forge.claims(ISSUER))), "signature")


def test_a_token_that_is_not_a_jwt_or_not_an_access_token_is_refused(http, key):
    refused(call(http, "opaque-value"), "not a JWT")
    refused(call(http, forge.signed(key, forge.claims(ISSUER), typ="JWT")), "not an access token")
    missing = http.get("/api/v1/record/x")
    assert missing.status_code == 401 and missing.mimetype == "application/problem+json"


def test_a_rotated_out_key_is_trusted_during_its_grace_only(http, app, clock):
    keys = app.extensions["relais.keys"]
    old = keys.signing_key()
    keys.rotate()
    # the new key is published at once, and signs once every process publishes it
    published = {k["kid"] for k in http.get("/.well-known/jwks.json").get_json()["keys"]}
    assert len(published) == 2 and old.kid in published
    assert keys.signing_key().kid == old.kid
    clock.advance(ACTIVATION_SECONDS)
    new = keys.signing_key()
    assert new.kid != old.kid and new.kid in published
    # within its grace, what the old key signed still passes
    assert call(http, forge.signed(old, forge.claims(ISSUER))).status_code == 200
    clock.advance(keys.grace_seconds + 1)
    forged_later = forge.claims(ISSUER, iat=int(clock()), exp=int(clock()) + 300)
    refused(call(http, forge.signed(old, forged_later)), "signature")
    assert {k["kid"] for k in http.get("/.well-known/jwks.json").get_json()["keys"]} == {new.kid}
    assert call(http, forge.signed(new, forged_later)).status_code == 200
    keys.rotate()  # the next rotation removes the expired key's file
    assert not any(p.name.startswith(old.kid) for p in keys.directory.iterdir())
