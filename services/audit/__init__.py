"""audit: the append-only log of every access and consent change, for auditors and for the person."""
