"""The professionals' pages (case managers first): the caseload, a person's page with its
summary and timeline, logging a contact, steps, discharges and their exit protocol,
registering a person with their consent, and redeeming a share code. Every change goes through
the record or consent API with the professional's own token."""

from services.gateway.web.work import caseload, person_page, registration, steps, transitions  # noqa: F401
from services.gateway.web.work.blueprint import bp

__all__ = ["bp"]
