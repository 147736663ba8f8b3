"""`relais`: run the stack, apply migrations, look at it, administer it."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from pathlib import Path

import click
import requests

from shared.config import SERVICES, ConfigError, load_settings, service_database_url

WORKER_MODULES = {
    "consent": "services.consent.worker",
    "record": "services.record.worker",
    "alerts": "services.alerts.worker",
    "audit": "services.audit.worker",
}


def _var_dir() -> Path:
    return Path(os.environ.get("RELAIS_VAR_DIR", "var")).resolve()


def _masked(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


@click.group()
def main() -> None:
    """Relais: a consent-based shared coordination record."""


# -- running the stack ----------------------------------------------------------------------
@main.command()
@click.option("--logs", is_flag=True, help="Stream every process's logs here instead of var/log/.")
def up(logs: bool) -> None:
    """Start the gateway, every service, relay and consumer; Ctrl-C stops them all."""
    from relais.stack import Stack, stack_processes
    from shared.bus.topology import broker_reachable

    try:
        settings = load_settings("gateway")
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    amqp_url = settings.bus.amqp_url
    if not broker_reachable(amqp_url, timeout=3.0):
        click.echo(
            f"RabbitMQ is not answering at {_masked(amqp_url)}: start it "
            "(`sudo rabbitmq-server -detached` or `sudo systemctl start rabbitmq-server`) "
            "or set AMQP_URL.",
            err=True,
        )
        sys.exit(2)
    # In a process of its own: the supervisor then stays small, for it only watches the others.
    migrated = subprocess.run([sys.executable, "-m", "relais", "migrate"], capture_output=True, text=True)
    if migrated.returncode != 0:
        click.echo((migrated.stderr or migrated.stdout).strip(), err=True)
        sys.exit(migrated.returncode)
    environ = dict(os.environ)
    environ["RELAIS_VAR_DIR"] = str(_var_dir())
    specs = stack_processes(environ)
    stack = Stack(_var_dir(), environ, stream_logs=logs)
    stack.start(specs)
    failed = stack.wait_healthy(specs)
    if failed:
        click.echo(f"{failed} did not start; its last log lines:\n{stack.tail(failed)}", err=True)
        stack.stop()
        sys.exit(1)
    gateway = f"http://{settings.host}:{settings.port}"
    click.echo(
        f"Relais is up: the gateway answers at {gateway} "
        f"({len(specs)} processes; logs in {_var_dir() / 'log'}; `relais status` shows them). "
        "Ctrl-C stops everything."
    )
    died = stack.watch()
    if died:
        click.echo(f"{died} stopped unexpectedly; stopping the stack. Last lines:\n{stack.tail(died)}", err=True)
    click.echo("Stopping Relais…")
    stack.stop()
    click.echo("Stopped.")
    if died:
        sys.exit(1)


def _migrate_all(services: tuple[str, ...] = SERVICES) -> None:
    from shared.db.migrations import upgrade

    for service in services:
        url = service_database_url(service)
        try:
            upgrade(service, url)
        except Exception as exc:  # say which database, in one line, without the password
            raise click.ClickException(
                f"migrating {service} on {_masked(url)} failed: {type(exc).__name__}: {exc}"
            ) from None
    # The gateway needs a signing key before it can issue or verify anything.
    from services.gateway.app import key_store

    key_store(load_settings("gateway")).ensure_key()
    if "gateway" in services:  # the web pages sign people in as the gateway's own client
        from services.gateway.admin import ensure_web_client

        ensure_web_client()


@main.command()
@click.argument("service", required=False, type=click.Choice(SERVICES))
def migrate(service: str | None) -> None:
    """Apply database migrations (every service, or one)."""
    _migrate_all((service,) if service else SERVICES)
    click.echo("Migrations applied: " + ", ".join((service,) if service else SERVICES))


@main.command()
def status() -> None:
    """Show the processes of the running stack, their memory and their health."""
    from relais.stack import read_status

    state, statuses = read_status(_var_dir())
    if state is None:
        click.echo("Relais is not running (no var/run/stack.json).")
        sys.exit(3)
    total = 0
    click.echo(f"{'process':<16} {'pid':>7} {'state':<8} {'rss MiB':>8}  health")
    for entry in statuses:
        health = ""
        if not entry.name.endswith("-worker"):
            health = _health_of(entry.name)
        total += entry.rss_bytes
        click.echo(
            f"{entry.name:<16} {entry.pid:>7} {'running' if entry.alive else 'dead':<8} "
            f"{entry.rss_bytes / 2**20:>8.1f}  {health}"
        )
    click.echo(f"{'total':<16} {'':>7} {'':<8} {total / 2**20:>8.1f}")


def _health_of(service: str) -> str:
    settings = load_settings(service)
    try:
        response = requests.get(f"http://{settings.host}:{settings.port}/readyz", timeout=3)
        return "ready" if response.status_code == 200 else f"not ready ({response.json().get('checks')})"
    except requests.RequestException:
        return "not answering"


# -- one process of the stack (used by `up`, containers and Kubernetes) ---------------------
@main.command()
@click.argument("service", type=click.Choice(SERVICES))
def serve(service: str) -> None:
    """Serve one service's HTTP API under gunicorn."""
    os.environ["RELAIS_SERVICE"] = service
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:shared.web.gunicorn_conf",
        f"services.{service}.app:create_app()",
    ]
    os.execv(sys.executable, argv)


@main.command()
@click.argument("service", type=click.Choice(sorted(WORKER_MODULES)))
def worker(service: str) -> None:
    """Run one service's outbox relay and event consumers."""
    importlib.import_module(WORKER_MODULES[service]).main()


@main.command()
@click.argument("url")
def probe(url: str) -> None:
    """Exit 0 when URL answers 2xx within 3 seconds (for container health checks)."""
    try:
        ok = 200 <= requests.get(url, timeout=3).status_code < 300
    except requests.RequestException:
        ok = False
    sys.exit(0 if ok else 1)


@main.command("probe-worker")
@click.argument("service", type=click.Choice(sorted(WORKER_MODULES)))
@click.option("--max-age", default=30.0, show_default=True, help="Seconds.")
def probe_worker(service: str, max_age: float) -> None:
    """Exit 0 when the worker's heartbeat is fresh."""
    path = load_settings(service).var_dir / "run" / f"{service}-worker.heartbeat"
    fresh = path.exists() and time.time() - path.stat().st_mtime < max_age
    sys.exit(0 if fresh else 1)


@main.command()
@click.option("--url", default=None, help="The gateway (default: this machine's, from RELAIS_PORT).")
def demo(url: str | None) -> None:
    """Fill the running stack with a small synthetic bassin and say how to sign in."""
    from relais.demo import DemoError, load

    settings = load_settings("gateway")
    base = url or settings.issuer
    try:
        loaded = load(base, log=lambda line: click.echo(f"- {line}", err=True))
    except (DemoError, requests.RequestException) as exc:
        raise click.ClickException(str(exc)) from None
    p = loaded.passwords
    click.echo(f"""
Relais is filled with a demo bassin: 8 organisations, 20 persons (every name made up).
Sign in at {base}/ with:

  the person         bea    {p['bea']}
  a case manager     lea    {p['lea']}    (CPAS d'Ixelles, the référent of all twenty)
  an outreach worker sam    {p['sam']}
  a psychologist     nadia  {p['nadia']}    (sees the psychiatric stay nobody else sees)
  the auditor        dora   {p['dora']}    + the code of `relais admin totp-code {loaded.auditor_totp_secret}`

The passwords are shown once. Other professionals: {', '.join(f'{n} {p[n]}' for n in ('tom', 'yves', 'ines', 'marc', 'julie'))}.
The alerts (a person not met for six weeks, a late service of the exit protocol) reach lea's
inbox at the alerts service's next scan, within ALERTS_SCAN_INTERVAL_SECONDS.""")


# -- administration and audit (their own modules) -----------------------------------------
from relais.audit_commands import audit as audit_commands  # noqa: E402
from relais.gateway_commands import admin, keys  # noqa: E402

main.add_command(admin)
main.add_command(keys)
main.add_command(audit_commands)


if __name__ == "__main__":
    main()
