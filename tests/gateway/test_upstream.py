"""The gateway's client for the services behind it (adapters/upstream.py), against real servers
on real sockets: what reaches the service, and what the door answers when a service fails."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest

from services.gateway.adapters.upstream import Garbled, TimedOut, Unreachable, Upstreams
from tests.support.gateway_upstream import echo_server, raw_server


@pytest.fixture
def echo() -> Iterator[str]:
    with echo_server() as url:
        yield url


def test_what_the_service_receives_is_what_the_door_forwards_and_nothing_more(echo):
    upstreams = Upstreams({"record": echo}, timeout=5)
    answer = upstreams.call("record", "PATCH", "/a%20b/%C3%A9?x=%20y&z=1",
                            {"Authorization": "Bearer t", "Content-Type": "application/json"}, b'{"a": 1}')
    seen = json.loads(answer.body)
    assert answer.status == 200 and ("X-Service", "echo") in answer.headers
    assert seen["method"] == "PATCH" and seen["path"] == "/a b/é" and seen["query"] == "x=%20y&z=1"
    assert seen["body"] == '{"a": 1}'
    assert set(seen["headers"]) == {"Host", "Authorization", "Content-Type", "Content-Length"}


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_call_without_a_body_sends_none(echo, method):
    seen = json.loads(Upstreams({"record": echo}, timeout=5).call("record", method, "/x", {}, None).body)
    assert seen["method"] == method and seen["body"] == ""
    assert set(seen["headers"]) == {"Host"}


def test_the_path_goes_on_as_it_is_dot_segments_included(echo):
    seen = json.loads(Upstreams({"record": echo}, timeout=5).call("record", "GET", "/a/../b/./c", {}, None).body)
    assert seen["path"] == "/a/../b/./c"


def test_a_header_value_beyond_ascii_goes_on_as_its_bytes(echo):
    answer = Upstreams({"record": echo}, timeout=5).call("record", "GET", "/x", {"Accept-Language": "fr-BE,\xe9"}, None)
    assert answer.status == 200 and json.loads(answer.body)["headers"]["Accept-Language"] == "fr-BE,\xe9"


def test_a_head_request_gets_the_headers_and_no_body(echo):
    answer = Upstreams({"record": echo}, timeout=5).call("record", "HEAD", "/x", {}, None)
    assert answer.status == 200 and answer.body == b""
    assert int(dict(answer.headers)["Content-Length"]) > 0


def test_a_proxy_named_in_the_environment_is_not_used(echo, monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:1")
    assert Upstreams({"record": echo}, timeout=5).call("record", "GET", "/x", {}, None).status == 200


def test_a_service_that_listens_nowhere_is_unreachable():
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(Unreachable) as raised:
        Upstreams({"alerts": f"http://127.0.0.1:{port}"}, timeout=2).call("alerts", "GET", "/x", {}, None)
    assert raised.value.status == 503 and "alerts" in raised.value.detail


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\ntoo short",  # closed before the end
    b"this is not HTTP at all\r\n\r\n",
    b"",  # closed without a word
])
def test_a_service_that_answers_garbage_is_a_bad_gateway(answer):
    with raw_server(answer) as url, pytest.raises(Garbled) as raised:
        Upstreams({"audit": url}, timeout=5).call("audit", "GET", "/x", {}, None)
    assert raised.value.status == 502


def test_a_service_that_accepts_and_says_nothing_times_out():
    with raw_server(None, wait=3) as url, pytest.raises(TimedOut) as raised:
        Upstreams({"audit": url}, timeout=0.3).call("audit", "GET", "/x", {}, None)
    assert raised.value.status == 504 and "did not answer in time" in raised.value.detail


def test_threads_call_at_once_each_through_its_own_handle(echo):
    upstreams = Upstreams({"record": echo}, timeout=5)
    answers = []

    def calls() -> None:
        answers.extend(upstreams.call("record", "GET", f"/{i}", {}, None).status for i in range(20))

    threads = [threading.Thread(target=calls) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert answers == [200] * 80
