"""What the person and their close ones may see: that someone was asked to reach out."""

from __future__ import annotations

from flask import g

from services.alerts.api import schemas
from services.alerts.api.common import SECURITY, ctx, language, problems
from services.alerts.handlers import reading
from shared.auth import require_scope
from shared.web.blueprint import Blueprint

own = Blueprint("own_alerts", __name__, url_prefix="/me", description="The person's own view")
notices = Blueprint("notices", __name__, url_prefix="/notices", description="Close ones' notices")


@own.route("/alerts", methods=["GET"])
@require_scope("self")
@own.response(200, schemas.OwnOut)
@own.doc(security=SECURITY)
@problems
def my_alerts():
    """Whether someone in my network has been asked to get in touch with me, and whether
    someone took it on. No reason, no count, no score."""
    return reading.read_own(ctx(), g.principal, language(), g.request_id)


# A close one's token carries ``record:read``, the one scope of that role.
@notices.route("", methods=["GET"])
@require_scope("record:read")
@notices.response(200, schemas.NoticesOut)
@notices.doc(security=SECURITY)
@problems
def my_notices():
    """For a close one the person chose: "your contact person has been asked to get in touch"."""
    return reading.read_notices(ctx(), g.principal, language(), g.request_id)
