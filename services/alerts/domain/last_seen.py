"""Last seen: only a contact where the person was met resets the clock; an attempt does not."""

from __future__ import annotations

from datetime import datetime


def moves_last_seen(outcome: str, occurred_at: datetime, current: datetime | None) -> bool:
    """Whether a contact with ``outcome`` at ``occurred_at`` moves the last-seen time forward.
    Events may arrive out of order: an older contact never moves it back."""
    if outcome != "met":
        return False
    return current is None or occurred_at > current
