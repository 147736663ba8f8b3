#!/usr/bin/env python
"""Revocation propagation latency in eventual mode: from the start of the revoking call to
the first moment another service's projection denies, over ``--revocations`` revocations.

Real RabbitMQ and PostgreSQL: the script makes its own virtual host and two databases (consent,
and a "record" database holding the shared consent projection) and removes them at the end.
The consent API runs in this process (Flask test client); the consent worker (outbox relay,
acknowledgement consumer) and the record worker (projection consumer) run as two separate
processes, as in a deployment. Each round gives a grant, waits until the
projection permits it, then revokes it and polls the projection (every ``--poll-ms``) until
it denies.

``--relay-poll`` and ``--consumer-flush`` are the relay's idle poll (RELAIS_RELAY_POLL_SECONDS,
0.2 by default) and the projection consumer's idle flush (how long a pause in deliveries it
waits before applying what it holds; the shared consumer's default, 0.001 s, unless given).
On PostgreSQL the relay is woken by the outbox's notification, so the poll is only its
safety net.

    .venv/bin/python bench/consent_revocation.py [--revocations 1000] [--relay-poll 0.2]
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine  # noqa: E402

from services.consent import consumers  # noqa: E402
from services.consent.adapters import orm  # noqa: E402
from shared.bus.consumer import IDLE_FLUSH_SECONDS, Consumer  # noqa: E402
from shared.bus.relay import OutboxRelay  # noqa: E402
from shared.consent.decision import Actor, Question  # noqa: E402
from shared.db.engine import dispose_engines  # noqa: E402
from shared.db.migrations import upgrade  # noqa: E402
from tests.support import infra  # noqa: E402
from tests.support.consent_app import make_consent  # noqa: E402
from tests.support.consent_bus import SUBSCRIPTIONS, ProjectionService, Running  # noqa: E402

CASE_MANAGER = {"org": "org-cpas", "profession": "case_manager"}
READER = Actor("hw-1", "professional", "org-housing", "housing_worker")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def worker(args) -> None:
    """One worker process: ``consent`` (relay + acknowledgements) or ``record`` (projection)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if args.worker == "consent":
        engine = create_engine(args.consent_url, pool_size=5)
        parts = [OutboxRelay(engine, orm.outbox, args.amqp_url, poll_seconds=args.relay_poll,
                             subscriptions=SUBSCRIPTIONS),
                 Consumer(consumers.ACKS_QUEUE, consumers.projection_acknowledged, engine,
                          orm.processed_events, args.amqp_url, subscriptions=SUBSCRIPTIONS)]
    else:
        record = ProjectionService(args.record_url, args.amqp_url, acknowledge=False)
        record.consumer.idle_flush_seconds = (
            IDLE_FLUSH_SECONDS if args.consumer_flush is None else args.consumer_flush
        )
        parts = [record.consumer]
    running = Running(parts).start()
    print("ready", flush=True)
    stop.wait()
    running.stop()


def start_worker(role: str, args, consent_url: str, record_url: str, amqp_url: str):
    process = subprocess.Popen(
        [sys.executable, __file__, "--worker", role, "--consent-url", consent_url,
         "--record-url", record_url, "--amqp-url", amqp_url, "--relay-poll", str(args.relay_poll),
         *(["--consumer-flush", str(args.consumer_flush)] if args.consumer_flush is not None else [])],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    ready = threading.Event()
    threading.Thread(target=lambda: process.stdout.readline() == "ready\n" and ready.set(),
                     daemon=True).start()
    if not ready.wait(60):
        process.kill()
        raise RuntimeError(f"the {role} worker did not start")
    return process


def run(args) -> dict:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # run the clean-up below
    consent_url, record_url = infra.create_database(), infra.create_database()
    vhost, amqp_url = infra.create_vhost()
    workers: list[subprocess.Popen] = []
    try:
        upgrade("consent", consent_url)
        consent = make_consent(Path(tempfile.mkdtemp()), consent_url, create_schema=False, env={
            "AMQP_URL": amqp_url, "CONSENT_WITHDRAWAL_MODE": "eventual"})
        policy = consent.app.extensions["relais.consent"].policy
        record = ProjectionService(record_url, amqp_url, acknowledge=False)  # tables, reads
        workers.append(start_worker("record", args, consent_url, record_url, amqp_url))
        workers.append(start_worker("consent", args, consent_url, record_url, amqp_url))
        cm = consent.as_("cm-1", **CASE_MANAGER)
        person = consent.client.post("/beneficiaries", headers=cm).get_json()["id"]

        def permitted() -> bool:
            question = Question(person, "read", ("steps",), "care_coordination", datetime.now(UTC))
            return bool(record.decide(READER, question, policy).permitted)

        latencies: list[float] = []
        calls: list[float] = []
        for _ in range(args.revocations):
            grant_id = consent.client.post(f"/beneficiaries/{person}/grants", json={
                "grantee_kind": "organisation", "grantee": "org-housing", "categories": ["steps"]},
                headers=cm).get_json()["grant_id"]
            infra.wait_until(permitted, timeout=30, interval=args.poll_ms / 1000,
                             message="grant reached the projection")
            started = time.perf_counter()
            response = consent.client.post(f"/beneficiaries/{person}/grants/{grant_id}/revoke",
                                           headers=cm)
            calls.append(time.perf_counter() - started)
            assert response.status_code == 200, response.get_json()
            infra.wait_until(lambda: not permitted(), timeout=30, interval=args.poll_ms / 1000,
                             message="revocation reached the projection")
            latencies.append(time.perf_counter() - started)
        consent.engine.dispose()
        record.engine.dispose()
        return {
            "revocations": len(latencies), "relay_poll_seconds": args.relay_poll,
            "consumer_flush_seconds": IDLE_FLUSH_SECONDS if args.consumer_flush is None
            else args.consumer_flush, "poll_ms": args.poll_ms,
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
            "max_ms": round(max(latencies) * 1000, 1),
            "revoke_call_p50_ms": round(statistics.median(calls) * 1000, 1),
            "revoke_call_p99_ms": round(percentile(calls, 0.99) * 1000, 1),
        }
    finally:
        for process in workers:
            process.terminate()
        for process in workers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        dispose_engines()
        infra.drop_database(consent_url)
        infra.drop_database(record_url)
        infra.delete_vhost(vhost)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--revocations", type=int, default=1000)
    parser.add_argument("--relay-poll", type=float, default=0.2)
    parser.add_argument("--consumer-flush", type=float, default=None)
    parser.add_argument("--poll-ms", type=float, default=1.0)
    parser.add_argument("--worker", choices=("consent", "record"), help=argparse.SUPPRESS)
    parser.add_argument("--consent-url", help=argparse.SUPPRESS)
    parser.add_argument("--record-url", help=argparse.SUPPRESS)
    parser.add_argument("--amqp-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    print(json.dumps(run(args), indent=2))


if __name__ == "__main__":
    main()
