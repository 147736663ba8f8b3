"""An audit database for tests: migrated (so the append-only triggers are there), events made
like every service makes them, batches appended as the consumer appends them, and the ways an
intruder with database rights would tamper with the log."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from services.audit import handlers
from services.audit.adapters import signing_key
from services.audit.adapters.orm import LOG_TABLES
from services.audit.domain.persons import PersonIndex
from services.audit.settings import AuditSettings
from shared.bus.envelope import Envelope
from shared.db.engine import make_engine
from shared.db.migrations import upgrade

ORIGIN = "relais.test/audit"


def settings_for(tmp: Path, **overrides: Any) -> AuditSettings:
    values: dict[str, Any] = {
        "origin": ORIGIN,
        "checkpoint_every": 1000,
        "checkpoint_seconds": 3600.0,
        "key_dir": tmp / "audit-keys",
        "no_contact_days": 90,
        "burst_persons": 20,
        "burst_minutes": 10,
    }
    values.update(overrides)
    return AuditSettings(**values)


def migrated(url: str) -> Engine:
    upgrade("audit", url)
    return make_engine(url)


def payload(
    person: str | None = None,
    *,
    action: str = "contact.log",
    crude: str = "C",
    organisation: str = "org-cpas-1",
    subject: str = "pro-1",
    outcome: str = "permit",
    purpose: str = "care_coordination",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "actor": {"subject": subject, "role": "professional", "organisation": organisation,
                  "profession": "social_worker", "client_id": "rc_1", "token_id": str(uuid.uuid4())},
        "action": action,
        "crude": crude,
        "beneficiary_id": person,
        "categories": ["contacts"],
        "entry_ids": [str(uuid.uuid4())],
        "purpose": purpose,
        "outcome": outcome,
        "reason": None,
        "service": "record",
        "request_id": f"req-{uuid.uuid4().hex[:12]}",
        **extra,
    }


def envelope(sequence: int | None, person: str | None = None, *, producer: str = "record",
             **fields: Any) -> Envelope:
    return Envelope(type="audit.access_recorded", producer=producer, payload=payload(person, **fields),
                    sequence=sequence, correlation_id=None)


def ingest(engine: Engine, settings: AuditSettings, envelopes: list[Envelope],
           now: datetime | None = None, index: PersonIndex | None = None) -> None:
    """One consumer batch: the handler per event, then the batch hook, in one transaction."""
    with Session(engine) as session, session.begin():
        for item in envelopes:
            handlers.ingest(session, item)
        handlers.integrate(session, settings, now or datetime.now(UTC), index)


def checkpoint(engine: Engine, settings: AuditSettings) -> str | None:
    with Session(engine) as session, session.begin():
        return handlers.checkpoint_now(session, settings)


def public_key(settings: AuditSettings):
    return signing_key.signing_key(settings.key_dir).public_key()


def rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        result = connection.execute(text("SELECT * FROM audit_log ORDER BY leaf_index"))
        return [dict(r._mapping) for r in result]


# -- tampering, as someone with rights on the database would ----------------------------------
def lift_protection(engine: Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            for table in LOG_TABLES:
                connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            for table in LOG_TABLES:
                for action in ("update", "delete"):
                    connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{action}"))


def alter(engine: Engine, index: int, field: str, value: Any) -> None:
    with engine.begin() as connection:
        canonical = connection.execute(
            text("SELECT canonical FROM audit_log WHERE leaf_index = :i"), {"i": index}
        ).scalar_one()
        head, _, tail = canonical.partition(',"prev":"')
        document = json.loads(canonical)
        document[field] = value
        # Keep the canonical shape so only the content differs.
        rest = json.dumps({k: v for k, v in document.items() if k not in ("index", "prev")},
                          sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        forged = f'{head},"prev":"{document["prev"]}",{rest[1:]}'
        connection.execute(text("UPDATE audit_log SET canonical = :c WHERE leaf_index = :i"),
                           {"c": forged, "i": index})


def delete(engine: Engine, index: int) -> None:
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE leaf_index = :i"), {"i": index})


def swap(engine: Engine, first: int, second: int) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET leaf_index = -1 WHERE leaf_index = :a"), {"a": first})
        connection.execute(text("UPDATE audit_log SET leaf_index = :a WHERE leaf_index = :b"),
                           {"a": first, "b": second})
        connection.execute(text("UPDATE audit_log SET leaf_index = :b WHERE leaf_index = -1"), {"b": second})


def insert_after(engine: Engine, index: int) -> None:
    """Shift every later entry up by one and slip a forged entry in at ``index + 1``, with the
    index and ``prev`` it would have had if it were genuine."""
    with engine.begin() as connection:
        last = connection.execute(text("SELECT max(leaf_index) FROM audit_log")).scalar_one()
        for i in range(last, index, -1):
            connection.execute(text("UPDATE audit_log SET leaf_index = :n WHERE leaf_index = :i"),
                               {"n": i + 1, "i": i})
        row = connection.execute(text("SELECT * FROM audit_log WHERE leaf_index = :i"), {"i": index}).one()
        values = dict(row._mapping)
        document = json.loads(values["canonical"])
        document.update(event_id=str(uuid.uuid4()), action="timeline.read", request_id="forged")
        rest = json.dumps({k: v for k, v in document.items() if k not in ("index", "prev")},
                          sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        prev = bytes(values["leaf_hash"]).hex()
        values.pop("id")
        values.update(event_id=document["event_id"], leaf_index=index + 1, leaf_hash=None,
                      canonical=f'{{"index":{index + 1},"prev":"{prev}",{rest[1:]}')
        columns = ", ".join(values)
        connection.execute(text(f"INSERT INTO audit_log ({columns}) VALUES ({', '.join(':' + k for k in values)})"),
                           values)
