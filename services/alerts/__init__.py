"""alerts: when someone has not been seen for too long, a prompt to reach out — never a sanction."""
