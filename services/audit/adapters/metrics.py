"""The audit service's own metrics."""

from prometheus_client import Gauge

SEQUENCE_GAP = Gauge(
    "relais_audit_sequence_gap_events",
    "Events of a source missing from the audit log (gaps in its outbox sequence)",
    ["source"],
    multiprocess_mode="max",
)
