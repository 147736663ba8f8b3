"""My caseload: the persons I may see, with when they were last seen, their open alerts and
open steps; sorted as I choose (who has not been seen for longest, most alerts, most steps),
a page at a time."""

from __future__ import annotations

from flask import render_template, request

from services.gateway.web import service_calls
from services.gateway.web.guards import signed_in
from services.gateway.web.work.blueprint import PROFESSIONALS, bp, can_write

SORTS = ("last_seen", "open_alerts", "open_steps")
PAGE_SIZE = 25


def _offset(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and int(raw) <= 1_000_000 else 0


@bp.get("")
@signed_in(*PROFESSIONALS)
def caseload():
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else SORTS[0]
    offset = _offset(request.args.get("offset"))
    page = service_calls.get("record", "/caseload", params={"sort": sort, "limit": PAGE_SIZE, "offset": offset})
    return render_template("work/caseload.html", items=page["items"], total=page["total"], sort=sort,
                           sorts=SORTS, offset=offset, next_offset=page.get("next_offset"),
                           page_size=PAGE_SIZE, can_write=can_write())
