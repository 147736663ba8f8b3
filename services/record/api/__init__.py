"""The record service's HTTP API."""

from services.record.api import journey, reading, vocabularies

blueprints = [journey.blp, reading.blp, reading.caseload, reading.own, vocabularies.blp]

__all__ = ["blueprints"]
