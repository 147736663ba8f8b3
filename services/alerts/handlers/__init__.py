"""The alerts service's layer of handlers: one function per command and per consumed event."""
