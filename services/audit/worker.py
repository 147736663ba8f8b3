"""The audit service's worker: it ingests audit events into the log."""

from services.audit.adapters import orm
from services.audit.consumers import CONSUMERS
from shared.runtime import run_worker


def main() -> None:
    run_worker("audit", orm.metadata, CONSUMERS, relay=False)


if __name__ == "__main__":
    main()
