"""What organisations and référents set: rule overrides and each organisation's coordinator."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from services.alerts.adapters.orm import organisation_settings, rule_overrides
from shared.db.statements import insert_ignoring_duplicates


@dataclass(frozen=True)
class Override:
    level: str
    scope_id: str
    rule: str
    params: dict[str, Any]
    set_by: str
    set_at: datetime


class ConfigStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def overrides(self, level: str, scope_ids: Collection[str]) -> dict[tuple[str, str], Override]:
        """(scope id, rule) -> override, for these organisations or persons."""
        ids = [s for s in scope_ids if s]
        if not ids:
            return {}
        o = rule_overrides.c
        rows = self.session.execute(select(rule_overrides).where(o.level == level, o.scope_id.in_(ids)))
        return {(r.scope_id, r.rule): Override(r.level, r.scope_id, r.rule, json.loads(r.params),
                                               r.set_by, r.set_at) for r in rows}

    def every_override(self, level: str) -> dict[tuple[str, str], Override]:
        """(scope id, rule) -> override, of every organisation (a small table)."""
        rows = self.session.execute(select(rule_overrides).where(rule_overrides.c.level == level))
        return {(r.scope_id, r.rule): Override(r.level, r.scope_id, r.rule, json.loads(r.params),
                                               r.set_by, r.set_at) for r in rows}

    def set_override(self, level: str, scope_id: str, rule: str, params: dict[str, Any], by: str,
                     now: datetime) -> None:
        o = rule_overrides.c
        where = (o.level == level) & (o.scope_id == scope_id) & (o.rule == rule)
        encoded = json.dumps(params, separators=(",", ":"), sort_keys=True)
        self.session.execute(delete(rule_overrides).where(where))
        self.session.execute(rule_overrides.insert().values(
            level=level, scope_id=scope_id, rule=rule, params=encoded, set_by=by, set_at=now))

    def clear_override(self, level: str, scope_id: str, rule: str) -> bool:
        o = rule_overrides.c
        result = self.session.execute(delete(rule_overrides).where(
            o.level == level, o.scope_id == scope_id, o.rule == rule))
        return bool(result.rowcount)

    def coordinator(self, organisation: str | None) -> str | None:
        if not organisation:
            return None
        return self.session.execute(select(organisation_settings.c.coordinator).where(
            organisation_settings.c.organisation == organisation)).scalar()

    def set_coordinator(self, organisation: str, subject: str | None, by: str, now: datetime) -> None:
        self.session.execute(insert_ignoring_duplicates(self.session, organisation_settings, {
            "organisation": organisation, "coordinator": subject, "updated_by": by, "updated_at": now}))
        self.session.execute(update(organisation_settings).where(
            organisation_settings.c.organisation == organisation).values(
            coordinator=subject, updated_by=by, updated_at=now))

    def forget_person(self, beneficiary_id: str) -> None:
        self.session.execute(delete(rule_overrides).where(
            rule_overrides.c.level == "person", rule_overrides.c.scope_id == beneficiary_id))
