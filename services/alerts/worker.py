"""The alerts service's worker: its outbox relay, its journey and consent consumers, the
periodic scan and the webhook deliverer."""

from services.alerts import consumers
from services.alerts.adapters import orm
from services.alerts.app import build_context
from services.alerts.background import Scanner, WebhookDeliverer
from shared.runtime import ServiceRuntime, run_worker


def _consumers(runtime: ServiceRuntime):
    assert runtime.outbox is not None
    return consumers.consumers(build_context(runtime.settings), runtime.outbox)


def _parts(runtime: ServiceRuntime) -> list:
    ctx = build_context(runtime.settings)
    return [Scanner(ctx), WebhookDeliverer(ctx)]


def main() -> None:
    run_worker("alerts", orm.metadata, _consumers, parts=_parts)


if __name__ == "__main__":
    main()
