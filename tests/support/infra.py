"""Real PostgreSQL databases and RabbitMQ virtual hosts for tests, made and removed per test."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from urllib.parse import quote

import pika
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_SERVER = os.environ.get(
    "RELAIS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
AMQP_HOST = os.environ.get("RELAIS_TEST_AMQP_HOST", "127.0.0.1:5672")
AMQP_USER = os.environ.get("RELAIS_TEST_AMQP_USER", "guest")
AMQP_PASSWORD = os.environ.get("RELAIS_TEST_AMQP_PASSWORD", "guest")


def _admin_engine():
    return create_engine(make_url(PG_SERVER), isolation_level="AUTOCOMMIT")


def create_database(prefix: str = "relais_test") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = _admin_engine()
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    name = make_url(url).database
    engine = _admin_engine()
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def rabbitmqctl(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, check=check, timeout=120)


def create_vhost() -> tuple[str, str]:
    """A fresh virtual host; returns (name, AMQP URL)."""
    name = f"relais-test-{uuid.uuid4().hex[:10]}"
    rabbitmqctl("add_vhost", name)
    rabbitmqctl("set_permissions", "-p", name, AMQP_USER, ".*", ".*", ".*")
    url = f"amqp://{AMQP_USER}:{AMQP_PASSWORD}@{AMQP_HOST}/{quote(name, safe='')}"
    return name, url


def delete_vhost(name: str) -> None:
    rabbitmqctl("delete_vhost", name, check=False)


def wait_for_broker(url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            pika.BlockingConnection(pika.URLParameters(url)).close()
            return
        except pika.exceptions.AMQPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def restart_broker(down_seconds: float = 2.0) -> None:
    """Stop the RabbitMQ application (every connection drops), then start it again."""
    rabbitmqctl("stop_app")
    try:
        time.sleep(down_seconds)
    finally:
        rabbitmqctl("start_app")
    rabbitmqctl("await_startup", check=False)


def queue_depth(url: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        connection.close()


def wait_until(predicate, timeout: float = 60.0, interval: float = 0.1, message: str = "condition"):
    """Poll ``predicate`` until it is truthy (eventual consistency), or fail with ``message``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(interval)
