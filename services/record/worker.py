"""The record service's worker: its outbox relay."""

from services.record.adapters import orm
from shared.runtime import run_worker


def main() -> None:
    run_worker("record", orm.metadata)


if __name__ == "__main__":
    main()
