#!/usr/bin/env python
"""What the gateway hop costs: an authenticated call through the gateway to a service, beside
the same call made directly to the service, beside a bare Flask app answering {"ok": true}.

All three run under gunicorn with the same configuration (shared/web/gunicorn_conf.py:
gthread, RELAIS_WEB_WORKERS workers x RELAIS_WEB_THREADS threads), on this machine, in the same
run, measured by the same load generator: wrk (Debian package `wrk`), same threads,
connections and duration. Phases are interleaved and repeated (--runs); the median run is
reported.

The call is the record service's `GET /beneficiaries/{id}/timeline` (scope record:read) of a
person who let the benchmark's organisation see their contacts and has no entry yet: the
service verifies the token, decides from its consent projection, reads the journey and writes
its audit event in the same transaction (bench/record_journey.py measures the same call on a
loaded journey). Through the gateway, the gateway also verifies the token, checks its revocation
list and rate limits (set high enough not to refuse), and forwards.

A fourth phase puts the bare app behind the gateway (as if it were a service), to show the
gateway's own cost (token check, revocation list, rate limits, forwarding) with the lightest
possible service behind it.

Databases are SQLite files in a temporary directory; no broker is needed for this call.

    .venv/bin/python bench/gateway_throughput.py [--duration 10] [--runs 3] [--connections 16]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
GOAL = 0.35  # the gateway hop may cost at most 35% of the direct throughput


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, process: subprocess.Popen, deadline_seconds: float = 60) -> None:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the server exited with {process.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer in {deadline_seconds} s")


def server_sizes(env: dict[str, str]) -> str:
    """How many gunicorn workers and threads the servers of a run have (the bare app runs with
    record's settings)."""
    from shared.config import load_settings

    sizes = {name: load_settings(name, environ=env) for name in ("gateway", "record")}
    return "gunicorn gthread " + ", ".join(
        f"{name} {s.web_workers} worker(s) x {s.web_threads} threads" for name, s in sizes.items())


def gunicorn(app: str, service: str, env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    argv = [sys.executable, "-m", "gunicorn", "--config", "python:shared.web.gunicorn_conf",
            "--bind", f"127.0.0.1:{port}", app]
    return subprocess.Popen(argv, env={**env, "RELAIS_SERVICE": service}, cwd=ROOT,
                            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(url: str, token: str | None, args: argparse.Namespace) -> dict[str, float]:
    argv = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{args.duration}s", "--latency"]
    if token:
        argv += ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(argv + [url], capture_output=True, text=True, check=True,
                         timeout=args.duration + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = {p: float(v) * _UNITS[u] for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p50_ms": latency["50"], "p99_ms": latency["99"],
            "non_2xx": float(bad.group(1)) if bad else 0.0, "socket_errors": 1.0 if errors else 0.0}


def _grant_to_bench_org(record_url: str, person: str) -> None:
    """The person let the benchmark's organisation see their contacts (record's projection)."""
    from datetime import UTC, datetime

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from services.record.adapters.orm import projection
    from shared.consent import events
    from shared.consent.decision import GrantTerms

    terms = GrantTerms(str(uuid.uuid4()), 1, "organisation", "bench-org", frozenset({"contacts"}),
                       "care_coordination", frozenset({"read"}), datetime(2024, 1, 1, tzinfo=UTC), None)
    engine = create_engine(record_url)
    with Session(engine) as session, session.begin():
        projection.apply(session, events.GRANT_GIVEN, events.grant_given(person, terms, 1))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per phase")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before each phase")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")

    work = Path(tempfile.mkdtemp(prefix="relais-gateway-bench-"))
    gateway_port, record_port, bare_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RELAIS_VAR_DIR": str(work / "var"),
        "RELAIS_PORT": str(gateway_port),
        "RECORD_URL": f"http://127.0.0.1:{record_port}",
        "ALERTS_URL": f"http://127.0.0.1:{bare_port}",  # the bare app, behind the gateway as "alerts"
        "RELAIS_LOG_LEVEL": "WARNING",
        "RELAIS_TOKEN_TTL_SECONDS": "3600",
        "RELAIS_RATE_LIMIT_CLIENT_PER_MINUTE": "100000000",
        "RELAIS_RATE_LIMIT_ADDRESS_PER_MINUTE": "100000000",
        "GATEWAY_DATABASE_URL": f"sqlite:///{work / 'gateway.db'}",
        "RECORD_DATABASE_URL": f"sqlite:///{work / 'record.db'}",
    }
    os.environ.update({k: v for k, v in env.items() if k != "PYTHONPATH"})
    sys.path.insert(0, str(ROOT))
    from services.gateway import admin
    from shared.db.migrations import upgrade

    for service in ("gateway", "record"):
        upgrade(service, env[f"{service.upper()}_DATABASE_URL"])
    client_id, secret = admin.create_client("bench", ["record:read"], "bench-org", "case_manager")
    person = uuid.uuid4()
    _grant_to_bench_org(env["RECORD_DATABASE_URL"], str(person))

    processes = []
    try:
        processes.append(gunicorn("services.gateway.app:create_app()", "gateway", env, gateway_port,
                                  work / "gateway.log"))
        processes.append(gunicorn("services.record.app:create_app()", "record", env, record_port,
                                  work / "record.log"))
        processes.append(gunicorn("bench.gateway_bare_app:app", "record", env, bare_port, work / "bare.log"))
        for port, process in zip((gateway_port, record_port, bare_port), processes, strict=True):
            wait_http(f"http://127.0.0.1:{port}/healthz", process)
        token = requests.post(f"http://127.0.0.1:{gateway_port}/oauth/token", auth=(client_id, secret),
                              data={"grant_type": "client_credentials"}, timeout=10).json()["access_token"]
        phases = {
            "bare Flask {ok: true}": (f"http://127.0.0.1:{bare_port}/ok", None),
            "bare Flask, through gateway": (f"http://127.0.0.1:{gateway_port}/api/v1/alerts/ok", token),
            "record, direct": (f"http://127.0.0.1:{record_port}/beneficiaries/{person}/timeline", token),
            "record, through the gateway": (
                f"http://127.0.0.1:{gateway_port}/api/v1/record/beneficiaries/{person}/timeline", token),
        }
        for name, (url, bearer) in phases.items():
            answer = requests.get(url, headers={"Authorization": f"Bearer {bearer}"} if bearer else {}, timeout=10)
            if answer.status_code != 200:
                raise SystemExit(f"{name}: {answer.status_code} {answer.text[:300]}")
        results: dict[str, list[dict[str, float]]] = {name: [] for name in phases}
        for run in range(args.runs):
            for name, (url, bearer) in phases.items():
                if args.warmup:
                    warm = argparse.Namespace(**{**vars(args), "duration": args.warmup})
                    wrk(url, bearer, warm)
                results[name].append(wrk(url, bearer, args))
                print(f"run {run + 1} {name}: {results[name][-1]}", file=sys.stderr)
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)

    print(f"machine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, median of {args.runs} runs; "
          f"{server_sizes(env)}")
    print(f"{'call':<30} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    medians = {}
    for name, runs in results.items():
        middle = sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]
        medians[name] = middle
        print(f"{name:<30} {middle['rps']:>9.0f} {middle['p50_ms']:>8.2f} {middle['p99_ms']:>8.2f} "
              f"{middle['non_2xx']:>8.0f}")
    # Paired within each run (the two phases ran back to back), then the median of the runs.
    paired = [1 - g["rps"] / d["rps"] for d, g in
              zip(results["record, direct"], results["record, through the gateway"], strict=True)]
    cost = statistics.median(paired)
    print(f"gateway hop cost per run: {', '.join(f'{c:.0%}' for c in paired)}; median {cost:.0%} of the "
          f"direct throughput (goal: at most {GOAL:.0%}) -> {'met' if cost <= GOAL else 'NOT met'}; "
          f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
