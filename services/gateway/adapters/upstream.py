"""The services behind the door, reached with libcurl (pycurl): each gateway thread has a handle
of its own, which keeps its connections to the services open from one request to the next.

libcurl parses the answer in C, and waits for it without holding the interpreter; the door's own
share of a forwarded request is then setting a dozen options and splitting the answer's header
lines. It is told to add nothing of its own to what the door forwards (no Accept, Content-Type
or Expect header of its choosing), to leave the path as it is, to use no proxy from the
environment, to speak HTTP only, and to follow no redirect."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pycurl

from shared.web.problems import Problem

# Headers libcurl would add when the request has none of its own (its User-Agent names its
# version and its libraries): an empty value tells it not to.
_SUPPRESSED = ("Accept", "Content-Type", "Expect", "User-Agent")
_UNREACHABLE = frozenset({pycurl.E_COULDNT_CONNECT, pycurl.E_COULDNT_RESOLVE_HOST})


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class Unreachable(Problem):
    status = 503

    def __init__(self, service: str) -> None:
        super().__init__(f"The {service} service cannot be reached; try again shortly.",
                         headers={"Retry-After": "5"})


class TimedOut(Problem):
    status = 504

    def __init__(self, service: str) -> None:
        super().__init__(f"The {service} service did not answer in time.")


class Garbled(Problem):
    status = 502

    def __init__(self, service: str) -> None:
        super().__init__(f"The {service} service answered in a way the gateway cannot pass on.")


class Upstreams:
    """``call`` one of the services named in ``urls`` (service -> base URL, no trailing slash);
    a call gets ``timeout`` seconds in all, of which at most ``connect_timeout`` to connect."""

    def __init__(self, urls: dict[str, str], *, timeout: float, connect_timeout: float = 3.0) -> None:
        self.urls = dict(urls)
        self._total_ms = max(1, int(timeout * 1000))
        self._connect_ms = min(self._total_ms, int(connect_timeout * 1000))
        self._local = threading.local()

    def knows(self, service: str) -> bool:
        return service in self.urls

    def _handle(self) -> pycurl.Curl:
        handle = getattr(self._local, "handle", None)
        if handle is None:
            handle = self._local.handle = pycurl.Curl()
        return handle

    def call(self, service: str, method: str, path: str, headers: dict[str, str], body: bytes | None) -> Answer:
        """``path`` begins with ``/`` and may carry a query string."""
        handle = self._handle()
        handle.reset()  # what the last request set; its connections stay open
        lines: list[bytes] = []
        chunks: list[bytes] = []
        handle.setopt(pycurl.URL, self.urls[service] + path)
        handle.setopt(pycurl.NOSIGNAL, 1)
        handle.setopt(pycurl.PROXY, "")
        handle.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        handle.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)
        handle.setopt(pycurl.PATH_AS_IS, 1)  # "/../" goes on as sent: the service judges it
        handle.setopt(pycurl.CONNECTTIMEOUT_MS, self._connect_ms)
        handle.setopt(pycurl.TIMEOUT_MS, self._total_ms)
        # Header values come as the server read them, bytes as latin-1; they go on as those bytes.
        handle.setopt(pycurl.HTTPHEADER, [f"{name}: {value}".encode("latin-1") for name, value in headers.items()]
                      + [f"{name}:".encode() for name in _SUPPRESSED if name not in headers])
        if body is not None:
            handle.setopt(pycurl.POSTFIELDSIZE, len(body))
            handle.setopt(pycurl.POSTFIELDS, body)
        if method == "HEAD":
            handle.setopt(pycurl.NOBODY, 1)  # the answer says how long a body would be; none comes
        elif method != "GET" or body is not None:
            handle.setopt(pycurl.CUSTOMREQUEST, method)
        handle.setopt(pycurl.HEADERFUNCTION, lines.append)
        handle.setopt(pycurl.WRITEFUNCTION, chunks.append)
        try:
            handle.perform()
        except pycurl.error as error:
            code = error.args[0]
            sent = handle.getinfo(pycurl.REQUEST_SIZE)  # 0: the request never left
            if code in _UNREACHABLE or (code == pycurl.E_OPERATION_TIMEDOUT and not sent):
                raise Unreachable(service) from None
            if code == pycurl.E_OPERATION_TIMEDOUT:
                raise TimedOut(service) from None
            raise Garbled(service) from None
        return Answer(handle.getinfo(pycurl.RESPONSE_CODE), _final_headers(lines), b"".join(chunks))


def _final_headers(lines: list[bytes]) -> list[tuple[str, str]]:
    """The header fields of the last answer among the lines libcurl saw (an interim ``100
    Continue`` comes first, with its own status line)."""
    fields: list[tuple[str, str]] = []
    for raw in lines:
        line = raw.decode("latin-1").rstrip("\r\n")
        if line.startswith("HTTP/"):
            fields = []
        elif ":" in line:
            name, _, value = line.partition(":")
            fields.append((name.strip(), value.strip()))
    return fields
