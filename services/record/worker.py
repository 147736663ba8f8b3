"""The record service's worker: its outbox relay, its consent projection and its alert counts."""

from services.record import consumers
from services.record.adapters import orm
from shared.runtime import run_worker


def main() -> None:
    run_worker("record", orm.metadata, lambda runtime: consumers.consumers(runtime.outbox))


if __name__ == "__main__":
    main()
