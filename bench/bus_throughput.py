#!/usr/bin/env python
"""Throughput of the message bus against raw pika, measured in the same run.

Four phases, each on a clean queue, repeated ``--runs`` times (the median is reported):

a. raw publish   pika BlockingConnection, persistent messages, no confirms, to the Relais topic
                 exchange, routed to one durable quorum queue; timed from the first publish until
                 the queue holds every message.
b. outbox relay  N rows bulk-inserted into the outbox (not timed); timed from the start of the
                 real ``OutboxRelay`` until every row is marked published (i.e. confirmed).
c. raw consume   pika BlockingConnection, manual ``basic_ack`` per message, the consumer's
                 prefetch, N messages pre-loaded; timed until the N-th message is acked.
d. consumer      the real ``Consumer`` (processed_events + a handler inserting one row per
                 event), N valid envelopes pre-loaded; timed until every event's row exists.

The script makes its own RabbitMQ virtual host (``rabbitmqctl``) and PostgreSQL database and
removes both when it ends, however it ends. Every wait has a deadline, and ``--timeout`` bounds
the whole run.

    .venv/bin/python bench/bus_throughput.py [--events 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pika  # noqa: E402
import sqlalchemy  # noqa: E402
from sqlalchemy import (  # noqa: E402
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from shared.bus.consumer import Consumer  # noqa: E402
from shared.bus.envelope import Envelope, encode  # noqa: E402
from shared.bus.relay import OutboxRelay  # noqa: E402
from shared.bus.schema import add_bus_tables  # noqa: E402
from shared.bus.topology import (  # noqa: E402
    EXCHANGE,
    Subscription,
    dead_letter_queue,
    declare_topology,
    retry_queue,
)
from shared.db.bulk import insert_rows  # noqa: E402
from shared.db.engine import make_engine  # noqa: E402
from shared.logs import configure_logging  # noqa: E402

PG_SERVER = os.environ.get(
    "RELAIS_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
AMQP_HOST = os.environ.get("RELAIS_BENCH_AMQP_HOST", "127.0.0.1:5672")
AMQP_USER = os.environ.get("RELAIS_BENCH_AMQP_USER", "guest")
AMQP_PASSWORD = os.environ.get("RELAIS_BENCH_AMQP_PASSWORD", "guest")

QUEUE = "bench.events"
ROUTING_KEY = "bench.contact_logged"
SUBSCRIPTIONS = (Subscription(QUEUE, ("bench.#",)),)
# The settings' defaults (RELAIS_PREFETCH, RELAIS_CONSUMER_BATCH, RELAIS_RETRY_DELAYS_SECONDS...),
# i.e. what a service's worker runs with unless told otherwise.
PREFETCH = 200
CONSUMER_BATCH = 200
RETRY_DELAYS = (1.0, 5.0, 30.0)
RELAY_BATCH = 500
RELAY_POLL_SECONDS = 0.2
POLL_INTERVAL = 0.02  # how often the bench looks at the database or the queue

PHASES = ("raw-publish", "relay", "raw-consume", "consumer")
GOALS = {("relay", "raw-publish"): 0.25, ("consumer", "raw-consume"): 0.50}

metadata = MetaData()
effects = Table(
    "effects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("n", Integer, nullable=False),
)
outbox, processed = add_bus_tables(metadata)


class BenchError(RuntimeError):
    pass


# -- infrastructure -------------------------------------------------------------------------------
def rabbitmqctl(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["rabbitmqctl", *args], capture_output=True, text=True, check=check, timeout=120
    )


def create_vhost() -> tuple[str, str]:
    name = f"relais-bench-{uuid.uuid4().hex[:10]}"
    rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, AMQP_USER, ".*", ".*", ".*")
    return name, f"amqp://{AMQP_USER}:{AMQP_PASSWORD}@{AMQP_HOST}/{quote(name, safe='')}"


def delete_vhost(name: str) -> None:
    for _ in range(3):
        done = rabbitmqctl("delete_vhost", name, check=False)
        if done.returncode == 0:
            return
        time.sleep(2)
    print(
        f"could not delete the virtual host {name}: {done.stderr.strip()}; "
        f"remove it with `rabbitmqctl delete_vhost {name}`",
        file=sys.stderr,
    )


def _admin_engine():
    return create_engine(make_url(PG_SERVER), isolation_level="AUTOCOMMIT")


def create_database() -> str:
    name = f"relais_bench_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    name = make_url(url).database
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def wait_for(
    predicate: Callable[[], object], timeout: float, what: str, interval: float = POLL_INTERVAL
):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class Broker:
    """One management connection to the bench's virtual host, for declaring and looking."""

    def __init__(self, url: str) -> None:
        self.url = url
        params = pika.URLParameters(url)
        params.heartbeat = 0  # idle for long stretches while a phase runs
        self.connection = pika.BlockingConnection(params)
        self.channel = self.connection.channel()

    def fresh_queue(self) -> None:
        """Delete the bench queue (and its companions) and declare the topology again."""
        for name in (
            QUEUE,
            dead_letter_queue(QUEUE),
            *(retry_queue(QUEUE, d) for d in RETRY_DELAYS),
        ):
            self.channel.queue_delete(name)
        declare_topology(self.channel, RETRY_DELAYS, SUBSCRIPTIONS)

    def depth(self) -> int:
        return self.channel.queue_declare(QUEUE, passive=True).method.message_count

    def consumers(self) -> int:
        return self.channel.queue_declare(QUEUE, passive=True).method.consumer_count

    def close(self) -> None:
        try:
            self.connection.close()
        except Exception:
            pass


# -- events ---------------------------------------------------------------------------------------
def make_outbox_rows(count: int) -> list[dict]:
    """Outbox rows exactly as ``Outbox.add`` writes them, for an event shaped like the record
    service's ``record.contact_logged``."""
    start = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    rows = []
    for n in range(count):
        envelope = Envelope(
            type=ROUTING_KEY,
            producer="bench",
            payload={
                "entry_id": str(uuid.uuid4()),
                "beneficiary_id": str(uuid.uuid4()),
                "occurred_at": (start + timedelta(minutes=n)).isoformat(),
                "modality": "home_visit",
                "outcome": "reached",
                "organisation": "cpas-ixelles",
                "profession": "social_worker",
                "n": n,
            },
            correlation_id=uuid.uuid4().hex,
        )
        rows.append(
            {
                "event_id": envelope.id,
                "event_type": envelope.type,
                "routing_key": envelope.routing_key,
                "body": encode(envelope).decode(),
                "created_at": envelope.occurred_at,
            }
        )
    return rows


def as_published(rows: list[dict]) -> list[tuple[bytes, pika.BasicProperties]]:
    """The messages the relay sends for these rows (body with its sequence, same properties)."""
    messages = []
    for sequence, row in enumerate(rows, start=1):
        document = json.loads(row["body"])
        document["sequence"] = sequence
        payload = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
        properties = pika.BasicProperties(
            content_type="application/json",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=row["event_id"],
            type=document.get("type"),
            correlation_id=document.get("correlation_id"),
            app_id=document.get("producer"),
        )
        messages.append((payload, properties))
    return messages


def preload(
    broker: Broker, messages: list[tuple[bytes, pika.BasicProperties]], timeout: float
) -> None:
    """Put the messages in the (clean) queue and wait until the broker holds all of them."""
    connection = pika.BlockingConnection(pika.URLParameters(broker.url))
    channel = connection.channel()
    for body, properties in messages:
        channel.basic_publish(EXCHANGE, ROUTING_KEY, body, properties)
    connection.process_data_events(0)
    wait_for(
        lambda: broker.depth() >= len(messages), timeout, "the pre-loaded messages", interval=0.1
    )
    connection.close()
    if broker.depth() != len(messages):
        raise BenchError(f"queue holds {broker.depth()} messages, expected {len(messages)}")


PENDING_EFFECTS = "bench.effects"


def handler(session: Session, event: Envelope) -> None:
    """One effect row per event (as tests/support/effects.py writes it), kept for the batch."""
    session.info.setdefault(PENDING_EFFECTS, []).append(
        {"event_id": event.id, "n": event.payload.get("n", 0)}
    )


def write_effects(session: Session) -> None:
    """The consumer's per-batch hook: the batch's effect rows in one INSERT, in the same
    transaction as the events' processed ids."""
    insert_rows(session, effects, session.info.pop(PENDING_EFFECTS, []))


def count(engine, query) -> int:
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()


def reset_tables(engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE outbox, processed_events, effects RESTART IDENTITY"))


class OnThread:
    def __init__(self, part) -> None:
        self.part = part
        self.thread = threading.Thread(target=part.run, name=type(part).__name__, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.part.stop()
        self.thread.join(timeout=30)
        if self.thread.is_alive():
            raise BenchError(f"{type(self.part).__name__} did not stop within 30 s")


# -- the four phases --------------------------------------------------------------------------------
def raw_publish(broker: Broker, messages, timeout: float) -> dict:
    broker.fresh_queue()
    connection = pika.BlockingConnection(pika.URLParameters(broker.url))
    channel = connection.channel()
    started = time.perf_counter()
    for body, properties in messages:
        channel.basic_publish(EXCHANGE, ROUTING_KEY, body, properties)
    connection.process_data_events(0)
    loop_done = time.perf_counter()
    n = len(messages)
    wait_for(lambda: broker.depth() >= n, timeout, "raw-published messages to reach the queue")
    ended = time.perf_counter()
    connection.close()
    return {
        "seconds": ended - started,
        "rate": n / (ended - started),
        "client_loop_rate": n / (loop_done - started),
    }


def relay_phase(broker: Broker, engine, amqp_url: str, rows: list[dict], timeout: float) -> dict:
    broker.fresh_queue()
    reset_tables(engine)
    with engine.begin() as connection:
        connection.execute(insert(outbox), rows)
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE outbox"))
    n = len(rows)
    unpublished = select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
    relay = OutboxRelay(
        engine,
        outbox,
        amqp_url,
        retry_delays=RETRY_DELAYS,
        batch_size=RELAY_BATCH,
        poll_seconds=RELAY_POLL_SECONDS,
        subscriptions=SUBSCRIPTIONS,
    )
    running = OnThread(relay)
    started = time.perf_counter()
    running.start()
    try:
        wait_for(
            lambda: count(engine, unpublished) == 0,
            timeout,
            "the relay to mark every row published",
        )
        ended = time.perf_counter()
    finally:
        running.stop()
    # Checks: every row has a gap-free sequence, and the queue got every message.
    with engine.connect() as connection:
        low, high, distinct = connection.execute(
            select(
                func.min(outbox.c.sequence),
                func.max(outbox.c.sequence),
                func.count(func.distinct(outbox.c.sequence)),
            )
        ).one()
    if (low, high, distinct) != (1, n, n):
        raise BenchError(
            f"relay sequences are not 1..{n}: min {low}, max {high}, distinct {distinct}"
        )
    wait_for(lambda: broker.depth() >= n, 30, "the relayed messages in the queue", interval=0.1)
    depth = broker.depth()
    return {
        "seconds": ended - started,
        "rate": n / (ended - started),
        "confirmed": relay.published,
        "queue_depth": depth,
    }


def raw_consume(broker: Broker, messages, timeout: float) -> dict:
    broker.fresh_queue()
    preload(broker, messages, timeout)
    n = len(messages)
    connection = pika.BlockingConnection(pika.URLParameters(broker.url))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=PREFETCH)
    state = {"acked": 0, "ended": None}

    def on_message(ch, method, _properties, _body) -> None:
        ch.basic_ack(method.delivery_tag)
        state["acked"] += 1
        if state["acked"] >= n:
            state["ended"] = time.perf_counter()
            ch.stop_consuming()

    connection.call_later(timeout, channel.stop_consuming)
    started = time.perf_counter()
    channel.basic_consume(QUEUE, on_message, auto_ack=False)
    channel.start_consuming()
    connection.process_data_events(0)
    connection.close()
    if state["ended"] is None:
        raise BenchError(f"raw consume acked only {state['acked']} of {n} within {timeout:.0f} s")
    wait_for(lambda: broker.depth() == 0, 30, "the raw-consumed queue to be empty", interval=0.1)
    return {"seconds": state["ended"] - started, "rate": n / (state["ended"] - started)}


def consumer_phase(broker: Broker, engine, amqp_url: str, messages, timeout: float) -> dict:
    broker.fresh_queue()
    reset_tables(engine)
    preload(broker, messages, timeout)
    n = len(messages)
    consumer = Consumer(
        QUEUE,
        handler,
        engine,
        processed,
        amqp_url,
        prefetch=PREFETCH,
        batch_size=CONSUMER_BATCH,
        retry_delays=RETRY_DELAYS,
        subscriptions=SUBSCRIPTIONS,
        on_batch=write_effects,
    )
    applied = select(func.count()).select_from(effects)
    running = OnThread(consumer)
    started = time.perf_counter()
    running.start()
    try:
        wait_for(lambda: count(engine, applied) >= n, timeout, "the consumer to apply every event")
        ended = time.perf_counter()
    finally:
        running.stop()
    total = count(engine, applied)
    distinct = count(engine, select(func.count(func.distinct(effects.c.event_id))))
    stored = count(engine, select(func.count()).select_from(processed))
    if (total, distinct, stored) != (n, n, n):
        raise BenchError(
            f"consumer effects {total}, distinct {distinct}, processed {stored}; expected {n}"
        )
    if consumer.dead_lettered or consumer.retried:
        raise BenchError(
            f"consumer retried {consumer.retried} and dead-lettered {consumer.dead_lettered}"
        )
    wait_for(lambda: broker.depth() == 0, 30, "the consumed queue to be empty", interval=0.1)
    return {"seconds": ended - started, "rate": n / (ended - started)}


# -- report ---------------------------------------------------------------------------------------
def machine_info(amqp_url: str, engine) -> list[tuple[str, str]]:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    server = connection._impl.server_properties  # what the broker announced on connect
    connection.close()

    def decoded(value) -> str:
        return value.decode() if isinstance(value, bytes) else str(value)

    with engine.connect() as db:
        pg_version = db.execute(text("SHOW server_version")).scalar_one()
        pg_settings = {
            name: db.execute(text(f"SHOW {name}")).scalar_one()
            for name in ("fsync", "synchronous_commit", "shared_buffers")
        }
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        ("CPUs", f"{os.cpu_count()} ({usable} usable) {cpu_model}".strip()),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        (
            "RabbitMQ",
            f"{decoded(server.get('version', '?'))} on {decoded(server.get('platform', '?'))}",
        ),
        ("PostgreSQL", f"{pg_version} ({', '.join(f'{k}={v}' for k, v in pg_settings.items())})"),
        ("pika / SQLAlchemy", f"{pika.__version__} / {sqlalchemy.__version__}"),
    ]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def print_report(
    n: int, runs: list[dict], body_bytes: tuple[int, int], phases: tuple[str, ...]
) -> int:
    print()
    print(
        f"events per phase: {n}; message body {body_bytes[0]}-{body_bytes[1]} bytes; runs: {len(runs)}"
    )
    print()
    header = f"{'run':<6}" + "".join(f"{p + ' msg/s':>18}" for p in phases)
    ratio_names = [(a, b) for (a, b) in GOALS if a in phases and b in phases]
    header += "".join(f"{a + '/' + b:>24}" for a, b in ratio_names)
    print(header)
    for i, run in enumerate(runs, start=1):
        line = f"{i:<6}" + "".join(f"{run[p]['rate']:>18,.0f}" for p in phases)
        line += "".join(f"{run[a]['rate'] / run[b]['rate']:>23.1%} " for a, b in ratio_names)
        print(line)
    medians = {p: median([run[p]["rate"] for run in runs]) for p in phases}
    line = f"{'median':<6}" + "".join(f"{medians[p]:>18,.0f}" for p in phases)
    line += "".join(f"{medians[a] / medians[b]:>23.1%} " for a, b in ratio_names)
    print(line)
    if "raw-publish" in phases:
        loop = median([run["raw-publish"]["client_loop_rate"] for run in runs])
        print()
        print(
            f"raw publish, client side only (publish loop, before the queue holds them): "
            f"median {loop:,.0f} msg/s"
        )
        if "relay" in phases:
            print(f"  relay against that figure: {medians['relay'] / loop:.1%}")
    print()
    failed = 0
    for (a, b), goal in GOALS.items():
        if a in phases and b in phases:
            ratio = medians[a] / medians[b]
            met = ratio >= goal
            failed += not met
            print(f"goal {a}/{b} >= {goal:.0%}: {ratio:.1%} -> {'met' if met else 'NOT met'}")
    return failed


# -- main -----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--events", type=int, default=20000, help="messages per phase (default 20000)"
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="repetitions; the median is reported (default 3)"
    )
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=f"comma-separated subset of {','.join(PHASES)} (default: all)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=1500,
        help="hard limit for the whole run, seconds (default 1500)",
    )
    args = parser.parse_args(argv)
    phases = tuple(p for p in PHASES if p in args.phases.split(","))
    unknown = set(args.phases.split(",")) - set(PHASES)
    if unknown or not phases or args.events < 1 or args.runs < 1:
        parser.error(f"bad --phases/--events/--runs ({', '.join(sorted(unknown)) or 'empty'})")
    n = args.events
    phase_timeout = max(60.0, n / 100)  # no phase may fall under 100 msg/s

    configure_logging("bench", "WARNING", fmt="console", stream=sys.stderr)

    def _on_alarm(_signum, _frame):
        raise BenchError(f"the whole run exceeded --timeout {args.timeout:.0f} s")

    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(int(args.timeout))

    vhost = db_url = engine = broker = None
    try:
        vhost, amqp_url = create_vhost()
        db_url = create_database()
        engine = make_engine(db_url)  # pooled exactly as a service's engine
        metadata.create_all(engine)
        broker = Broker(amqp_url)
        print("machine")
        for key, value in machine_info(amqp_url, engine):
            print(f"  {key:<18} {value}")
        print(f"  {'load average':<18} {' '.join(f'{x:.2f}' for x in os.getloadavg())} (at start)")
        print(
            f"settings: relay batch {RELAY_BATCH}, max in flight 2000, poll {RELAY_POLL_SECONDS} s; "
            f"consumer prefetch {PREFETCH}, batch {CONSUMER_BATCH}; quorum queue; vhost {vhost}"
        )
        sizes: list[int] = []
        runs = []
        for run_number in range(1, args.runs + 1):
            rows = make_outbox_rows(n)
            messages = as_published(rows)
            sizes.extend((min(len(b) for b, _ in messages), max(len(b) for b, _ in messages)))
            results: dict[str, dict] = {}
            for phase in phases:
                if phase == "raw-publish":
                    results[phase] = raw_publish(broker, messages, phase_timeout)
                elif phase == "relay":
                    results[phase] = relay_phase(broker, engine, amqp_url, rows, phase_timeout)
                elif phase == "raw-consume":
                    results[phase] = raw_consume(broker, messages, phase_timeout)
                elif phase == "consumer":
                    results[phase] = consumer_phase(
                        broker, engine, amqp_url, messages, phase_timeout
                    )
                r = results[phase]
                print(
                    f"run {run_number} {phase:<12} {r['seconds']:8.2f} s  {r['rate']:>10,.0f} msg/s",
                    flush=True,
                )
            runs.append(results)
        failed = print_report(n, runs, (min(sizes), max(sizes)), phases)
        print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return 1 if failed else 0
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 2
    finally:
        signal.alarm(0)
        if broker is not None:
            broker.close()
        if engine is not None:
            engine.dispose()
        if db_url is not None:
            drop_database(db_url)
        if vhost is not None:
            delete_vhost(vhost)


if __name__ == "__main__":
    sys.exit(main())
