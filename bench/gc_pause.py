#!/usr/bin/env python
"""How long a full collection of the garbage collector holds a service's interpreter, before
and after the process freezes what it made to start (shared/heap.py).

For each service, in a fresh interpreter: builds the web app as a gunicorn worker does
(`services.<service>.app:create_app()`, with a temporary RELAIS_VAR_DIR and its default SQLite
database), counts the objects the collector tracks, times `gc.collect()` (the median of
--repeat, after one untimed), then calls `shared.heap.settle()` (collect, then `gc.freeze()`,
what gunicorn's `post_worker_init` and the service workers do) and times `gc.collect()` again
in the same process. A full collection runs on its own every so often in a busy process; while
it walks, no thread of the process runs, so each request in flight waits for it whole.

    .venv/bin/python bench/gc_pause.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _collection_ms(repeat: int) -> float:
    gc.collect()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        gc.collect()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def measure(service: str, repeat: int) -> dict[str, float]:
    """In this process: the app of ``service``, then a full collection before and after settling."""
    from shared.heap import settle

    importlib.import_module(f"services.{service}.app").create_app()
    tracked = len(gc.get_objects())
    before = _collection_ms(repeat)
    frozen = settle()
    after = _collection_ms(repeat)
    return {"tracked": tracked, "before_ms": before, "frozen": frozen, "after_ms": after,
            "left": len(gc.get_objects())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.repeat)))
        return
    from shared.config import SERVICES

    print(f"machine: {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"median of {args.repeat} full collections")
    print(f"{'service':10s} {'tracked':>9s} {'full collection':>16s} {'frozen':>9s} {'left':>7s} "
          f"{'after settle':>13s}")
    for service in SERVICES:
        with tempfile.TemporaryDirectory(prefix="relais-gc-") as var_dir:
            env = {**os.environ, "PYTHONPATH": str(ROOT), "RELAIS_VAR_DIR": var_dir,
                   "RELAIS_SERVICE": service, "RELAIS_LOG_LEVEL": "WARNING"}
            out = subprocess.run([sys.executable, __file__, "--child", service, "--repeat", str(args.repeat)],
                                 env=env, cwd=ROOT, capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{service:10s} {row['tracked']:>9,d} {row['before_ms']:>13.1f} ms {row['frozen']:>9,d} "
              f"{row['left']:>7,d} {row['after_ms']:>10.3f} ms")


if __name__ == "__main__":
    main()
