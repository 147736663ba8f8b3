"""The alerts service's worker: its outbox relay and its journey consumer."""

from services.alerts.adapters import orm
from services.alerts.consumers import CONSUMERS
from shared.runtime import run_worker


def main() -> None:
    run_worker("alerts", orm.metadata, CONSUMERS)


if __name__ == "__main__":
    main()
