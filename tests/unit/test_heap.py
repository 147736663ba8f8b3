"""A process freezes what it made to start, once ready (shared/heap.py): the service workers
here; gunicorn's workers in tests/integration/test_gunicorn_heap.py, through a real server."""

from __future__ import annotations

import gc
import signal
import weakref

import pytest

from shared.heap import settle


@pytest.fixture(autouse=True)
def _unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _lost_cycle() -> weakref.ref:
    first, second = _Node(), _Node()
    first.other, second.other = second, first
    return weakref.ref(first)


def test_settle_collects_the_garbage_then_freezes_the_rest():
    kept = _Node()
    kept.other = kept
    lost = _lost_cycle()
    tracked = len(gc.get_objects())

    frozen = settle()

    assert lost() is None  # the unreachable cycle was collected, not frozen
    assert frozen == gc.get_freeze_count() > tracked // 2
    assert not any(obj is kept for obj in gc.get_objects())  # frozen: no collection walks it
    later = _lost_cycle()
    gc.collect()
    assert later() is None


def test_a_service_worker_freezes_before_its_parts_start():
    from shared.bus.worker import run_until_signalled

    seen: list[int] = []

    class Part:
        def run(self) -> None:
            seen.append(gc.get_freeze_count())  # then returns: the worker stops

        def stop(self) -> None:
            pass

    handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        run_until_signalled("record", [Part()])
    finally:
        signal.signal(signal.SIGTERM, handlers[0])
        signal.signal(signal.SIGINT, handlers[1])
    assert seen and seen[0] > 0
