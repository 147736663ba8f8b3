"""The consent service's worker: its outbox relay, the consumer of projection
acknowledgements (strict withdrawal) and the expiry of grants whose period ended."""

from __future__ import annotations

import threading

from services.consent import consumers
from services.consent.adapters import orm
from shared.logs import get_logger

log = get_logger("relais.consent.expiry")


class GrantExpiry:
    """Every ``interval`` seconds, marks ended grants expired and publishes it."""

    def __init__(self, interval: float = 30.0) -> None:
        self.interval = interval
        self._stopping = threading.Event()

    def run(self) -> None:
        from services.consent.app import build_context
        from services.consent.handlers.grants import expire_due_grants
        from shared.config import load_settings

        ctx = build_context(load_settings("consent"))
        while not self._stopping.wait(self.interval):
            try:
                expired = expire_due_grants(ctx)
                if expired:
                    log.info("grants expired", count=expired)
            except Exception as exc:  # the next round tries again
                log.warning("expiry round failed", error=type(exc).__name__)

    def stop(self) -> None:
        self._stopping.set()


def main() -> None:
    from shared.bus.consumer import Consumer
    from shared.bus.topology import SUBSCRIPTIONS
    from shared.bus.worker import run_until_signalled
    from shared.config import load_settings
    from shared.logs import configure_logging
    from shared.runtime import build_runtime

    settings = load_settings("consent")
    configure_logging("consent-worker", settings.log_level, settings.log_format)
    runtime = build_runtime(settings, orm.metadata)
    bus = settings.bus
    # Declared here too, so the queue exists before topology.py lists it.
    subscriptions = tuple({s.queue: s for s in (*SUBSCRIPTIONS, consumers.SUBSCRIPTION)}.values())
    acks = Consumer(
        consumers.ACKS_QUEUE, consumers.projection_acknowledged, runtime.engine,
        orm.processed_events, bus.amqp_url, prefetch=bus.prefetch, batch_size=bus.consumer_batch,
        max_attempts=bus.max_attempts, retry_delays=bus.retry_delays,
        heartbeat_file=runtime.heartbeat_file, subscriptions=subscriptions,
    )
    run_until_signalled("consent", [runtime.relay(), acks, GrantExpiry()])


if __name__ == "__main__":
    main()
