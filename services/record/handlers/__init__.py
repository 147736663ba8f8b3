"""The record service's handlers: one function per command (writing.py, reading.py) and per
consumed event (events.py)."""
