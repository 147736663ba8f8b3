"""The audit service's worker: it ingests audit events into the log, one tree append per
batch, and signs a checkpoint every few seconds when entries came in."""

from __future__ import annotations

import threading

from services.audit import handlers
from services.audit.adapters import orm
from services.audit.consumers import QUEUE, batch_hook, on_audit_event
from services.audit.settings import AuditSettings, audit_settings
from shared.bus.consumer import Consumer
from shared.config import load_settings
from shared.logs import configure_logging, get_logger
from shared.runtime import ServiceRuntime, build_runtime

log = get_logger("relais.audit")


class Checkpointer:
    """Signs a checkpoint when the head moved and the last one is older than the interval."""

    def __init__(self, runtime: ServiceRuntime, settings: AuditSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.wait(self.settings.checkpoint_seconds):
            try:
                with self.runtime.sessions() as session, session.begin():
                    handlers.checkpoint_now(session, self.settings)
            except Exception as exc:  # the database may be away for a while: try again later
                log.warning("checkpoint not made", error=type(exc).__name__)

    def stop(self) -> None:
        self._stopping.set()


def make_consumer(runtime: ServiceRuntime, settings: AuditSettings) -> Consumer:
    bus = runtime.settings.bus
    assert runtime.processed_table is not None
    return Consumer(
        QUEUE,
        on_audit_event,
        runtime.engine,
        runtime.processed_table,
        bus.amqp_url,
        prefetch=bus.prefetch,
        batch_size=bus.consumer_batch,
        max_attempts=bus.max_attempts,
        retry_delays=bus.retry_delays,
        heartbeat_file=runtime.heartbeat_file,
        on_batch=batch_hook(settings),
    )


def main() -> None:
    from shared.bus.worker import run_until_signalled

    settings = load_settings("audit")
    configure_logging("audit-worker", settings.log_level, settings.log_format)
    runtime = build_runtime(settings, orm.metadata)
    audit = audit_settings(settings.var_dir)
    run_until_signalled("audit", [make_consumer(runtime, audit), Checkpointer(runtime, audit)])


if __name__ == "__main__":
    main()
