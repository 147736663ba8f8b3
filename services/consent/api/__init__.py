"""The consent service's HTTP API."""

from services.consent.api import beneficiaries, decisions, emergency, grants, person

blueprints = [beneficiaries.blp, grants.blp, grants.teams, decisions.blp, emergency.blp, person.blp]

__all__ = ["blueprints"]
