"""The token verifier every service uses: what it accepts, what it refuses, what it caches."""

from __future__ import annotations

import json
import time

import pytest
from joserfc import jwk, jwt
from joserfc.jwk import KeySet

from shared.auth import (
    ALLOWED_ALGORITHMS,
    InvalidToken,
    Principal,
    StaticKeySource,
    TokenVerifier,
    audience_of,
)
from tests.unit import tokens

ISSUER = "http://127.0.0.1:8000"
NOW = 1_000_000_000.0  # 2001: tokens here are long expired by the wall clock


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class CountingKeys:
    """A key source that counts how often the verifier asks it for keys."""

    def __init__(self, keys: KeySet) -> None:
        self.inner = StaticKeySource(keys)
        self.calls = 0

    def key_set(self, kid):
        self.calls += 1
        return self.inner.key_set(kid)


@pytest.fixture
def key():
    return tokens.ec_key("k1")


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def verifier(key, clock):
    return TokenVerifier(
        StaticKeySource(KeySet([key])), issuer=ISSUER, audience="urn:relais:record", clock=clock
    )


def claims(**overrides):
    return tokens.claims_for(ISSUER, now=NOW, **overrides)


def refused(verifier, token, fragment=None):
    with pytest.raises(InvalidToken) as caught:
        verifier.verify(token)
    assert caught.value.status == 401
    assert caught.value.slug == "invalid-token"
    assert caught.value.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    if fragment is not None:
        assert fragment in caught.value.detail
    return caught.value


def test_audience_of():
    assert audience_of("record") == "urn:relais:record"


def test_only_asymmetric_algorithms_are_allowed():
    assert "none" not in ALLOWED_ALGORITHMS
    assert not any(alg.startswith("HS") for alg in ALLOWED_ALGORITHMS)


def test_valid_token_gives_a_principal(verifier, key):
    token_claims = claims(beneficiary="b-1")
    principal = verifier.verify(tokens.sign(token_claims, key))
    assert isinstance(principal, Principal)
    assert principal.subject == "user-1"
    assert principal.client_id == "web"
    assert principal.token_id == token_claims["jti"]
    assert principal.scopes == frozenset({"record:read", "record:write"})
    assert principal.organisation == "org-1"
    assert principal.profession == "nurse"
    assert principal.role == "professional"
    assert principal.beneficiary == "b-1"
    assert principal.claims["iss"] == ISSUER


def test_audience_as_a_single_string_is_accepted(verifier, key):
    principal = verifier.verify(tokens.sign(claims(aud="urn:relais:record"), key))
    assert principal.subject == "user-1"


def test_application_at_jwt_typ_is_accepted(verifier, key):
    header = {"alg": "ES256", "kid": "k1", "typ": "application/at+jwt"}
    assert verifier.verify(tokens.sign(claims(), key, header)).subject == "user-1"


def test_token_without_scope_has_no_scopes(verifier, key):
    token_claims = claims()
    del token_claims["scope"]
    assert verifier.verify(tokens.sign(token_claims, key)).scopes == frozenset()


def test_expired_token(verifier, key, clock):
    token = tokens.sign(claims(exp=int(NOW) - 3600, iat=int(NOW) - 4000), key)
    refused(verifier, token, "expired")


def test_expiry_honours_the_leeway_and_no_more(key):
    token = tokens.sign(claims(exp=int(NOW) + 60), key)
    inside = TokenVerifier(
        StaticKeySource(KeySet([key])),
        issuer=ISSUER,
        audience="urn:relais:record",
        leeway_seconds=30,
        clock=Clock(NOW + 60 + 20),
    )
    assert inside.verify(token).subject == "user-1"
    outside = TokenVerifier(
        StaticKeySource(KeySet([key])),
        issuer=ISSUER,
        audience="urn:relais:record",
        leeway_seconds=30,
        clock=Clock(NOW + 60 + 31),
    )
    refused(outside, token, "expired")


def test_not_yet_valid_token(verifier, key):
    refused(verifier, tokens.sign(claims(nbf=int(NOW) + 3600), key))


def test_cached_token_is_refused_once_expired(verifier, key, clock):
    token = tokens.sign(claims(exp=int(NOW) + 60), key)
    assert verifier.verify(token).subject == "user-1"
    clock.now = NOW + 60 + verifier.leeway + 1
    refused(verifier, token, "expired")


def test_wrong_audience(verifier, key):
    refused(
        verifier, tokens.sign(claims(aud=["urn:relais:consent"]), key), "not meant for this service"
    )


def test_missing_audience(verifier, key):
    token_claims = claims()
    del token_claims["aud"]
    refused(verifier, tokens.sign(token_claims, key))


def test_verify_for_checks_the_named_audience(verifier, key):
    token = tokens.sign(claims(aud=["urn:relais:record"]), key)
    assert verifier.verify_for(token, "urn:relais:record").subject == "user-1"
    # Same token, now cached: another audience must still be refused.
    with pytest.raises(InvalidToken):
        verifier.verify_for(token, "urn:relais:audit")


def test_wrong_issuer(verifier, key):
    refused(verifier, tokens.sign(claims(iss="http://evil.example"), key), "issuer")


@pytest.mark.parametrize("claim", ["sub", "jti", "client_id", "exp", "iss"])
def test_missing_required_claim(verifier, key, claim):
    token_claims = claims()
    del token_claims[claim]
    refused(verifier, tokens.sign(token_claims, key))


def test_tampered_payload_keeps_the_old_signature(verifier, key):
    header, payload, signature = tokens.sign(claims(scope="record:read"), key).split(".")
    forged = json.loads(tokens.b64url_decode(payload))
    forged["scope"] = "record:read record:write audit:read"
    refused(verifier, f"{header}.{tokens.b64url_json(forged)}.{signature}", "signature")


def test_one_flipped_character_of_the_payload(verifier, key):
    header, payload, signature = tokens.sign(claims(), key).split(".")
    middle = len(payload) // 2
    flipped = "A" if payload[middle] != "A" else "B"
    tampered = payload[:middle] + flipped + payload[middle + 1 :]
    refused(verifier, f"{header}.{tampered}.{signature}")


def test_one_flipped_character_of_the_signature(verifier, key):
    header, payload, signature = tokens.sign(claims(), key).split(".")
    flipped = "A" if signature[5] != "A" else "B"
    refused(verifier, f"{header}.{payload}.{signature[:5]}{flipped}{signature[6:]}")


def test_alg_none_token(verifier):
    refused(verifier, tokens.unsigned(claims()), "algorithm")


def test_alg_none_with_a_kid(verifier):
    refused(verifier, tokens.unsigned(claims(), {"alg": "none", "kid": "k1", "typ": "at+jwt"}))


def test_hs256_token_signed_with_the_public_key_as_secret(verifier, key):
    header = {"alg": "HS256", "kid": "k1", "typ": "at+jwt"}
    for secret in (key.as_pem(private=False), json.dumps(key.as_dict(private=False)).encode()):
        refused(verifier, tokens.sign_hs256_raw(header, claims(), secret), "algorithm")


def test_token_signed_by_a_key_not_in_the_key_set(verifier):
    stranger = tokens.ec_key("k2")
    refused(
        verifier, tokens.sign(claims(), stranger, {"alg": "ES256", "kid": "k2", "typ": "at+jwt"})
    )


def test_token_signed_by_another_key_claiming_a_known_kid(verifier):
    impostor = tokens.ec_key("k1")
    refused(verifier, tokens.sign(claims(), impostor), "signature")


def test_token_without_kid_is_checked_against_the_key_set(verifier, key):
    header = {"alg": "ES256", "typ": "at+jwt"}
    refused(verifier, tokens.sign(claims(), tokens.ec_key("k9"), header))


@pytest.mark.parametrize("typ", ["JWT", "jwt", "id+jwt", "", None])
def test_typ_that_is_not_an_access_token(verifier, key, typ):
    header = {"alg": "ES256", "kid": "k1"}
    if typ is not None:
        header["typ"] = typ
    refused(verifier, tokens.sign_es256_raw(header, claims(), key), "access token")


@pytest.mark.parametrize("typ", [1, ["at+jwt"], {"t": "at+jwt"}, True])
def test_typ_that_is_not_a_string_is_refused_as_invalid(verifier, key, typ):
    # The header is read before any signature is checked: anyone can send such a token.
    token = tokens.sign_es256_raw({"alg": "ES256", "kid": "k1", "typ": typ}, claims(), key)
    refused(verifier, token)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "abc",
        "a.b",
        "a.b.c",
        "...",
        "a.b.c.d",
        "eyJ.eyJ.sig",
        "é.é.é",
        "x" * 5000 + ".y.z",
        tokens.b64url(b"[1]") + ".e30.sig",
        tokens.b64url(b"not json") + ".e30.sig",
    ],
)
def test_garbage_strings(verifier, garbage):
    refused(verifier, garbage)


def test_header_that_is_a_json_array(verifier, key):
    refused(verifier, tokens.sign_es256_raw(["ES256"], claims(), key))


def test_principal_is_cached_and_the_key_source_not_asked_again(key, clock):
    keys = CountingKeys(KeySet([key]))
    verifier = TokenVerifier(keys, issuer=ISSUER, audience="urn:relais:record", clock=clock)
    token = tokens.sign(claims(), key)
    first = verifier.verify(token)
    assert keys.calls == 1
    second = verifier.verify(token)
    assert keys.calls == 1
    assert second == first
    verifier.verify(tokens.sign(claims(), key))
    assert keys.calls == 2


def test_a_refused_token_is_not_cached(key, clock):
    keys = CountingKeys(KeySet([key]))
    verifier = TokenVerifier(keys, issuer=ISSUER, audience="urn:relais:record", clock=clock)
    token = tokens.sign(claims(iss="http://evil.example"), key)
    refused(verifier, token)
    refused(verifier, token)
    assert keys.calls == 2


def test_cache_size_is_bounded(key, clock):
    keys = CountingKeys(KeySet([key]))
    verifier = TokenVerifier(
        keys, issuer=ISSUER, audience="urn:relais:record", clock=clock, cache_size=2
    )
    first, second, third = (tokens.sign(claims(), key) for _ in range(3))
    for token in (first, second, third):
        verifier.verify(token)
    assert keys.calls == 3
    verifier.verify(third)
    assert keys.calls == 3  # still cached
    verifier.verify(first)
    assert keys.calls == 4  # evicted, verified again


def test_static_key_source_accepts_a_callable(key, clock):
    verifier = TokenVerifier(
        StaticKeySource(lambda: KeySet([key])),
        issuer=ISSUER,
        audience="urn:relais:record",
        clock=clock,
    )
    assert verifier.verify(tokens.sign(claims(), key)).subject == "user-1"


def test_joserfc_encode_used_directly_is_accepted(verifier, key):
    # The same call the gateway makes: header and claims straight into joserfc.
    token = jwt.encode({"alg": "ES256", "kid": "k1", "typ": "at+jwt"}, claims(), key)
    assert verifier.verify(token).client_id == "web"


def test_ed25519_token_is_accepted(clock):
    okp = jwk.OKPKey.generate_key("Ed25519", parameters={"kid": "ed1"})
    verifier = TokenVerifier(
        StaticKeySource(KeySet([okp])), issuer=ISSUER, audience="urn:relais:record", clock=clock
    )
    header = {"alg": ALLOWED_ALGORITHMS[1], "kid": "ed1", "typ": "at+jwt"}
    assert (
        verifier.verify(jwt.encode(header, claims(), okp, algorithms=[header["alg"]])).subject
        == "user-1"
    )


def test_only_the_injected_clock_is_read():
    key = tokens.ec_key("k1")
    token = tokens.sign(claims(), key)
    assert time.time() > NOW + 300  # by the wall clock this token expired long ago
    verifier = TokenVerifier(
        StaticKeySource(KeySet([key])),
        issuer=ISSUER,
        audience="urn:relais:record",
        clock=Clock(NOW),
    )
    assert verifier.verify(token).subject == "user-1"
