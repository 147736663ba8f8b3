#!/usr/bin/env python
"""Memory of the whole stack on one machine, idle, as `relais up` runs it.

Starts `relais up` in a subprocess with a temporary RELAIS_VAR_DIR (default SQLite databases),
free ports it picks itself (RELAIS_PORT, RELAIS_SERVICE_PORT_BASE) and, unless --amqp-url is
given, a temporary RabbitMQ virtual host. It waits until `relais status` shows every process
running and every web service ready, lets the stack sit idle, then reads each process tree's
memory: RSS exactly as `relais status` counts it (relais.stack.read_status), and USS and PSS
from psutil's memory_full_info(), since RSS counts shared pages (the Python interpreter, shared
libraries, pages a gunicorn master shares with its forked worker) once per process. Then it
stops the stack with SIGINT, as Ctrl-C would, and waits for every process to be gone.

    .venv/bin/python bench/stack_memory.py [--idle 5] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from relais.stack import read_status, state_file  # noqa: E402

GOAL_BYTES = 1 << 30
MiB = 1 << 20
EXPECTED_PROCESSES = 9


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def pick_ports() -> tuple[int, int]:
    """A gateway port and a service base whose +1..+4 are all free."""
    for _ in range(500):
        base = random.randrange(20000, 60000, 10)
        if all(port_free(base + i) for i in range(1, 5)) and port_free(base + 8):
            return base + 8, base
    raise SystemExit("no free ports found between 20000 and 60000")


def relais_command() -> list[str]:
    script = Path(sys.executable).with_name("relais")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "relais"]


@dataclass
class TreeMemory:
    name: str
    pid: int
    processes: int
    rss: int
    uss: int | None
    pss: int | None
    members: list[tuple[int, str, int, int | None, int | None]]  # pid, role, rss, uss, pss


def tree_memory(name: str, pid: int) -> TreeMemory:
    root = psutil.Process(pid)
    tree = [root, *root.children(recursive=True)]
    rss = 0
    uss: int | None = 0
    pss: int | None = 0
    members = []
    for proc in tree:
        one_rss = 0
        one_uss = one_pss = None
        try:
            one_rss = proc.memory_info().rss
        except psutil.Error:
            pass
        try:
            full = proc.memory_full_info()
            one_uss, one_pss = full.uss, getattr(full, "pss", None)
        except (psutil.Error, AttributeError):
            pass
        rss += one_rss
        uss = None if uss is None or one_uss is None else uss + one_uss
        pss = None if pss is None or one_pss is None else pss + one_pss
        try:
            gunicorn = "gunicorn" in " ".join(proc.cmdline())
        except psutil.Error:
            gunicorn = False
        if proc.pid == pid:
            role = "gunicorn master" if gunicorn else "root"
        else:
            role = "gunicorn worker" if gunicorn else "child"
        members.append((proc.pid, role, one_rss, one_uss, one_pss))
    return TreeMemory(name, pid, len(tree), rss, uss, pss, members)


def mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / MiB:.1f}"


def run_status(command: list[str], env: dict[str, str]) -> tuple[int, str]:
    try:
        done = subprocess.run(
            [*command, "status"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        return -1, "`relais status` did not answer within 60 s"
    return done.returncode, done.stdout + done.stderr


def status_ready(code: int, output: str) -> bool:
    """Every process `running`, every web service `ready`, as `relais status` prints them."""
    if code != 0:
        return False
    rows = [
        line.split() for line in output.splitlines()[1:] if line and not line.startswith("total")
    ]
    if len(rows) != EXPECTED_PROCESSES:
        return False
    for row in rows:
        name, state = row[0], row[2]
        if state != "running":
            return False
        if not name.endswith("-worker") and (len(row) < 5 or row[4] != "ready"):
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--idle", type=float, default=5.0, help="seconds idle before measuring (default 5)"
    )
    parser.add_argument(
        "--start-timeout", type=float, default=120.0, help="seconds to come up (default 120)"
    )
    parser.add_argument(
        "--amqp-url", default=None, help="use this broker instead of a temporary vhost"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary var directory (logs)"
    )
    args = parser.parse_args(argv)

    command = relais_command()
    var_dir = Path(tempfile.mkdtemp(prefix="relais-mem-"))
    vhost = None
    if args.amqp_url:
        amqp_url = args.amqp_url
    else:
        vhost = f"relais-bench-mem-{uuid.uuid4().hex[:8]}"
        subprocess.run(
            ["rabbitmqctl", "add_vhost", vhost], check=True, capture_output=True, timeout=120
        )
        subprocess.run(
            ["rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        amqp_url = f"amqp://guest:guest@127.0.0.1:5672/{quote(vhost, safe='')}"
    gateway_port, base = pick_ports()
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "DATABASE_URL" and not key.endswith("_DATABASE_URL") and not key.endswith("_URL")
    }
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "RELAIS_VAR_DIR": str(var_dir),
            "AMQP_URL": amqp_url,
            "RELAIS_PORT": str(gateway_port),
            "RELAIS_SERVICE_PORT_BASE": str(base),
        }
    )
    for port in (gateway_port, *(base + i for i in range(1, 5))):
        if not port_free(port):
            raise SystemExit(f"port {port} is taken; run again")

    print(f"command: {' '.join(command)} up")
    print(
        f"var dir: {var_dir}; gateway port {gateway_port}; services on {base + 1}-{base + 4}; "
        f"broker vhost {vhost or amqp_url}; databases: SQLite (default)"
    )
    print(
        f"machine: {os.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.1f} GiB RAM; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    up_log = open(var_dir / "up.log", "wb")
    started = time.monotonic()
    stack = subprocess.Popen(
        [*command, "up"],
        env=env,
        cwd=ROOT,
        stdout=up_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    child_pids: list[int] = []
    result = 1
    try:
        deadline = time.monotonic() + args.start_timeout
        code, output = -1, ""
        while True:
            if stack.poll() is not None:
                raise SystemExit(
                    f"`relais up` exited with {stack.returncode} before it was up:\n"
                    + (var_dir / "up.log").read_text(errors="replace")[-3000:]
                )
            code, output = run_status(command, env)
            if status_ready(code, output):
                break
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"the stack was not up after {args.start_timeout:.0f} s; last status:\n{output}"
                )
            time.sleep(1.0)
        up_seconds = time.monotonic() - started
        print(f"up and ready after {up_seconds:.1f} s; idling {args.idle:.0f} s")
        time.sleep(args.idle)

        state, statuses = read_status(var_dir)
        assert state is not None
        trees = [tree_memory(s.name, s.pid) for s in statuses]
        for entry in state["processes"]:
            try:
                root = psutil.Process(entry["pid"])
                child_pids.extend([root.pid, *(p.pid for p in root.children(recursive=True))])
            except psutil.Error:
                pass
        supervisor_own = psutil.Process(stack.pid).memory_full_info()

        print()
        print("`relais status` after the idle time:")
        print(run_status(command, env)[1].rstrip())
        print()
        print(
            f"{'process tree':<16} {'pid':>7} {'procs':>5} {'RSS MiB':>9} {'USS MiB':>9} {'PSS MiB':>9}"
        )
        for t in trees:
            print(
                f"{t.name:<16} {t.pid:>7} {t.processes:>5} {mib(t.rss):>9} {mib(t.uss):>9} {mib(t.pss):>9}"
            )
            if t.processes > 1:  # e.g. a gunicorn master and its worker
                for pid, role, one_rss, one_uss, one_pss in t.members:
                    print(
                        f" {role:<15} {pid:>7} {'':>5} {mib(one_rss):>9} {mib(one_uss):>9} {mib(one_pss):>9}"
                    )

        def total(attr: str) -> int | None:
            values = [getattr(t, attr) for t in trees]
            return None if any(v is None for v in values) else sum(values)

        rss_total, uss_total, pss_total = total("rss"), total("uss"), total("pss")
        processes = sum(t.processes for t in trees)
        print(
            f"{'total (9 trees)':<16} {'':>7} {processes:>5} {mib(rss_total):>9} {mib(uss_total):>9} {mib(pss_total):>9}"
        )
        own_pss = getattr(supervisor_own, "pss", None)
        print(
            f"{'supervisor':<16} {stack.pid:>7} {1:>5} {mib(supervisor_own.rss):>9} "
            f"{mib(supervisor_own.uss):>9} {mib(own_pss):>9}   (`relais up` itself, not in `relais status`)"
        )
        grand_rss = rss_total + supervisor_own.rss
        grand_pss = None if pss_total is None or own_pss is None else pss_total + own_pss
        print(
            f"{'with supervisor':<16} {'':>7} {processes + 1:>5} {mib(grand_rss):>9} "
            f"{mib(None if uss_total is None else uss_total + supervisor_own.uss):>9} {mib(grand_pss):>9}"
        )
        print()
        met = grand_rss < GOAL_BYTES
        print(
            f"goal: total RSS under 1 GiB (1024 MiB): {rss_total / MiB:.1f} MiB for the 9 processes, "
            f"{grand_rss / MiB:.1f} MiB with the supervisor -> {'met' if met else 'NOT met'}"
        )
        result = 0 if met else 1
    finally:
        stop_started = time.monotonic()
        if stack.poll() is None:
            stack.send_signal(signal.SIGINT)
            try:
                stack.wait(timeout=60)
            except subprocess.TimeoutExpired:
                print("`relais up` did not stop within 60 s of SIGINT; killing it", file=sys.stderr)
                stack.kill()
                stack.wait()
                result = 2
        stop_seconds = time.monotonic() - stop_started
        up_log.close()
        leftovers = []
        for pid in child_pids:
            try:
                proc = psutil.Process(pid)
                if proc.status() != psutil.STATUS_ZOMBIE:
                    leftovers.append(pid)
            except psutil.NoSuchProcess:
                pass
        print(
            f"stopped with SIGINT: exit code {stack.returncode} after {stop_seconds:.1f} s; "
            f"state file {'left behind' if state_file(var_dir).exists() else 'removed'}; "
            f"processes still alive: {leftovers or 'none'}"
        )
        if leftovers:
            result = 2
            for pid in leftovers:  # processes this run started, by their id
                try:
                    psutil.Process(pid).terminate()
                except psutil.Error:
                    pass
        if vhost is not None:
            for _ in range(3):
                done = subprocess.run(
                    ["rabbitmqctl", "delete_vhost", vhost],
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                if done.returncode == 0:
                    break
                time.sleep(2)
            else:
                print(
                    f"could not delete the virtual host {vhost}: {done.stderr.strip()}",
                    file=sys.stderr,
                )
        if args.keep:
            print(f"kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)
    return result


if __name__ == "__main__":
    sys.exit(main())
