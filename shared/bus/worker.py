"""Run a service's relay and consumers as threads of one worker process, stopping cleanly."""

from __future__ import annotations

import signal
import threading
from typing import Protocol

from shared.heap import settle
from shared.logs import get_logger

log = get_logger("relais.worker")


class Runnable(Protocol):
    def run(self) -> None: ...
    def stop(self) -> None: ...


def run_until_signalled(service: str, parts: list[Runnable]) -> None:
    """Start every part on its own thread; SIGTERM or SIGINT stops them all and returns. The
    parts are built: what the process made to build them is frozen first (shared/heap.py)."""
    settle()
    stop = threading.Event()

    def _on_signal(signum, _frame):
        log.info("stopping worker", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    threads = []
    for part in parts:
        thread = threading.Thread(target=_guarded(part, stop), name=type(part).__name__, daemon=True)
        thread.start()
        threads.append(thread)
    log.info("worker started", worker=service, parts=[type(p).__name__ for p in parts])
    while not stop.wait(0.5):
        if not all(t.is_alive() for t in threads):
            log.error("a worker part stopped unexpectedly; stopping the worker")
            stop.set()
    for part in parts:
        part.stop()
    for thread in threads:
        thread.join(timeout=10)
    log.info("worker stopped", worker=service)


def _guarded(part: Runnable, stop: threading.Event):
    def target() -> None:
        try:
            part.run()
        except Exception:
            log.exception("worker part crashed", part=type(part).__name__)
            stop.set()

    return target
