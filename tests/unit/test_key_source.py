"""The JWKS a service fetches from the gateway: a call never waits on the gateway for a key the
service already knows, a new key is picked up before it signs, a withdrawn one stops being
trusted, and an unreachable gateway leaves the keys in hand. The gateway is played by a real
HTTP server on a local port, which can hold its answer until the test lets it go."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from joserfc.jwk import KeySet

from shared.auth import InvalidToken, KeySource, TokenVerifier
from shared.config import load_settings
from shared.runtime import ServiceRuntime
from tests.unit import tokens

ISSUER = "http://issuer.test"
# Long enough for anything that is not stuck; a call that waits on the held answer never ends
# before it (the source's own timeout is longer still).
PATIENCE = 10.0


class Issuer:
    """A JWKS endpoint that counts its requests and can hold its answers."""

    def __init__(self, *keys) -> None:
        self.keys = list(keys)
        self.requests = 0
        self.failing = False
        self.hold: threading.Event | None = None
        self.arrived = threading.Event()
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                issuer.requests += 1
                issuer.arrived.set()
                if issuer.hold is not None:
                    issuer.hold.wait(3 * PATIENCE)
                if issuer.failing:
                    self.send_response(503)
                    self.end_headers()
                    return
                body = json.dumps(KeySet(issuer.keys).as_dict(private=False)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def k1():
    return tokens.ec_key("k1")


@pytest.fixture
def k2():
    return tokens.ec_key("k2")


@pytest.fixture
def issuer(k1):
    issuer = Issuer(k1)
    yield issuer
    issuer.close()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def source(issuer, clock):
    return KeySource(issuer.url, clock=clock, timeout=3 * PATIENCE)


def kids(key_set: KeySet) -> set[str]:
    return {key.kid for key in key_set.keys}


def eventually(condition) -> bool:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def in_a_thread(call):
    """Run ``call`` on a thread; its result, or the thread still running after PATIENCE."""
    result: dict[str, object] = {}
    thread = threading.Thread(target=lambda: result.update(value=call()), daemon=True)
    thread.start()
    thread.join(PATIENCE)
    return thread.is_alive(), result.get("value")


def test_the_first_call_fetches_the_keys_and_a_token_verifies(issuer, k1):
    verifier = TokenVerifier(KeySource(issuer.url), issuer=ISSUER, audience=tokens.AUDIENCE)
    principal = verifier.verify(tokens.sign(tokens.claims_for(ISSUER), k1))
    assert principal.subject == "user-1"
    assert issuer.requests == 1


def test_a_known_key_is_answered_while_the_refresh_waits_on_the_gateway(issuer, source, clock):
    assert kids(source.key_set("k1")) == {"k1"}
    issuer.hold, issuer.arrived = threading.Event(), threading.Event()
    clock.now += source.refresh_seconds + 1
    still_running, answer = in_a_thread(lambda: source.key_set("k1"))
    assert not still_running, "the call waited for the gateway's answer"
    assert kids(answer) == {"k1"}
    assert issuer.arrived.wait(PATIENCE), "no refresh reached the gateway"
    # More calls while the refresh is held: answered at once, and no second fetch.
    for _ in range(20):
        assert kids(source.key_set("k1")) == {"k1"}
    assert issuer.requests == 2
    issuer.hold.set()
    assert eventually(lambda: not source._refreshing)
    assert issuer.requests == 2


def test_a_key_published_before_it_signs_is_known_when_its_tokens_arrive(issuer, source, clock, k1, k2):
    verifier = TokenVerifier(source, issuer=ISSUER, audience=tokens.AUDIENCE)
    verifier.verify(tokens.sign(tokens.claims_for(ISSUER), k1))
    issuer.keys = [k1, k2]  # rotation: the new key is published, the old one still trusted
    clock.now += source.refresh_seconds + 1
    verifier.verify(tokens.sign(tokens.claims_for(ISSUER), k1))  # starts the refresh
    assert eventually(lambda: kids(source.key_set(None)) == {"k1", "k2"})
    assert issuer.requests == 2
    new_token = tokens.sign(tokens.claims_for(ISSUER), k2, {**tokens.HEADER, "kid": "k2"})
    assert verifier.verify(new_token).subject == "user-1"
    assert issuer.requests == 2  # known already: nothing fetched inside the call


def test_a_withdrawn_key_is_no_longer_trusted_after_the_refresh(issuer, source, clock, k1, k2):
    verifier = TokenVerifier(source, issuer=ISSUER, audience=tokens.AUDIENCE, cache_size=0)
    old_token = tokens.sign(tokens.claims_for(ISSUER), k1)
    verifier.verify(old_token)
    issuer.keys = [k2]
    clock.now += source.refresh_seconds + 1
    source.key_set("k1")
    assert eventually(lambda: kids(source.key_set(None)) == {"k2"})
    with pytest.raises(InvalidToken) as refused:
        verifier.verify(old_token)
    assert refused.value.status == 401


def test_an_unknown_key_id_is_fetched_in_the_call_at_most_every_min_refresh(issuer, source, clock, k1, k2):
    source.key_set("k1")
    assert issuer.requests == 1
    assert kids(source.key_set("k9")) == {"k1"}  # fetched a moment ago: not again
    assert issuer.requests == 1
    issuer.keys = [k1, k2]
    clock.now += source.min_refresh_seconds + 1
    assert kids(source.key_set("k2")) == {"k1", "k2"}  # fetched inside the call
    assert issuer.requests == 2
    for _ in range(5):
        source.key_set("k9")
    assert issuer.requests == 2


def test_the_keys_in_hand_are_kept_while_the_gateway_cannot_answer(issuer, source, clock):
    source.key_set("k1")
    issuer.failing = True
    clock.now += source.refresh_seconds + 1
    assert kids(source.key_set("k1")) == {"k1"}
    assert eventually(lambda: issuer.requests == 2 and not source._refreshing)
    assert kids(source.key_set("k1")) == {"k1"}


def test_without_any_key_set_the_call_is_refused_as_an_invalid_token(issuer, clock):
    issuer.failing = True
    source = KeySource(issuer.url, clock=clock)
    with pytest.raises(InvalidToken) as refused:
        source.key_set("k1")
    assert refused.value.status == 401
    assert "cannot be fetched" in refused.value.detail
    issuer.failing = False
    assert kids(source.key_set("k1")) == {"k1"}  # no keys yet: tried again at once


def test_a_service_fetches_the_keys_as_it_starts(issuer, tmp_path):
    settings = load_settings("record", {"RELAIS_VAR_DIR": str(tmp_path), "RELAIS_JWKS_URL": issuer.url})
    runtime = ServiceRuntime(settings=settings, engine=None, sessions=None, read_sessions=None,  # type: ignore[arg-type]
                             outbox_table=None, processed_table=None, outbox=None)
    verifier = runtime.verifier()
    assert issuer.arrived.wait(PATIENCE), "nothing was fetched before the first call"
    assert eventually(lambda: verifier.keys._held is not None)
    assert issuer.requests == 1


def test_a_service_started_before_the_gateway_has_the_keys_once_the_gateway_answers(issuer, clock):
    issuer.failing = True
    source = KeySource(issuer.url, clock=clock, retry_seconds=0.02)
    source.refresh_in_background()
    assert eventually(lambda: issuer.requests >= 3), "the fetch was not tried again"
    assert source._held is None
    issuer.failing = False
    assert eventually(lambda: source._held is not None and not source._refreshing)
    asked = issuer.requests
    assert kids(source.key_set("k1")) == {"k1"}
    assert issuer.requests == asked  # in hand before the first call
