"""One function per command of the consent service, grouped by subject."""

from services.consent.handlers.common import (
    ConsentContext,
    Enforcement,
    Forbidden,
    NotVisible,
    TooManyAttempts,
)

__all__ = ["ConsentContext", "Enforcement", "Forbidden", "NotVisible", "TooManyAttempts"]
