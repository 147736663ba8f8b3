"""The log on a migrated database: appends, checkpoints, proofs, refusing changes, tampering
found at the right index, duplicates, sequence gaps, and per-person completeness."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from services.audit import reports
from services.audit.adapters.repository import AuditLogRepository
from services.audit.domain import checkpoints, merkle
from services.audit.domain.entries import read_head
from services.audit.export_check import verify_export_file
from tests.support import audit_log as support


@pytest.fixture
def settings(tmp_path):
    return support.settings_for(tmp_path)


@pytest.fixture
def engine(tmp_path):
    engine = support.migrated(f"sqlite:///{tmp_path / 'audit.db'}")
    yield engine
    engine.dispose()


def _fill(engine, settings, count=40, persons=5):
    people = [str(uuid.uuid4()) for _ in range(persons)]
    envelopes = [support.envelope(n + 1, people[n % persons]) for n in range(count)]
    for start in range(0, count, 7):  # several consumer batches
        support.ingest(engine, settings, envelopes[start : start + 7])
    support.checkpoint(engine, settings)
    return people


def _report(engine, settings):
    with Session(engine) as session:
        return reports.verification_report(session, settings.origin, support.public_key(settings))


def test_entries_get_consecutive_indices_and_a_signed_checkpoint_covers_them(engine, settings):
    _fill(engine, settings)
    stored = support.rows(engine)
    assert [r["leaf_index"] for r in stored] == list(range(40))
    assert all(read_head(r["canonical"].encode())[0] == r["leaf_index"] for r in stored)
    with Session(engine) as session:
        note = AuditLogRepository(session).latest_checkpoint()["note"]
    opened = checkpoints.open_note(note, settings.origin, support.public_key(settings))
    assert opened.size == 40
    assert opened.root == merkle.root_of([bytes(r["leaf_hash"]) for r in stored])
    report = _report(engine, settings)
    assert report["ok"], report
    assert report["persons_index_matches"] is True


def test_inclusion_and_consistency_proofs_from_the_database_verify(engine, settings):
    _fill(engine, settings, count=20)
    with Session(engine) as session:
        repo = AuditLogRepository(session)
        first = checkpoints.open_note(repo.latest_checkpoint()["note"], settings.origin,
                                      support.public_key(settings))
    more = [support.envelope(n, str(uuid.uuid4())) for n in range(21, 38)]
    support.ingest(engine, settings, more)
    support.checkpoint(engine, settings)
    with Session(engine) as session:
        repo = AuditLogRepository(session)
        second = checkpoints.open_note(repo.latest_checkpoint()["note"], settings.origin,
                                       support.public_key(settings))
        for index in range(second.size):
            proof = repo.prove(merkle.inclusion_plan(index, second.size))
            merkle.verify_inclusion(index, second.size, repo.entry(index)["leaf_hash"], proof, second.root)
        proof = repo.prove(merkle.consistency_plan(first.size, second.size))
    merkle.verify_consistency(first.size, second.size, first.root, second.root, proof)


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET outcome = 'deny'",
    "DELETE FROM audit_log WHERE leaf_index = 3",
    "UPDATE audit_tree_nodes SET hash = hash",
    "DELETE FROM audit_checkpoints",
])
def test_the_database_refuses_to_change_the_log(engine, settings, statement):
    _fill(engine, settings, count=10)
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    assert len(support.rows(engine)) == 10


@pytest.mark.parametrize("tamper, bad_index", [
    (lambda e: support.alter(e, 17, "outcome", "deny"), 17),
    (lambda e: support.delete(e, 17), 17),
    (lambda e: support.insert_after(e, 16), 17),
    (lambda e: support.swap(e, 17, 18), 17),
])
def test_tampering_is_found_at_its_index_in_the_database(engine, settings, tamper, bad_index):
    _fill(engine, settings)
    support.lift_protection(engine)
    tamper(engine)
    report = _report(engine, settings)
    assert report["ok"] is False
    assert report["tree"]["first_bad_index"] == bad_index, report["tree"]


@pytest.mark.parametrize("tamper, bad_index", [
    (lambda lines: lines.__setitem__(17, lines[17].replace(b'"outcome":"permit"', b'"outcome":"deny"')), 17),
    (lambda lines: lines.pop(17), 17),
    (lambda lines: lines.insert(17, lines[16].replace(b'"crude":"C"', b'"crude":"R"')), 17),
    (lambda lines: lines.__setitem__(slice(17, 19), [lines[18], lines[17]]), 17),
    (lambda lines: lines.__setitem__(39, lines[39].replace(b'"outcome":"permit"', b'"outcome":"deny"')), 39),
])
def test_tampering_is_found_at_its_index_in_an_export(engine, settings, tamper, bad_index, tmp_path):
    _fill(engine, settings)
    lines = [r["canonical"].encode() for r in support.rows(engine)]
    with Session(engine) as session:
        note = AuditLogRepository(session).latest_checkpoint()["note"]
    key = support.public_key(settings)
    assert reports.verify_export(list(lines), note, settings.origin, key)["ok"] is True
    tamper(lines)
    report = reports.verify_export(lines, note, settings.origin, key)
    assert report["ok"] is False
    assert report["first_bad_index"] == bad_index, report
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    from_file = verify_export_file(path, note, settings.origin, key, workers=3)
    assert from_file["ok"] is False and from_file["first_bad_index"] == bad_index, from_file


def test_an_intact_export_verifies_on_several_cores(engine, settings, tmp_path):
    _fill(engine, settings, count=97)
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"".join(r["canonical"].encode() + b"\n" for r in support.rows(engine)))
    with Session(engine) as session:
        note = AuditLogRepository(session).latest_checkpoint()["note"]
    for workers in (1, 2, 5):
        report = verify_export_file(path, note, settings.origin, support.public_key(settings), workers=workers)
        assert report["ok"] is True and report["entries"] == 97, report


def test_a_forged_checkpoint_signature_is_rejected(engine, settings):
    _fill(engine, settings, count=8)
    with Session(engine) as session:
        note = AuditLogRepository(session).latest_checkpoint()["note"]
    key = support.public_key(settings)
    body, _, signature = note.partition("\n\n")
    forged_body = body.replace("\n8\n", "\n7\n")
    with pytest.raises(checkpoints.CheckpointError):
        checkpoints.open_note(forged_body + "\n\n" + signature, settings.origin, key)
    other = support.settings_for(settings.key_dir.parent / "elsewhere")
    foreign = checkpoints.sign(checkpoints.open_note(note, settings.origin, key),
                               support.signing_key.signing_key(other.key_dir))
    with pytest.raises(checkpoints.CheckpointError):
        checkpoints.open_note(foreign, settings.origin, key)
    lines = [r["canonical"].encode() for r in support.rows(engine)]
    assert reports.verify_export(lines, foreign, settings.origin, key)["ok"] is False


def test_a_duplicate_delivery_makes_one_leaf(engine, settings):
    first = support.envelope(1, str(uuid.uuid4()))
    support.ingest(engine, settings, [first, first])
    support.ingest(engine, settings, [first])
    assert len(support.rows(engine)) == 1


def test_a_sequence_gap_is_reported_until_the_missing_event_arrives(engine, settings):
    person = str(uuid.uuid4())
    events = {n: support.envelope(n, person) for n in range(1, 8)}
    support.ingest(engine, settings, [events[n] for n in (1, 2, 3, 6, 7)])
    report = _report(engine, settings)
    assert report["sequence_gaps"] == [
        {"source": "record", "complete_up_to": 3, "highest": 7, "missing": [{"from": 4, "to": 5}]}
    ]
    assert report["ok"] is False
    support.ingest(engine, settings, [events[5]])
    assert _report(engine, settings)["sequence_gaps"][0]["missing"] == [{"from": 4, "to": 4}]
    support.ingest(engine, settings, [events[4]])
    support.checkpoint(engine, settings)
    report = _report(engine, settings)
    assert report["sequence_gaps"] == [] and report["ok"] is True
    assert report["sources"][0]["complete_up_to"] == 7


@pytest.mark.parametrize("block", [64, 1000, 1 << 20])
@pytest.mark.parametrize("shape", ["plain", "no final newline", "blank lines"])
def test_an_export_verifies_however_its_lines_fall_across_blocks(engine, settings, tmp_path, monkeypatch,
                                                                 block, shape):
    from services.audit import export_check

    monkeypatch.setattr(export_check, "BLOCK", block)  # lines longer than a block, split anywhere
    _fill(engine, settings, count=41)
    lines = [r["canonical"].encode() for r in support.rows(engine)]
    text = b"".join(line + b"\n" for line in lines)
    if shape == "no final newline":
        text = text[:-1]
    elif shape == "blank lines":
        text = b"\n\n" + text.replace(b"\n", b"\n\n", 5) + b"\n"
    path = tmp_path / "export.jsonl"
    path.write_bytes(text)
    with Session(engine) as session:
        note = AuditLogRepository(session).latest_checkpoint()["note"]
    key = support.public_key(settings)
    for workers in (1, 2, 3):
        report = verify_export_file(path, note, settings.origin, key, workers=workers)
        assert report["ok"] is True and report["entries"] == 41, (workers, report)
    # A carriage return is part of its line: those bytes are not the entry's.
    path.write_bytes(text.replace(b"\n", b"\r\n"))
    assert verify_export_file(path, note, settings.origin, key, workers=2)["ok"] is False
