"""When failed sign-ins lock an account or an address, and for how long (exponential back-off)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    base_seconds: float = 30.0
    max_seconds: float = 900.0

    def lock_seconds(self, failures: int) -> float:
        """How long to lock after ``failures`` consecutive failures (0 = not locked)."""
        if failures < self.max_failures:
            return 0.0
        return min(self.max_seconds, self.base_seconds * 2 ** (failures - self.max_failures))
