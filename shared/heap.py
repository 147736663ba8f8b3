"""The objects a process makes while it starts live as long as it does: the modules, the app
with its routes and schemas, the vocabularies, the engine, the relay and consumers. Each full
collection of the cyclic garbage collector walks all of them, holding the interpreter, and so
every request of the process, for as long as the walk takes (bench/gc_pause.py: 57-71 ms for
the 106,000-117,000 objects of each service on the machine of 4 December 2026).

``settle`` is called once a process is ready: it collects what starting left behind, then
moves every object still tracked to the collector's permanent generation (``gc.freeze``), which
no collection walks again. What the process makes afterwards is collected as before. gunicorn
calls it once a worker has loaded its app (``shared/web/gunicorn_conf.py``), and every
service's worker process before its parts start (``shared/bus/worker.py``)."""

from __future__ import annotations

import gc


def settle() -> int:
    """Collect, then freeze what is left; the number of objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
