"""Start the real stack (`relais up`) as a subprocess, on free ports, fresh databases and a
fresh RabbitMQ virtual host, for end-to-end tests."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from shared.config import SERVICES
from tests.support import infra

ROOT = Path(__file__).resolve().parents[2]


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_ports() -> tuple[int, int]:
    """A gateway port and a base whose +1..+4 are free."""
    for _ in range(200):
        # Below the kernel's ephemeral range (32768 and up on Linux): a port there can be taken
        # by any outgoing connection between this check and the service binding it.
        base = random.randrange(20000, 32700, 10)
        if all(_port_free(base + i) for i in range(0, 5)) and _port_free(base + 7):
            return base + 7, base
    raise RuntimeError("no free ports")


@dataclass
class RunningStack:
    env: dict[str, str]
    process: subprocess.Popen
    database_urls: dict[str, str]
    vhost: str
    gateway: str
    output: list[str] = field(default_factory=list)

    def relais(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "relais", *args],
            env=self.env, cwd=ROOT, capture_output=True, text=True, check=check, timeout=120,
        )

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_stack(var_dir: Path) -> RunningStack:
    database_urls = {service: infra.create_database(f"relais_e2e_{service}") for service in SERVICES}
    vhost, amqp_url = infra.create_vhost()
    gateway_port, base = free_ports()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RELAIS_VAR_DIR": str(var_dir),
        "AMQP_URL": amqp_url,
        "RELAIS_PORT": str(gateway_port),
        "RELAIS_SERVICE_PORT_BASE": str(base),
        "RELAIS_RELAY_POLL_SECONDS": "0.05",
        "ALERTS_SCAN_INTERVAL_SECONDS": "1",
        **{f"{service.upper()}_DATABASE_URL": url for service, url in database_urls.items()},
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "relais", "up"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    stack = RunningStack(env, process, database_urls, vhost, f"http://127.0.0.1:{gateway_port}")
    deadline = time.monotonic() + 120
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        stack.output.append(line)
        if line.startswith("Relais is up"):
            return stack
    stack.stop()
    teardown(stack)
    raise AssertionError("the stack did not start:\n" + "".join(stack.output))


def teardown(stack: RunningStack) -> None:
    from shared.db.engine import dispose_engines

    dispose_engines()
    for url in stack.database_urls.values():
        infra.drop_database(url)
    infra.delete_vhost(stack.vhost)
