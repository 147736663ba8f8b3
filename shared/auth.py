"""The one JWT verifier of Relais: every service checks every token again.

Tokens are RFC 9068 access tokens signed by the gateway with asymmetric keys published in its
JWKS. The verifier accepts only the algorithms in ``ALLOWED_ALGORITHMS`` (no ``none``, no HMAC,
so a public key can never be used as a shared secret), checks issuer, audience, expiry and
not-before, and keeps verified tokens in a small cache until they expire.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

import requests
from flask import g, request
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from shared.web.problems import Problem

ALLOWED_ALGORITHMS = ("ES256", "Ed25519")


def audience_of(service: str) -> str:
    """The audience identifier of a service (a resource server in OAuth terms)."""
    return f"urn:relais:{service}"


class InvalidToken(Problem):
    status = 401
    slug = "invalid-token"
    title = "The access token is missing, invalid or expired"

    def __init__(self, detail: str) -> None:
        super().__init__(
            detail,
            headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{detail}"'},
        )


class InsufficientScope(Problem):
    status = 403
    slug = "insufficient-scope"
    title = "The access token does not carry the scope this action needs"

    def __init__(self, scope: str) -> None:
        super().__init__(
            f"This action needs the scope {scope!r}.",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
        )


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the token says."""

    subject: str
    client_id: str
    scopes: frozenset[str]
    token_id: str
    role: str | None = None
    organisation: str | None = None
    profession: str | None = None
    beneficiary: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False)


class KeySource:
    """The issuer's JWKS, fetched over HTTP and kept.

    A call never waits on the issuer for a key it already knows. Once the key set in hand is older
    than ``refresh_seconds`` it is fetched again on a thread of its own, and the set in hand goes
    on being used meanwhile: the gateway's threads may all be waiting on calls they forwarded to
    this service, and a fetch made inside one of those calls would wait for a gateway thread, so
    both would stall until the fetch timed out. The refresh comes sooner than the 60 s after which
    the gateway signs with a key it has published, so a new key is known here before any token
    signed with it arrives, and a key the gateway withdrew is no longer trusted within about
    ``refresh_seconds``. Only an unknown key id (or no key set yet) is fetched inside the call, at
    most every ``min_refresh_seconds``. When the issuer cannot be reached the keys in hand are
    kept; with none in hand, the background fetch tries again after ``retry_seconds``, then
    twice as long each time up to ``refresh_seconds``, until it has some."""

    def __init__(
        self,
        jwks_url: str,
        *,
        min_refresh_seconds: float = 10.0,
        refresh_seconds: float = 30.0,
        timeout: float = 3.0,
        retry_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.jwks_url = jwks_url
        self.retry_seconds = retry_seconds
        self.min_refresh_seconds = min_refresh_seconds
        self.refresh_seconds = refresh_seconds
        self.timeout = timeout
        self.clock = clock
        # The key set and its key ids, replaced together (one reference, read without the lock).
        self._held: tuple[KeySet, frozenset[str | None]] | None = None
        self._fetched_at = 0.0  # when the last fetch ended, whether or not it succeeded
        self._lock = threading.Lock()  # held by whoever fetches
        self._refreshing = False
        self._flag = threading.Lock()
        self._http = requests.Session()

    def key_set(self, kid: str | None) -> KeySet:
        held = self._held
        if held is not None and (kid is None or kid in held[1]):
            if self.clock() - self._fetched_at > self.refresh_seconds:
                self.refresh_in_background()
            return held[0]
        with self._lock:
            held = self._held
            known = held is not None and (kid is None or kid in held[1])
            if not known and (held is None or self.clock() - self._fetched_at > self.min_refresh_seconds):
                self._refresh()
                held = self._held
            if held is None:
                raise InvalidToken("The signing keys cannot be fetched.")
            return held[0]

    def refresh_in_background(self) -> None:
        """Fetch the key set again on a thread of its own, unless a fetch is under way."""
        with self._flag:
            if self._refreshing:
                return
            self._refreshing = True
        threading.Thread(target=self._refresh_and_clear, name="relais-jwks", daemon=True).start()

    def _refresh_and_clear(self) -> None:
        try:
            with self._lock:
                self._refresh()
            # No key set at all yet (the service started before the gateway): try again until
            # there is one, so that it is in hand before the gateway forwards the first calls.
            pause = self.retry_seconds
            while self._held is None:
                time.sleep(pause)
                pause = min(2 * pause, self.refresh_seconds)
                with self._lock:
                    if self._held is None:
                        self._refresh()
        finally:
            with self._flag:
                self._refreshing = False

    def _refresh(self) -> None:
        try:
            response = self._http.get(self.jwks_url, timeout=self.timeout)
            response.raise_for_status()
            keys = KeySet.import_key_set(response.json())
            self._held = (keys, frozenset(key.kid for key in keys.keys))
        except (requests.RequestException, ValueError, TypeError, KeyError, JoseError):
            pass
        self._fetched_at = self.clock()


class StaticKeySource:
    """A fixed key set (tests, and the gateway verifying its own tokens)."""

    def __init__(self, keys: KeySet | Callable[[], KeySet]) -> None:
        self._keys = keys

    def key_set(self, kid: str | None) -> KeySet:
        return self._keys() if callable(self._keys) else self._keys


class TokenVerifier:
    def __init__(
        self,
        keys: KeySource | StaticKeySource,
        *,
        issuer: str,
        audience: str,
        leeway_seconds: int = 30,
        cache_size: int = 10_000,
        cache_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway_seconds
        self.clock = clock
        self._cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._cache_size = cache_size
        # A verified token is trusted again without checking its signature for at most this
        # long, so a key withdrawn from the JWKS stops being honoured soon after.
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()

    def verify(self, token: str) -> Principal:
        """Verify a token meant for this verifier's own audience."""
        return self.verify_for(token, self.audience)

    def verify_for(self, token: str, audience: str) -> Principal:
        """Verify a token and check that ``audience`` is one of its audiences."""
        principal = self.inspect(token)
        audiences = principal.claims.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else list(audiences or [])
        if audience not in audiences:
            raise InvalidToken("The token is not meant for this service.")
        return principal

    def inspect(self, token: str) -> Principal:
        """Verify everything but the audience (the issuer looking at its own tokens)."""
        now = self.clock()
        with self._lock:
            hit = self._cache.get(token)
            if hit is not None and hit[0] > now:
                self._cache.move_to_end(token)
                principal = hit[1]
            else:
                hit = None
        if hit is None:
            principal, expires_at = self._verify(token, now)
            with self._lock:
                self._cache[token] = (min(expires_at + self.leeway, now + self._cache_seconds), principal)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return principal

    def _verify(self, token: str, now: float) -> tuple[Principal, float]:
        if not token or token.count(".") != 2:
            raise InvalidToken("The token is not a JWT.")
        try:
            header = jws.extract_compact(token.encode()).headers()
        except (JoseError, ValueError):
            raise InvalidToken("The token is malformed.") from None
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise InvalidToken("The token's algorithm is not accepted.")
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in ("at+jwt", "application/at+jwt"):
            raise InvalidToken("The token is not an access token.")
        key_set = self.keys.key_set(header.get("kid"))
        try:
            decoded = jwt.decode(token, key_set, algorithms=list(ALLOWED_ALGORITHMS))
        except (JoseError, ValueError):
            raise InvalidToken("The token's signature is not valid.") from None
        claims = decoded.claims
        registry = jwt.JWTClaimsRegistry(
            now=int(now),
            leeway=self.leeway,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True},
            exp={"essential": True},
            sub={"essential": True},
            jti={"essential": True},
            client_id={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise InvalidToken(_describe_claim_error(exc)) from None
        scopes = frozenset(str(claims.get("scope", "")).split())
        principal = Principal(
            subject=str(claims["sub"]),
            client_id=str(claims["client_id"]),
            scopes=scopes,
            token_id=str(claims["jti"]),
            role=claims.get("role"),
            organisation=claims.get("org"),
            profession=claims.get("profession"),
            beneficiary=claims.get("beneficiary"),
            claims=dict(claims),
        )
        return principal, float(claims["exp"])


def _describe_claim_error(exc: JoseError) -> str:
    name = type(exc).__name__
    if "Expired" in name:
        return "The token has expired."
    if "InvalidClaim" in name and "aud" in str(exc):
        return "The token is not meant for this service."
    if "InvalidClaim" in name and "iss" in str(exc):
        return "The token was not issued by this issuer."
    if "Missing" in name:
        return "The token lacks a required claim."
    return "The token's claims are not valid."


def bearer_from(header: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; refused when there is none."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise InvalidToken("Send an access token as 'Authorization: Bearer <token>'.")
    return value.strip()


def authorize(verifier: TokenVerifier, header: str, scopes: Iterable[str]) -> Principal:
    """The principal of an ``Authorization`` header whose token is valid and carries every one
    of ``scopes``."""
    principal = verifier.verify(bearer_from(header))
    for scope in scopes:
        if scope not in principal.scopes:
            raise InsufficientScope(scope)
    return principal


def require_scope(*scopes: str) -> Callable:
    """Decorator for a view: a valid token carrying every one of ``scopes``; sets g.principal."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            from flask import current_app

            verifier: TokenVerifier = current_app.extensions["relais.verifier"]
            g.principal = authorize(verifier, request.headers.get("Authorization", ""), scopes)
            return view(*args, **kwargs)

        wrapper._relais_scopes = scopes  # type: ignore[attr-defined]
        return wrapper

    return decorate


def scopes_of(view: Callable) -> Iterable[str]:
    return getattr(view, "_relais_scopes", ())
