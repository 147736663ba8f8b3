"""Alerts as other services see them: the contract of the ``alert.*`` events."""
