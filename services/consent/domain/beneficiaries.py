"""A beneficiary is a random pseudonymous id; identity, when given, lives only here, encrypted."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class Beneficiary:
    registered_by_organisation: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    registered_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    anonymous: bool = True
