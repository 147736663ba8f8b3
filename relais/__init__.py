"""The `relais` command: start, stop and look after the whole stack on one machine."""
