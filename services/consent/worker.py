"""The consent service's worker: its outbox relay."""

from services.consent.adapters import orm
from shared.runtime import run_worker


def main() -> None:
    run_worker("consent", orm.metadata)


if __name__ == "__main__":
    main()
