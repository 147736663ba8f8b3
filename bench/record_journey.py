#!/usr/bin/env python
"""The journey at the scale of a region: 100,000 persons and 10,000,000 sealed entries in
PostgreSQL. Measures, through the gateway with full authorisation and audit:

- the timeline of a person with 1,000 entries (first page of 100): each request is verified by
  the gateway and by record, decided from record's consent projection, answered from the
  sealed head of the person's timeline (the newest 200 entries as the timeline shows them,
  kept by every write), and writes its audit event (with the 100 entry ids) to the outbox;
- logging a contact (POST, one sealed entry, the head of the timeline merged and sealed again,
  its record event and its audit event);

beside a bare Flask app answering {"ok": true} under the same gunicorn settings, with the same
load generator (wrk), in the same run, and beside that app behind the gateway (as if it were a
service): the two hops every call makes, with no work behind them, the least a timeline through
the gateway can cost on this machine. Phases are interleaved and repeated (--runs); the median
run of each phase is reported. The record worker (outbox relay with publisher confirms, consent
consumer) runs beside the servers, as in a deployment, on its own RabbitMQ virtual host.

Data: person keys (AES-GCM data keys wrapped by the record master key), one grant per person to
the benchmark's organisation in record's consent projection, 1,000 entries for the person read,
about 100 for each of the others, every one sealed under its person's key, and each person's
timeline head made from them with record's own code, loaded with COPY by two processes.
For each phase the script also reports the CPU time each part of the stack used per request
(gateway, record, bare app, record worker, PostgreSQL, RabbitMQ, wrk). The database is made for the run and dropped at the end (--keep keeps it and
prints its URL; --reuse URL skips the load).

    .venv/bin/python bench/record_journey.py [--persons 100000] [--entries 10000000]
        [--duration 10] [--runs 3] [--connections 16] [--soak SECONDS]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.gateway_throughput import free_port, gunicorn, server_sizes, wait_http  # noqa: E402

ORG = "bench-org"
TIMELINE_P99_GOAL_MS = 25.0
THROUGHPUT_GOAL = 0.20
# The bare app behind the gateway: the two hops of every call with no work in the service, the
# least any timeline through the gateway can cost on this machine.
FLOOR = "bare Flask, through the gateway"
MODALITIES = ("in_person", "phone", "street_outreach", "home_visit", "accompanied")
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its children (a gunicorn master and its
    workers count together)."""
    try:
        root = psutil.Process(pid)
        members = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for member in members:
        try:
            times = member.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            continue
    return total


def _named_cpu(names: tuple[str, ...]) -> float:
    """CPU seconds of every process with one of these names (PostgreSQL's backends, RabbitMQ)."""
    total = 0.0
    for process in psutil.process_iter(["name", "cpu_times"]):
        if process.info["name"] in names and process.info["cpu_times"] is not None:
            total += process.info["cpu_times"].user + process.info["cpu_times"].system
    return total


class CpuMeter:
    """Where one phase's CPU went: the seconds each part of the stack used during the timed run,
    divided by the requests it served, in milliseconds per request."""

    def __init__(self, parts: dict[str, int]) -> None:
        self.parts = parts

    def sample(self) -> dict[str, float]:
        seen = {name: _tree_cpu(pid) for name, pid in self.parts.items()}
        seen["postgresql"] = _named_cpu(("postgres",))
        seen["rabbitmq"] = _named_cpu(("beam.smp", "erl_child_setup", "inet_gethost", "epmd"))
        children = os.times()
        seen["wrk"] = children.children_user + children.children_system
        return seen

    @staticmethod
    def per_request(before: dict[str, float], after: dict[str, float], requests_done: float) -> dict[str, float]:
        return {name: (after[name] - before[name]) * 1000 / max(requests_done, 1.0) for name in before}


def wrk(url: str, token: str | None, seconds: int, connections: int, threads: int,
        script: Path | None = None) -> dict[str, float]:
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if token:
        argv += ["-H", f"Authorization: Bearer {token}"]
    if script:
        argv += ["-s", str(script)]
    out = subprocess.run(argv + [url], capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    done = float(re.search(r"(\d+) requests in", out).group(1))
    latency = {p: float(v) * _UNITS[u] for p, v, u in
               re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    longest = re.search(r"^\s+Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)", out, re.M)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    # wrk gives up on a call after 2 s and counts it as a timeout, outside its latencies.
    timeouts = re.search(r"Socket errors: .*timeout (\d+)", out)
    return {"rps": rps, "requests": done, "p50_ms": latency["50"], "p99_ms": latency["99"],
            "max_ms": float(longest.group(1)) * _UNITS[longest.group(2)] if longest else 0.0,
            "non_2xx": float(bad.group(1)) if bad else 0.0,
            "timeouts": float(timeouts.group(1)) if timeouts else 0.0}


# -- loading the data ----------------------------------------------------------------------------
def _load_share(args: tuple[str, bytes, list[str], dict[str, int], int]) -> int:
    """One loader process: seal and COPY the entries of its share of the persons."""
    url, master_key, persons, counts, seed = args
    import psycopg

    from services.record.adapters.sealing import seal_entry
    from shared.crypto import KeyWrapper
    from shared.vocabularies import load_vocabulary

    vocabulary = load_vocabulary("journey")

    rng = random.Random(seed)
    wrapper = KeyWrapper(master_key)
    now = datetime.now(UTC)
    start = now - timedelta(days=3 * 365)
    span = (now - timedelta(hours=1) - start).total_seconds()
    written = 0
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        keys = []
        with cursor.copy("COPY person_keys (beneficiary_id, wrapped_key, master_key_id, created_at) "
                         "FROM STDIN") as copy:
            for person in persons:
                data_key, wrapped = wrapper.new_data_key(person)
                keys.append(data_key)
                copy.write_row((person, wrapped, wrapper.master_key_id, now))
        last_met: dict[str, tuple[datetime, str]] = {}
        heads: dict[str, bytes] = {}
        with cursor.copy("COPY journey_entries (id, beneficiary_id, kind, category, thread_id, "
                         "supersedes, occurred_at, recorded_at, vocabulary_version, sealed) "
                         "FROM STDIN") as copy:
            for person, data_key in zip(persons, keys, strict=True):
                journey = []
                for _ in range(counts.get(person, 100)):
                    entry_id = str(uuid.uuid4())
                    at = start + timedelta(seconds=rng.random() * span)
                    outcome = "met" if rng.random() < 0.8 else "attempt"
                    document = {"author": {"subject": f"pro-{rng.randrange(5000)}", "organisation": ORG,
                                           "profession": "social_worker"},
                                "body": {"modality": rng.choice(MODALITIES), "outcome": outcome,
                                         "duration_minutes": rng.randrange(5, 90)}}
                    copy.write_row((entry_id, person, "contact", "contacts", None, None, at, at,
                                    "2026-12-01.1", seal_entry(data_key, person, entry_id, document)))
                    journey.append((entry_id, at, document))
                    if outcome == "met" and (person not in last_met or at > last_met[person][0]):
                        last_met[person] = (at, entry_id)
                    written += 1
                heads[person] = sealed_head(vocabulary, person, data_key, journey)
        with cursor.copy("COPY people (beneficiary_id, last_met_at, last_met_entry_id, updated_at, "
                         "timeline_head) FROM STDIN") as copy:
            for person, (at, entry_id) in last_met.items():
                copy.write_row((person, at, entry_id, now, heads[person]))
        connection.commit()
    return written


def sealed_head(vocabulary, person: str, data_key: bytes, journey: list[tuple[str, datetime, dict]]) -> bytes:
    """The head of the person's timeline, as record's writes keep it (domain/timeline_head.py)."""
    from services.record.adapters.sealing import seal_head
    from services.record.domain import timeline_head
    from services.record.domain.entries import Author, Entry

    newest = sorted(journey, key=lambda e: (e[1], e[0]), reverse=True)
    entries = [Entry.stored(beneficiary_id=person, kind="contact", category="contacts", occurred_at=at,
                            author=Author.stored(**document["author"]), vocabulary_version="2026-12-01.1",
                            body=document["body"], thread_id=None, supersedes=None, id=entry_id,
                            recorded_at=at)
               for entry_id, at, document in newest[:timeline_head.HEAD_SIZE]]
    head = timeline_head.build(vocabulary, entries, complete=len(newest) <= timeline_head.HEAD_SIZE)
    return seal_head(data_key, person, head.encode())


def load(url: str, master_key: bytes, persons: int, entries: int, target: str) -> None:
    import psycopg

    from shared.consent.decision import ConsentState, GrantTerms
    from shared.consent.projection import encode_document

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    people = [target] + [str(uuid.uuid4()) for _ in range(persons - 1)]
    per_other = (entries - 1000) // (persons - 1)
    counts = {target: 1000}
    remainder = entries - 1000 - per_other * (persons - 1)
    for person in people[1:]:
        counts[person] = per_other + (1 if remainder > 0 else 0)
        remainder -= 1
    started = time.monotonic()
    with psycopg.connect(dsn, autocommit=True) as connection:
        # Loading goes faster without the indexes; they are built once, afterwards.
        connection.execute("ALTER TABLE journey_entries DROP CONSTRAINT journey_entries_pkey")
        connection.execute("DROP INDEX ix_journey_entries_timeline")
        connection.execute("DROP INDEX ix_journey_entries_thread")
        valid_from = datetime(2024, 1, 1, tzinfo=UTC)
        with connection.cursor() as cursor, cursor.copy(
                "COPY consent_grants (grant_id, beneficiary_id, version, grantee_kind, grantee, "
                "categories, purpose, actions, valid_from, valid_until, referent, active) FROM STDIN") as copy:
            documents = []
            for person in people:
                grant = GrantTerms(str(uuid.uuid4()), 1, "organisation", ORG,
                                   frozenset(("contacts", "steps", "transitions", "alerts", "referent", "identity")),
                                   "care_coordination", frozenset(("read", "write")), valid_from, None)
                copy.write_row((grant.grant_id, person, 1, "organisation", ORG,
                                " ".join(sorted(grant.categories)), grant.purpose, "read write",
                                valid_from, None, False, True))
                documents.append((person, encode_document(ConsentState(person, (grant,), (), (), 1))))
        with connection.cursor() as cursor, cursor.copy(
                "COPY consent_people (beneficiary_id, epoch, erased, document) FROM STDIN") as copy:
            for person, document in documents:
                copy.write_row((person, 1, False, document))
    half = len(people) // 2
    shares = [(url, master_key, people[:half], counts, 1), (url, master_key, people[half:], counts, 2)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        written = sum(pool.map(_load_share, shares))
    loaded = time.monotonic()
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("ALTER TABLE journey_entries ADD PRIMARY KEY (id)")
        connection.execute("CREATE INDEX ix_journey_entries_timeline ON journey_entries "
                           "(beneficiary_id, occurred_at, id)")
        connection.execute("CREATE INDEX ix_journey_entries_thread ON journey_entries (thread_id)")
        connection.execute("VACUUM ANALYZE")
        size = connection.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    print(f"loaded {persons} persons and {written} entries in {loaded - started:.0f} s, indexed in "
          f"{time.monotonic() - loaded:.0f} s; database {size}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the database and print its URL")
    parser.add_argument("--no-worker", action="store_true",
                        help="without the record worker (its relay publishing the audit events)")
    parser.add_argument("--reuse", metavar="URL", help="a database an earlier --keep run loaded")
    parser.add_argument("--soak", type=int, default=0, metavar="SECONDS",
                        help="then the timeline through the gateway for this long (longer than the "
                             "services' periodic work, such as their key refresh), counting the calls "
                             "that never came back")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    from tests.support import infra

    work = Path(tempfile.mkdtemp(prefix="relais-record-bench-"))
    url = args.reuse
    target_file = None
    vhost, amqp_url = infra.create_vhost()
    if url:
        meta = json.loads(Path(work.parent / (Path(url).name + ".json")).read_text())
        master_b64, target = meta["master_key"], meta["target"]
    else:
        import base64

        url = infra.create_database("relais_bench_record")
        from shared.db.migrations import upgrade

        upgrade("record", url)
        master = os.urandom(32)
        master_b64 = base64.b64encode(master).decode()
        target = str(uuid.uuid4())
        load(url, master, args.persons, args.entries, target)
        target_file = work.parent / (Path(url).name + ".json")
        target_file.write_text(json.dumps({"master_key": master_b64, "target": target}))
    gateway_port, record_port, bare_port = free_port(), free_port(), free_port()
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "RELAIS_VAR_DIR": str(work / "var"),
        "RELAIS_PORT": str(gateway_port), "RECORD_URL": f"http://127.0.0.1:{record_port}",
        "ALERTS_URL": f"http://127.0.0.1:{bare_port}",  # the bare app, behind the gateway as "alerts"
        "RELAIS_LOG_LEVEL": "WARNING", "RELAIS_TOKEN_TTL_SECONDS": "3600",
        "RELAIS_RATE_LIMIT_CLIENT_PER_MINUTE": "100000000",
        "RELAIS_RATE_LIMIT_ADDRESS_PER_MINUTE": "100000000",
        "GATEWAY_DATABASE_URL": f"sqlite:///{work / 'gateway.db'}", "RECORD_DATABASE_URL": url,
        "RECORD_MASTER_KEY": master_b64, "AMQP_URL": amqp_url,
    }
    os.environ.update({k: v for k, v in env.items() if k != "PYTHONPATH"})
    from services.gateway import admin
    from shared.db.migrations import upgrade

    upgrade("gateway", env["GATEWAY_DATABASE_URL"])
    client_id, secret = admin.create_client("bench", ["record:read", "record:write"], ORG, "case_manager")
    contact_script = work / "contact.lua"
    contact_script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.body = \'{{"occurred_at": "{(datetime.now(UTC) - timedelta(hours=1)).isoformat()}", '
        '"modality": "phone", "outcome": "met"}\'\n')
    processes = []
    soak = None
    results: dict[str, list[dict[str, float]]] = {}
    try:
        processes.append(gunicorn("services.gateway.app:create_app()", "gateway", env, gateway_port,
                                  work / "gateway.log"))
        processes.append(gunicorn("services.record.app:create_app()", "record", env, record_port,
                                  work / "record.log"))
        processes.append(gunicorn("bench.gateway_bare_app:app", "record", env, bare_port, work / "bare.log"))
        if not args.no_worker:
            processes.append(subprocess.Popen([sys.executable, "-m", "relais", "worker", "record"],
                                              env=env, cwd=ROOT, stdout=(work / "worker.log").open("w"),
                                              stderr=subprocess.STDOUT, start_new_session=True))
        for port, process in zip((gateway_port, record_port, bare_port), processes, strict=False):
            wait_http(f"http://127.0.0.1:{port}/healthz", process)
        token = requests.post(f"http://127.0.0.1:{gateway_port}/oauth/token", auth=(client_id, secret),
                              data={"grant_type": "client_credentials"}, timeout=10).json()["access_token"]
        other = _any_person(url, target)
        timeline_path = f"/beneficiaries/{target}/timeline?limit=100"
        phases = {
            "bare Flask {ok: true}": (f"http://127.0.0.1:{bare_port}/ok", None, None),
            FLOOR: (f"http://127.0.0.1:{gateway_port}/api/v1/alerts/ok", token, None),
            "timeline, through the gateway": (
                f"http://127.0.0.1:{gateway_port}/api/v1/record{timeline_path}", token, None),
            "timeline, direct to record": (f"http://127.0.0.1:{record_port}{timeline_path}", token, None),
            "log a contact, through the gateway": (
                f"http://127.0.0.1:{gateway_port}/api/v1/record/beneficiaries/{other}/contacts", token,
                contact_script),
        }
        check = requests.get(phases["timeline, through the gateway"][0],
                             headers={"Authorization": f"Bearer {token}"}, timeout=30)
        if check.status_code != 200 or len(check.json()["items"]) != 100:
            raise SystemExit(f"timeline: {check.status_code} {check.text[:300]}")
        check = requests.get(phases[FLOOR][0], headers={"Authorization": f"Bearer {token}"}, timeout=30)
        if check.status_code != 200 or check.json() != {"ok": True}:
            raise SystemExit(f"{FLOOR}: {check.status_code} {check.text[:300]}")
        results = {name: [] for name in phases}
        meter = CpuMeter(dict(zip(("gateway", "record", "bare", "worker"), (p.pid for p in processes),
                                  strict=False)))
        for run in range(args.runs):
            for name, (target_url, bearer, script) in phases.items():
                vacuum_written_tables(url)
                if args.warmup:
                    wrk(target_url, bearer, args.warmup, args.connections, args.threads, script)
                before = meter.sample()
                result = wrk(target_url, bearer, args.duration, args.connections, args.threads, script)
                result["cpu_ms"] = meter.per_request(before, meter.sample(), result["requests"])
                results[name].append(result)
                print(f"run {run + 1} {name}: {result}", file=sys.stderr)
        before = meter.sample()
        single = wrk(phases["timeline, through the gateway"][0], token, args.duration, 1, 1)
        single["cpu_ms"] = meter.per_request(before, meter.sample(), single["requests"])
        soak = (wrk(phases["timeline, through the gateway"][0], token, args.soak, args.connections,
                    args.threads) if args.soak else None)
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        infra.delete_vhost(vhost)
        from shared.db.engine import dispose_engines

        dispose_engines()
        if args.keep or args.reuse:
            print(f"database kept: {url}", file=sys.stderr)
        else:
            infra.drop_database(url)
            if target_file:
                target_file.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)

    print(f"machine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.persons} persons, {args.entries} entries; wrk -t{args.threads} -c{args.connections} "
          f"-d{args.duration}s, median of {args.runs} runs; {server_sizes(env)}")
    print(f"{'call':<38} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    medians = {}
    for name, runs in results.items():
        middle = sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]
        medians[name] = middle
        print(f"{name:<38} {middle['rps']:>9.0f} {middle['p50_ms']:>8.2f} {middle['p99_ms']:>8.2f} "
              f"{middle['non_2xx']:>8.0f}")
    print("CPU per request (ms) in the median run of each phase, by part of the stack:")
    parts = list(next(iter(medians.values()))["cpu_ms"])
    print(f"{'call':<38} " + " ".join(f"{part:>10}" for part in parts) + f" {'all':>8}")
    for name, middle in [*medians.items(), ("timeline, through the gateway, 1 conn", single)]:
        cpu = middle["cpu_ms"]
        print(f"{name:<38} " + " ".join(f"{cpu[part]:>10.2f}" for part in parts)
              + f" {sum(cpu.values()):>8.2f}")
    print(f"{'timeline, through the gateway, 1 conn':<38} {single['rps']:>9.0f} {single['p50_ms']:>8.2f} "
          f"{single['p99_ms']:>8.2f} {single['non_2xx']:>8.0f}")
    if soak is not None:
        print(f"timeline, through the gateway, for {args.soak} s: {soak['rps']:.0f} req/s, p50 "
              f"{soak['p50_ms']:.2f} ms, p99 {soak['p99_ms']:.2f} ms, longest answered "
              f"{soak['max_ms']:.1f} ms, {soak['timeouts']:.0f} calls not answered within 2 s, "
              f"{soak['non_2xx']:.0f} non-2xx")
    timeline = medians["timeline, through the gateway"]
    ratio = timeline["rps"] / medians["bare Flask {ok: true}"]["rps"]
    print(f"timeline p99 at {args.connections} connections: {timeline['p99_ms']:.1f} ms (goal under "
          f"{TIMELINE_P99_GOAL_MS:.0f} ms) -> {'met' if timeline['p99_ms'] < TIMELINE_P99_GOAL_MS else 'NOT met'}")
    floor = medians[FLOOR]
    print(f"the two hops with no work behind them ({FLOOR}): {floor['rps']:.0f} req/s, p99 "
          f"{floor['p99_ms']:.1f} ms at {args.connections} connections")
    print(f"timeline throughput / bare Flask: {ratio:.1%} (goal at least {THROUGHPUT_GOAL:.0%}) -> "
          f"{'met' if ratio >= THROUGHPUT_GOAL else 'NOT met'}; load average at the end: "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def vacuum_written_tables(url: str) -> None:
    """What autovacuum does in a deployment, done by hand before each phase: every read adds an
    outbox row that the relay then updates twice (claimed, published), and a server with
    autovacuum off (this machine's CI configuration) would otherwise let the dead versions pile
    up under the relay's queries from one phase to the next."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as connection:
        for table in ("outbox", "people", "threads"):
            connection.execute(f"VACUUM ANALYZE {table}")


def _any_person(url: str, not_this: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(text("SELECT beneficiary_id FROM people WHERE beneficiary_id <> :t ORDER BY beneficiary_id LIMIT 1"),
                                   {"t": not_this}).scalar_one()
    engine.dispose()
    return found


if __name__ == "__main__":
    main()
