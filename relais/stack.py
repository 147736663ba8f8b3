"""The whole stack on one machine: which processes make it, starting them, watching them,
stopping them, and what they cost in memory."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests

from shared.config import SERVICES, service_port

WORKER_SERVICES = ("consent", "record", "alerts", "audit")


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    health_url: str | None = None


def stack_processes(environ: dict[str, str]) -> list[ProcessSpec]:
    """Every process `relais up` starts: one web server per service, one worker per service
    that publishes or consumes events."""
    python = sys.executable
    host = environ.get("RELAIS_HOST", "127.0.0.1")
    specs = []
    for service in SERVICES:
        port = service_port(service, environ)
        specs.append(
            ProcessSpec(
                name=service,
                argv=(python, "-m", "relais", "serve", service),
                health_url=f"http://{host}:{port}/healthz",
            )
        )
    for service in WORKER_SERVICES:
        specs.append(ProcessSpec(name=f"{service}-worker", argv=(python, "-m", "relais", "worker", service)))
    return specs


def state_file(var_dir: Path) -> Path:
    return var_dir / "run" / "stack.json"


class Stack:
    """Starts the processes, watches them, and stops them all on a signal or a failure."""

    def __init__(self, var_dir: Path, environ: dict[str, str], *, stream_logs: bool = False) -> None:
        self.var_dir = var_dir
        self.environ = environ
        self.stream_logs = stream_logs
        self.children: dict[str, subprocess.Popen] = {}
        self._stopping = False

    def log_path(self, name: str) -> Path:
        return self.var_dir / "log" / f"{name}.log"

    def start(self, specs: Iterable[ProcessSpec]) -> None:
        (self.var_dir / "log").mkdir(parents=True, exist_ok=True)
        metrics_root = self.var_dir / "metrics"
        shutil.rmtree(metrics_root, ignore_errors=True)
        for spec in specs:
            env = dict(self.environ)
            env.update(spec.env)
            service = spec.name.removesuffix("-worker")
            metrics_dir = metrics_root / spec.name
            metrics_dir.mkdir(parents=True, exist_ok=True)
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
            env["RELAIS_SERVICE"] = service
            if self.stream_logs:
                stdout = None
            else:
                stdout = open(self.log_path(spec.name), "ab", buffering=0)
            self.children[spec.name] = subprocess.Popen(
                spec.argv,
                env=env,
                stdout=stdout,
                stderr=subprocess.STDOUT if stdout is not None else None,
                start_new_session=True,  # our Ctrl-C is handled here, then passed on in order
            )
        self._write_state()

    def _write_state(self) -> None:
        path = state_file(self.var_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(
                {
                    "supervisor_pid": os.getpid(),
                    "started_at": time.time(),
                    "processes": [
                        {"name": name, "pid": child.pid} for name, child in self.children.items()
                    ],
                },
                indent=2,
            )
        )

    def wait_healthy(self, specs: Iterable[ProcessSpec], timeout: float = 60.0) -> str | None:
        """None when every web process answers /healthz; else the name of the one that failed."""
        deadline = time.monotonic() + timeout
        pending = {s.name: s.health_url for s in specs if s.health_url}
        while pending and time.monotonic() < deadline:
            for name, child in self.children.items():
                if child.poll() is not None:
                    return name
            for name, url in list(pending.items()):
                try:
                    if requests.get(url, timeout=1).status_code == 200:
                        del pending[name]
                except requests.RequestException:
                    pass
            time.sleep(0.2)
        return next(iter(pending), None)

    def watch(self) -> str | None:
        """Block until a signal or until a child dies; returns the name of a dead child."""

        def _on_signal(signum, _frame):
            self._stopping = True

        signal.signal(signal.SIGINT, _on_signal)
        signal.signal(signal.SIGTERM, _on_signal)
        while not self._stopping:
            for name, child in self.children.items():
                if child.poll() is not None:
                    return name
            time.sleep(0.3)
        return None

    def stop(self, grace_seconds: float = 15.0) -> None:
        # Web servers first (no new work), then workers (they finish their batch and ack).
        order = sorted(self.children.items(), key=lambda item: item[0].endswith("-worker"))
        for _name, child in order:
            if child.poll() is None:
                try:
                    os.killpg(child.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace_seconds
        for _name, child in order:
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(child.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                child.wait()
        state = state_file(self.var_dir)
        if state.exists():
            state.unlink()

    def tail(self, name: str, lines: int = 15) -> str:
        path = self.log_path(name)
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass(frozen=True)
class ProcessStatus:
    name: str
    pid: int
    alive: bool
    rss_bytes: int
    processes: int


def read_status(var_dir: Path) -> tuple[dict | None, list[ProcessStatus]]:
    """The running stack as the state file names it, with the resident memory of each
    process tree (a gunicorn master and its workers count together)."""
    path = state_file(var_dir)
    if not path.exists():
        return None, []
    state = json.loads(path.read_text())
    statuses = []
    for entry in state["processes"]:
        try:
            root = psutil.Process(entry["pid"])
            tree = [root, *root.children(recursive=True)]
            rss = 0
            for proc in tree:
                try:
                    rss += proc.memory_info().rss
                except psutil.Error:
                    pass
            statuses.append(ProcessStatus(entry["name"], entry["pid"], root.is_running(), rss, len(tree)))
        except psutil.Error:
            statuses.append(ProcessStatus(entry["name"], entry["pid"], False, 0, 0))
    return state, statuses
