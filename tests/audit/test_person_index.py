"""The appender's own copy of the person heads: checkpoints made with it are the ones made by
reading every head from the database, including when someone else moved the log meanwhile or
a batch was rolled back after it was placed in the copy."""

from __future__ import annotations

import random
import uuid

import pytest
from sqlalchemy.orm import Session

from services.audit import handlers, reports
from services.audit.adapters.repository import AuditLogRepository
from services.audit.domain import checkpoints, persons
from services.audit.domain.persons import PersonHead, PersonIndex
from tests.support import audit_log as support


@pytest.fixture
def settings(tmp_path):
    return support.settings_for(tmp_path, checkpoint_every=25)


@pytest.fixture
def engine(tmp_path):
    engine = support.migrated(f"sqlite:///{tmp_path / 'audit.db'}")
    yield engine
    engine.dispose()


def test_the_index_root_is_the_root_of_the_heads_sorted_by_id():
    rng = random.Random(7)
    ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(50)] + ["Z-1", "a-1", "é", "_"]
    heads = {i: PersonHead(i, 1, n, bytes([n % 256]) * 32) for n, i in enumerate(ids)}
    index = PersonIndex()
    index.load(3, b"x" * 32, list(heads.values())[:10])
    changed = {i: heads[i] for i in ids[10:]}
    index.advance((3, b"x" * 32), (9, b"y" * 32), changed)
    assert index.is_at(9, b"y" * 32) and len(index) == len(ids)
    assert index.root() == persons.index_root(persons.by_id(heads.values()))
    moved = PersonHead(ids[0], 2, 99, b"\x07" * 32)
    index.advance((9, b"y" * 32), (10, b"z" * 32), {ids[0]: moved})
    heads[ids[0]] = moved
    assert index.root() == persons.index_root(persons.by_id(heads.values()))
    assert [h.person_id for h in index.sorted_heads()] == sorted(ids)


def test_an_index_that_missed_a_move_of_the_head_is_out_of_date():
    index = PersonIndex()
    index.load(3, b"x" * 32, [])
    index.advance((4, b"w" * 32), (5, b"v" * 32), {})
    assert not index.is_at(5, b"v" * 32) and not index.is_at(3, b"x" * 32)


def _latest(engine, settings):
    with Session(engine) as session:
        note = AuditLogRepository(session).latest_checkpoint()["note"]
    return checkpoints.open_note(note, settings.origin, support.public_key(settings))


def test_checkpoints_made_with_a_kept_index_match_the_database(engine, settings):
    people = [str(uuid.uuid4()) for _ in range(9)]
    kept = PersonIndex()
    n = 0

    def batch(size, **kwargs):
        nonlocal n
        envelopes = [support.envelope(n + i + 1, people[(n + i) % len(people)]) for i in range(size)]
        n += size
        support.ingest(engine, settings, envelopes, **kwargs)

    batch(10, index=kept)
    batch(20, index=kept)  # a checkpoint, from the kept index
    batch(7)  # someone else (the API, another worker) appends: the kept index is out of date
    batch(30, index=kept)  # read again from the database
    with pytest.raises(RuntimeError), Session(engine) as session, session.begin():
        for envelope in [support.envelope(1000 + i, people[i]) for i in range(5)]:
            handlers.ingest(session, envelope)
        handlers.integrate(session, settings, index=kept)  # placed in the index...
        raise RuntimeError("...then rolled back")
    batch(40, index=kept)
    with Session(engine) as session, session.begin():
        handlers.checkpoint_now(session, settings)
    latest = _latest(engine, settings)
    assert latest.size == n
    with Session(engine) as session:
        heads = AuditLogRepository(session).person_heads()
        report = reports.verification_report(session, settings.origin, support.public_key(settings))
    assert (latest.persons, latest.persons_root) == (len(heads), persons.index_root(heads))
    assert report["ok"] and report["persons_index_matches"] is True, report
    with Session(engine) as session:
        sizes = [c["size"] for c in AuditLogRepository(session).checkpoints()]
    assert len(sizes) >= 4  # several of them were made from the kept index
