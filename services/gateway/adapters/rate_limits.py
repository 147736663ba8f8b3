"""Request rate limits per key (a client, an address), in memory per process, by the generic
cell rate algorithm: a steady rate with a burst allowance, and an exact Retry-After."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(self, per_minute: int, *, burst: int | None = None, clock: Callable[[], float] = time.monotonic):
        self.enabled = per_minute > 0
        self.interval = 60.0 / per_minute if per_minute > 0 else 0.0
        self.burst = max(1, burst if burst is not None else per_minute // 6)
        self.clock = clock
        self._tat: dict[str, float] = {}  # theoretical arrival time of the next request, per key
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Count one request; returns 0 when allowed, else the seconds to wait."""
        if not self.enabled:
            return 0.0
        now = self.clock()
        tolerance = self.interval * self.burst
        with self._lock:
            allowed_at = max(self._tat.get(key, now), now) + self.interval
            if allowed_at - now > tolerance:
                return allowed_at - now - tolerance
            self._tat[key] = allowed_at
            if len(self._tat) > 100_000:
                self._tat = {k: v for k, v in self._tat.items() if v > now}
            return 0.0
