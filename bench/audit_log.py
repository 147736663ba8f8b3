#!/usr/bin/env python
"""The audit log's speed, each figure beside the machine's own limit measured in the same run.

a. ingestion     N audit events pre-loaded in ``audit.ingest`` on the real RabbitMQ; timed from
                 the start of the real consumer (batches, one tree append per batch, checkpoints)
                 until the N-th entry is in the PostgreSQL log.  Limit beside it: hashlib SHA-256
                 leaf hashes of the same canonical bytes per second, and Ed25519 signatures/s.
b. verification  1,000,000 canonical lines in a JSON lines export, checked as `relais audit
                 verify` checks them (every line's index and chain, every leaf hash, the root
                 against a signed checkpoint).  Limit beside it: SHA-256 of the same lines.
b'. from the      the log built in (a) checked as `relais audit verify` without an export checks
   database      it (every stored row streamed, chains, stored leaf hashes, every checkpoint's
                 root, the person index).  Beside it: SHA-256 of the same lines.
c. proofs        inclusion proofs for random entries of the log built in (a), from PostgreSQL:
                 p50 and p99.  Beside it: the same proof built from memory.

The script makes its own RabbitMQ virtual host and PostgreSQL database and removes both.

    .venv/bin/python bench/audit_log.py [--events 50000] [--entries 1000000] [--proofs 2000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pika  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from services.audit import handlers, reports  # noqa: E402
from services.audit.adapters.repository import AuditLogRepository  # noqa: E402
from services.audit.domain import checkpoints, merkle  # noqa: E402
from services.audit.domain.entries import event_from_payload  # noqa: E402
from services.audit.domain.log import Head, append  # noqa: E402
from services.audit.export_check import verify_export_file  # noqa: E402
from shared.bus.envelope import Envelope, decode, encode  # noqa: E402
from shared.bus.topology import EXCHANGE, declare_topology  # noqa: E402
from shared.logs import configure_logging  # noqa: E402
from tests.support import audit_bus, audit_log, infra  # noqa: E402


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds else float("inf")


def hash_limit(lines: list[bytes]) -> float:
    sha = hashlib.sha256
    started = time.perf_counter()
    for line in lines:
        sha(b"\x00" + line).digest()
    return _rate(len(lines), time.perf_counter() - started)


def ed25519_limit(seconds: float = 1.0) -> float:
    key = Ed25519PrivateKey.generate()
    message = b"relais.local/audit\n1000000\n" + b"x" * 44 + b"\n"
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        key.sign(message)
        count += 1
    return _rate(count, time.perf_counter() - started)


def sample_lines(count: int) -> list[bytes]:
    """Real canonical lines of ``count`` entries (slow to make: the domain builds each one)."""
    people = [str(uuid.uuid4()) for _ in range(max(1, count // 20))]
    now = datetime.now(UTC)
    events = [
        event_from_payload(str(uuid.uuid4()), "audit.access_recorded", "record", n + 1, now,
                           audit_log.payload(people[n % len(people)], crude="R", action="timeline.read"))
        for n in range(count)
    ]
    appended = append(Head(0, []), events, {}, now)
    return [e.canonical for e in appended.entries]


def many_lines(count: int, distinct: int = 20_000) -> list[bytes]:
    """``count`` chained canonical lines: the bodies of ``distinct`` real entries, each given
    its own index and the previous line's hash (what a verifier reads is the same)."""
    bodies = [line.split(b'",', 1)[1] for line in sample_lines(distinct)]
    sha, previous, lines = hashlib.sha256, bytes(32), []
    for n in range(count):
        line = b'{"index":%d,"prev":"%b",' % (n, previous.hex().encode()) + bodies[n % distinct]
        lines.append(line)
        previous = sha(b"\x00" + line).digest()
    return lines


def bench_ingestion(events: int, tmp: Path) -> dict:
    db_url = infra.create_database("relais_bench_audit")
    vhost, amqp_url = infra.create_vhost()
    try:
        engine = audit_log.migrated(db_url)
        settings = audit_log.settings_for(tmp, checkpoint_every=1000, checkpoint_seconds=10.0)
        people = [str(uuid.uuid4()) for _ in range(events // 20)]
        connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        channel = connection.channel()
        declare_topology(channel, (0.5,), audit_bus.SUBSCRIPTIONS)
        bodies = []
        for n in range(events):
            envelope = Envelope(type="audit.access_recorded", producer="record", sequence=n + 1,
                                payload=audit_log.payload(people[n % len(people)]))
            bodies.append(encode(envelope))
        for body in bodies:
            channel.basic_publish(EXCHANGE, "audit.access_recorded", body, pika.BasicProperties(delivery_mode=2))
        connection.close()
        infra.wait_until(lambda: infra.queue_depth(amqp_url, "audit.ingest") == events, timeout=300,
                         message="every event queued")
        started = time.perf_counter()
        for body in bodies:
            decode(body)
        decode_rate = _rate(events, time.perf_counter() - started)
        consumer = audit_bus.audit_consumer(engine, amqp_url, settings, batch_size=500, prefetch=1000)
        started = time.perf_counter()
        with audit_bus.Running(consumer):
            infra.wait_until(lambda: audit_bus.log_counts(engine)[0] >= events, timeout=600, interval=0.05,
                             message="every event in the log")
            seconds = time.perf_counter() - started
        with Session(engine) as session:
            proofs = bench_proofs(session, events)
        with Session(engine) as session, session.begin():
            handlers.checkpoint_now(session, settings)
        database_check = bench_database_verification(engine, settings)
        engine.dispose()
        append_rate = bench_append_only(events, tmp)
        return {"events": events, "seconds": round(seconds, 2), "events_per_second": _rate(events, seconds),
                "envelope_decode_limit_per_second": decode_rate,
                "log_append_without_broker_per_second": append_rate,
                "proofs_from_postgresql": proofs,
                "verification_from_postgresql": database_check}
    finally:
        infra.delete_vhost(vhost)
        infra.drop_database(db_url)


def bench_database_verification(engine, settings) -> dict:
    """`relais audit verify` on the live log (no export), beside SHA-256 of the same lines."""
    with Session(engine) as session:
        lines = [line for line, _ in AuditLogRepository(session).leaf_lines()]
    limit = hash_limit(lines)
    with Session(engine) as session, session.begin():
        started = time.perf_counter()
        report = reports.verification_report(session, settings.origin, audit_log.public_key(settings))
        seconds = time.perf_counter() - started
    assert report["ok"] and report["persons_index_matches"], report
    return {"entries": report["tree"]["entries"], "checkpoints": report["checkpoints"]["count"],
            "seconds": round(seconds, 2), "entries_per_second": _rate(len(lines), seconds),
            "sha256_of_the_same_lines_per_second": limit}


def bench_append_only(events: int, tmp: Path, batch: int = 500) -> float:
    """The audit handlers alone (normalise, one tree append per batch, commit), no broker."""
    db_url = infra.create_database("relais_bench_audit")
    try:
        engine = audit_log.migrated(db_url)
        settings = audit_log.settings_for(tmp / "append", checkpoint_every=1000, checkpoint_seconds=10.0)
        people = [str(uuid.uuid4()) for _ in range(events // 20)]
        envelopes = [audit_log.envelope(n + 1, people[n % len(people)]) for n in range(events)]
        started = time.perf_counter()
        for start in range(0, events, batch):
            audit_log.ingest(engine, settings, envelopes[start : start + batch])
        seconds = time.perf_counter() - started
        engine.dispose()
        return _rate(events, seconds)
    finally:
        infra.drop_database(db_url)


def bench_proofs(session: Session, size: int, samples: int = 2000) -> dict:
    repository = AuditLogRepository(session)
    size = min(size, repository.head_size())
    timings = []
    for _ in range(samples):
        index = random.randrange(size)
        started = time.perf_counter()
        repository.prove(merkle.inclusion_plan(index, size))
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"tree_size": size, "samples": samples, "p50_ms": round(statistics.median(timings), 3),
            "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 3)}


def bench_verification(entries: int, tmp: Path) -> dict:
    lines = many_lines(entries)
    path = tmp / "log.jsonl"
    with path.open("wb") as handle:
        for line in lines:
            handle.write(line + b"\n")
    leaves = [merkle.leaf_hash(line) for line in lines]
    key = Ed25519PrivateKey.generate()
    note = checkpoints.sign(checkpoints.Checkpoint("relais.bench/audit", entries, merkle.root_of(leaves), 0,
                                                   bytes(32)), key)
    limit = hash_limit(lines)
    del lines, leaves
    started = time.perf_counter()
    report = verify_export_file(path, note, "relais.bench/audit", key.public_key())
    seconds = time.perf_counter() - started
    assert report["ok"], report
    started = time.perf_counter()
    assert verify_export_file(path, note, "relais.bench/audit", key.public_key(), workers=1)["ok"]
    one_core = time.perf_counter() - started
    memory = _memory_proofs(path)
    return {"entries": entries, "seconds": round(seconds, 2), "one_core_seconds": round(one_core, 2),
            "cores": os.cpu_count(), "export_mb": round(path.stat().st_size / 1e6, 1),
            "sha256_limit_per_second": limit, "sha256_floor_seconds": round(entries / limit, 2),
            "proofs_from_memory": memory}


def _memory_proofs(path: Path, samples: int = 2000) -> dict:
    with path.open("rb") as handle:
        leaves = [merkle.leaf_hash(line.rstrip(b"\n")) for line in handle]
    frontier, nodes = merkle.Frontier(), {}
    for leaf in leaves:
        for level, index, value in frontier.append(leaf):
            nodes[(level, index)] = value
    size = len(leaves)

    def read(level: int, index: int) -> bytes:
        return leaves[index] if level == 0 else nodes[(level, index)]

    timings = []
    for _ in range(samples):
        index = random.randrange(size)
        started = time.perf_counter()
        merkle.inclusion_proof(index, size, read)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"p50_ms": round(statistics.median(timings), 4), "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args()
    configure_logging("bench", "ERROR")
    sample = sample_lines(20_000)
    results = {
        "machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()},
        "limits": {
            "sha256_leaf_hashes_per_second": hash_limit(sample),
            "ed25519_signatures_per_second": ed25519_limit(),
            "canonical_line_bytes_mean": round(sum(map(len, sample)) / len(sample)),
        },
    }
    with tempfile.TemporaryDirectory() as tmp:
        results["ingestion"] = bench_ingestion(args.events, Path(tmp))
        results["verification"] = bench_verification(args.entries, Path(tmp))
    results["goals"] = {
        "ingestion_at_least_5000_per_second": results["ingestion"]["events_per_second"] >= 5000,
        "verify_1m_under_3_seconds": results["verification"]["seconds"] < 3,
        "proof_p99_under_5_ms": results["ingestion"]["proofs_from_postgresql"]["p99_ms"] < 5,
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
