"""/readyz tells the truth about the database and the broker, against the real servers."""

from __future__ import annotations

import pytest

from services.record.app import create_app
from shared.config import load_settings
from shared.db.migrations import upgrade

pytestmark = pytest.mark.integration


def _app(tmp_path, **environ):
    settings = load_settings("record", environ={"RELAIS_VAR_DIR": str(tmp_path), **environ})
    return create_app(settings=settings)


def test_ready_when_postgresql_and_rabbitmq_answer(tmp_path, pg_url, amqp_url):
    upgrade("record", pg_url)
    response = _app(tmp_path, RECORD_DATABASE_URL=pg_url, AMQP_URL=amqp_url).test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_not_ready_without_the_broker(tmp_path, pg_url):
    app = _app(tmp_path, RECORD_DATABASE_URL=pg_url, AMQP_URL="amqp://guest:guest@127.0.0.1:1/%2F")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": "ok", "broker": "unavailable"}


def test_not_ready_without_the_database(tmp_path, amqp_url):
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/relais_record"
    app = _app(tmp_path, RECORD_DATABASE_URL=unreachable, AMQP_URL=amqp_url)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "unavailable"
    assert "Traceback" not in response.get_data(as_text=True)
    # alive all the same: liveness does not depend on anything
    assert app.test_client().get("/healthz").status_code == 200
