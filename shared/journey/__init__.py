"""The journey as other services see it: the contract of the ``record.*`` events."""
