#!/usr/bin/env python
"""The alerts scan on a million persons, beside a plain ``SELECT count(*)`` of the table it
reads, measured in the same run.

Data: ``--persons`` people (1,000,000), each with a not-seen clock in a fresh PostgreSQL
database migrated as the alerts service migrates it: a row in ``clocks`` and its next step in
``clock_due`` (the table the scan reads, with the person, the last-seen date and the due time).
Their last-seen dates are random: ``--due`` of them (1 %) were last seen 30 to 90 days ago, so
their alert is due; the others within the last 30 days (those past 23 days already warned,
waiting for their due time). Persons are spread over 50 organisations; 10 of them have an
active webhook, so the scan also queues a delivery for their alerts. ``VACUUM ANALYZE`` after
loading.

Each run, interleaved:
- count: ``SELECT count(*) FROM clock_due`` (whatever plan PostgreSQL picks; printed), and the
  same over ``clocks`` for comparison;
- scan: the real ``services.alerts.handlers.scan.raise_due`` at the load's time (the clock a
  scan is given), with the service's default batch (ALERTS_SCAN_BATCH), from its first query to
  its last commit: claim the due steps through the index (``FOR UPDATE SKIP LOCKED``), delete
  them, insert the alerts (``ON CONFLICT``), write one ``alert.opened`` event per alert to the
  outbox and the webhook deliveries; then it checks that every due person has exactly one alert
  and one event, and that nothing is due any more.
Peak memory: the process's resident set sampled every 5 ms during the scan (peak, and peak
minus the resident set just before), and in one extra untimed run the peak of Python's own
allocations (tracemalloc). Between runs the due steps are put back and the alerts, outbox and
deliveries emptied (not timed). Medians over ``--runs``. Exit 0 when both goals are met
(scan < 2 s and < 5 x the count of the table it reads), 1 when not, 2 when the run failed.

    .venv/bin/python bench/alerts_scan.py [--persons 1000000] [--due 0.01] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from services.alerts.app import build_context  # noqa: E402
from services.alerts.domain.clocks import alert_id, clock_id  # noqa: E402
from services.alerts.handlers import scan  # noqa: E402
from services.alerts.settings import load_alerts_settings  # noqa: E402
from shared.config import load_settings  # noqa: E402
from shared.db.engine import dispose_engines  # noqa: E402
from shared.db.migrations import upgrade  # noqa: E402
from shared.logs import configure_logging  # noqa: E402
from tests.support import infra  # noqa: E402

ORGANISATIONS = [f"org-{n:02d}" for n in range(50)]
WITH_WEBHOOK = ORGANISATIONS[:10]
CLOCKS = ("clock_id", "beneficiary_id", "rule", "subject_id", "organisation", "period", "anchor_at",
          "variant", "alert_id", "warn_at", "due_at", "updated_at")
DUE = ("clock_id", "next_at", "step", "alert_id", "beneficiary_id", "rule", "subject_id", "organisation",
       "period", "anchor_at", "due_at")


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def load(url: str, persons: int, due_share: float, now: datetime, seed: int) -> list[tuple]:
    """Fill ``clocks`` and ``clock_due`` with COPY; returns the due schedule rows (to put them
    back between runs)."""
    rng = random.Random(seed)
    due_count = int(persons * due_share)
    due_rows = []
    with psycopg.connect(_libpq(url)) as connection:
        with connection.cursor() as cursor, \
                cursor.copy(f"COPY clocks ({', '.join(CLOCKS)}) FROM STDIN") as clocks_copy:
            schedule = []
            for n in range(persons):
                person = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                due = n < due_count
                if due:
                    anchor = now - timedelta(days=30 + 60 * rng.random())
                else:
                    anchor = now - timedelta(days=30 * rng.random())
                due_at = anchor + timedelta(days=30)
                warn_at = due_at - timedelta(days=7)
                warned = warn_at <= now  # its warning went out already: waiting for the alert
                period = f"seen:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
                clock = clock_id(person, "not_seen", person)
                alert = alert_id(person, "not_seen", person, period)
                organisation = ORGANISATIONS[rng.randrange(len(ORGANISATIONS))]
                clocks_copy.write_row((clock, person, "not_seen", person, organisation, period, anchor,
                                       "normal", alert, warn_at, due_at, now))
                row = (clock, due_at if warned else warn_at, "raise" if warned else "warn", alert, person,
                       "not_seen", person, organisation, period, anchor, due_at)
                schedule.append(row)
                if due:
                    due_rows.append(row)
        with connection.cursor() as cursor, \
                cursor.copy(f"COPY clock_due ({', '.join(DUE)}) FROM STDIN") as due_copy:
            for row in schedule:
                due_copy.write_row(row)
        with connection.cursor() as cursor:
            for organisation in WITH_WEBHOOK:
                cursor.execute(
                    "INSERT INTO webhooks (webhook_id, organisation, url, sealed_secret, event_types, "
                    "profession, created_by, created_at, active) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, true)",
                    (str(uuid.uuid4()), organisation, f"https://hooks.{organisation}.example/relais",
                     b"sealed", "alert.opened alert.resolved", "case_manager", "bench", now))
        connection.commit()
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    return due_rows


def reset(url: str, due_rows: list[tuple]) -> None:
    """The due steps as they were loaded; no alert, event or delivery left."""
    with psycopg.connect(_libpq(url)) as connection:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE alerts, outbox, webhook_deliveries, alert_recipients, close_one_notices")
            cursor.execute("DELETE FROM clock_due WHERE clock_id = ANY(%s)", ([row[0] for row in due_rows],))
            with cursor.copy(f"COPY clock_due ({', '.join(DUE)}) FROM STDIN") as copy:
                for row in due_rows:
                    copy.write_row(row)
        connection.commit()
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE clock_due, alerts, outbox, webhook_deliveries")


def timed_count(url: str, table: str = "clock_due") -> tuple[float, int]:
    with psycopg.connect(_libpq(url)) as connection:
        started = time.perf_counter()
        total = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        return time.perf_counter() - started, total


def plans(url: str, now: datetime, batch: int) -> tuple[str, str]:
    with psycopg.connect(_libpq(url)) as connection:
        count_plan = "\n".join(r[0] for r in connection.execute("EXPLAIN SELECT count(*) FROM clock_due"))
        claim_plan = "\n".join(r[0] for r in connection.execute(
            "EXPLAIN SELECT clock_id FROM clock_due WHERE next_at <= %s ORDER BY next_at LIMIT %s "
            "FOR UPDATE SKIP LOCKED", (now, batch)))
    return count_plan, claim_plan


class RssSampler:
    def __init__(self) -> None:
        self.process = psutil.Process()
        self.before = self.process.memory_info().rss
        self.peak = self.before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


def check(url: str, due_rows: list[tuple], now: datetime) -> None:
    with psycopg.connect(_libpq(url)) as connection:
        alerts = connection.execute("SELECT count(*), count(DISTINCT beneficiary_id) FROM alerts").fetchone()
        events = connection.execute(
            "SELECT count(*), count(DISTINCT body::json->'payload'->>'alert_id') FROM outbox "
            "WHERE event_type = 'alert.opened'").fetchone()
        left = connection.execute("SELECT count(*) FROM clock_due WHERE next_at <= %s", (now,)).fetchone()[0]
    expected = len(due_rows)
    if alerts != (expected, expected) or events != (expected, expected) or left != 0:
        raise SystemExit(f"check failed: alerts {alerts}, events {events}, still due {left}, expected {expected}")


def machine() -> dict:
    with psycopg.connect(_libpq(infra.PG_SERVER)) as connection:
        pg = connection.execute("SHOW server_version").fetchone()[0]
        buffers = connection.execute("SHOW shared_buffers").fetchone()[0]
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "postgresql": pg,
            "shared_buffers": buffers, "memory_gib": round(psutil.virtual_memory().total / 2**30, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--due", type=float, default=0.01)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    configure_logging("bench", "WARNING", "console")
    url = infra.create_database("relais_bench_alerts")
    tmp = Path(tempfile.mkdtemp(prefix="relais-bench-alerts-"))
    try:
        print(f"machine: {machine()}; load average {os.getloadavg()}")
        upgrade("alerts", url)
        now = datetime.now(UTC)
        started = time.perf_counter()
        due_rows = load(url, args.persons, args.due, now, args.seed)
        print(f"loaded {args.persons} persons' clocks ({len(due_rows)} due) in {time.perf_counter() - started:.1f} s")
        environ = {"RELAIS_VAR_DIR": str(tmp), "ALERTS_DATABASE_URL": url, "RELAIS_LOG_LEVEL": "WARNING"}
        settings = load_settings("alerts", environ)
        ctx = build_context(settings, load_alerts_settings(settings.var_dir, environ))
        count_plan, claim_plan = plans(url, now, ctx.settings.scan_batch)
        print(f"count plan:\n{count_plan}\nclaim plan:\n{claim_plan}")
        timed_count(url)  # the table read once before the first figure, as the scan's index is
        counts, wide_counts, scans, peaks, growths = [], [], [], [], []
        for run in range(1, args.runs + 1):
            load_before = os.getloadavg()[0]
            count_seconds, total = timed_count(url)
            wide_seconds, _ = timed_count(url, "clocks")
            with RssSampler() as rss:
                began = time.perf_counter()
                report = scan.raise_due(ctx, now)
                scan_seconds = time.perf_counter() - began
            check(url, due_rows, now)
            counts.append(count_seconds)
            wide_counts.append(wide_seconds)
            scans.append(scan_seconds)
            peaks.append(rss.peak / 2**20)
            growths.append((rss.peak - rss.before) / 2**20)
            print(f"run {run}: count(*) clock_due {count_seconds * 1000:.0f} ms over {total} rows "
                  f"(clocks {wide_seconds * 1000:.0f} ms); scan {scan_seconds * 1000:.0f} ms, "
                  f"{report.opened} alerts in {report.batches} batches, {scan_seconds / count_seconds:.2f} x "
                  f"count; RSS peak {peaks[-1]:.0f} MiB (+{growths[-1]:.1f} MiB); load average "
                  f"{load_before:.2f} -> {os.getloadavg()[0]:.2f}")
            reset(url, due_rows)
        tracemalloc.start()
        scan.raise_due(ctx, now)
        _current, python_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        check(url, due_rows, now)
        count_median, scan_median = statistics.median(counts), statistics.median(scans)
        ratio = scan_median / count_median
        print(f"median: count(*) clock_due {count_median * 1000:.0f} ms (clocks "
              f"{statistics.median(wide_counts) * 1000:.0f} ms), scan {scan_median * 1000:.0f} ms, "
              f"ratio {ratio:.2f}; RSS peak {statistics.median(peaks):.0f} MiB "
              f"(+{statistics.median(growths):.1f} MiB during the scan); Python allocations peak "
              f"{python_peak / 2**10:.0f} KiB (tracemalloc run); median of the runs' ratios "
              f"{statistics.median(s / c for s, c in zip(scans, counts, strict=True)):.2f}; "
              f"load average {os.getloadavg()}")
        met = scan_median < 2.0 and ratio < 5.0
        print(f"goals (scan < 2 s, < 5 x count): {'met' if met else 'not met'}")
        return 0 if met else 1
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 2
    finally:
        dispose_engines()
        infra.drop_database(url)


if __name__ == "__main__":
    sys.exit(main())

