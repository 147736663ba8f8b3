"""gateway: the one public door — OAuth authorization server, token issuer and reverse proxy."""
