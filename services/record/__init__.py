"""record: the objective-data-only journey of a person (contacts, steps, episodes, transitions)."""

SERVICE = "record"
