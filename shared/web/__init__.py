"""The HTTP side shared by every service."""
