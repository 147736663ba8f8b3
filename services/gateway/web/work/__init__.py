"""The professionals' pages (case managers first): the caseload, a person's page with its
summary and timeline, logging a contact, steps, discharges and their exit protocol,
registering a person with their consent, redeeming a share code, and the alerts inbox. Every change goes through
the record or consent API with the professional's own token."""

from services.gateway.web.work import (  # noqa: F401 - each module adds its pages to the blueprint
    alerts,
    caseload,
    person_page,
    registration,
    steps,
    transitions,
)
from services.gateway.web.work.blueprint import bp

__all__ = ["bp"]
