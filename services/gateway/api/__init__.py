"""The gateway's HTTP entry points."""
