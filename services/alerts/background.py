"""The alerts worker's periodic parts, beside its relay and consumers: the scan (every
ALERTS_SCAN_INTERVAL_SECONDS: raise what is due, escalate, wake snoozes; once an hour, purge
resolved alerts past their retention) and the webhook deliverer. Each runs on its own thread
and stops at the end of its current pass; several workers may run them at once."""

from __future__ import annotations

import threading
import time

from services.alerts.handlers import scan, webhooks
from services.alerts.handlers.common import AlertsContext
from shared.logs import get_logger

log = get_logger("relais.alerts")
PURGE_EVERY_SECONDS = 3600.0


class Scanner:
    def __init__(self, ctx: AlertsContext) -> None:
        self.ctx = ctx
        self._stopping = threading.Event()
        self._last_purge = 0.0

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                report = scan.scan(self.ctx)
                if report.opened or report.warned or report.escalated or report.woke:
                    log.info("alerts scanned", opened=report.opened, warned=report.warned,
                             escalated=report.escalated, woke=report.woke, notices=report.notices)
                if time.monotonic() - self._last_purge > PURGE_EVERY_SECONDS:
                    scan.purge(self.ctx)
                    self._last_purge = time.monotonic()
            except Exception:  # the database may be away for a while: try again next time
                log.exception("alerts scan failed")
            self._stopping.wait(self.ctx.settings.scan_interval_seconds)


class WebhookDeliverer:
    def __init__(self, ctx: AlertsContext) -> None:
        self.ctx = ctx
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            busy = False
            try:
                report = webhooks.deliver_due(self.ctx)
                busy = bool(report.delivered or report.retried or report.dead or report.withheld)
            except Exception:
                log.exception("webhook delivery failed")
            if not busy:
                self._stopping.wait(self.ctx.settings.webhook_poll_seconds)
