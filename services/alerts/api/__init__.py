"""The alerts service's HTTP API."""

from services.alerts.api import inbox, organisations, own, people, vocabularies

blueprints = [inbox.blp, people.blp, organisations.blp, organisations.hooks, own.own, own.notices,
              vocabularies.blp]

__all__ = ["blueprints"]
