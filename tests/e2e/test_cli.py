"""The `relais` command's answers when something is missing."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.stack import ROOT


def _relais(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "relais", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )


def test_up_without_a_broker_says_so_in_one_line_and_fails(tmp_path):
    result = _relais("up", AMQP_URL="amqp://guest:secret@127.0.0.1:1/%2F", RELAIS_VAR_DIR=str(tmp_path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "RabbitMQ is not answering" in lines[0] and "rabbitmq-server" in lines[0]
    assert "secret" not in lines[0]


def test_status_when_nothing_runs(tmp_path):
    result = _relais("status", RELAIS_VAR_DIR=str(tmp_path))
    assert result.returncode == 3
    assert "not running" in result.stdout


def test_bad_configuration_is_named(tmp_path):
    result = _relais("up", RELAIS_VAR_DIR=str(tmp_path), RELAIS_PREFETCH="lots")
    assert result.returncode != 0
    assert "RELAIS_PREFETCH" in result.stderr
    assert "Traceback" not in result.stderr


def test_create_client_refuses_unknown_scopes(tmp_path):
    result = _relais("admin", "create-client", "--name", "x", "--scopes", "record:read everything",
                     RELAIS_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "everything" in result.stderr
