"""Shared fixtures: real PostgreSQL databases and RabbitMQ virtual hosts, made per test."""

from __future__ import annotations

import pytest

from shared.db.engine import dispose_engines
from tests.support import infra


@pytest.fixture
def pg_url():
    url = infra.create_database()
    yield url
    dispose_engines()
    infra.drop_database(url)


@pytest.fixture
def amqp_url():
    name, url = infra.create_vhost()
    yield url
    infra.delete_vhost(name)
