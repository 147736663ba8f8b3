"""The codes clients and pages list instead of hard-coding them, and the default rules."""

from __future__ import annotations

from services.alerts.api.common import ctx, language
from shared.web.blueprint import Blueprint

blp = Blueprint("vocabularies", __name__, url_prefix="", description="Vocabularies")


@blp.route("/vocabularies", methods=["GET"])
@blp.response(200)
def vocabularies():
    """The alerts code lists with their labels in the language asked for (Accept-Language: fr,
    nl or en), and the default rules."""
    lang = language()
    document = ctx().vocabulary.as_document(lang)
    document["language"] = lang
    rules = ctx().rules
    document["rules"] = {"version": rules.version,
                         "defaults": {rule: params.public() for rule, params in rules.defaults.items()}}
    return document
