"""gunicorn, started as every service is (shared/web/gunicorn_conf.py), freezes what its worker
made to load the app (shared/heap.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def test_a_gunicorn_worker_answers_with_its_startup_objects_frozen(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RELAIS_VAR_DIR": str(tmp_path),
           "RELAIS_SERVICE": "record", "RELAIS_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "python:shared.web.gunicorn_conf",
         "--bind", f"127.0.0.1:{port}", "tests.support.heap_app:app"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.stderr.read().decode()
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "gunicorn did not answer in 30 s"
                time.sleep(0.1)
        assert answer.status_code == 200
        assert int(answer.text) > 1000  # the modules and the app, at least
    finally:
        server.terminate()
        server.wait(timeout=30)
