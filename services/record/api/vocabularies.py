"""The codes clients and pages list instead of hard-coding them."""

from __future__ import annotations

from services.record.api.common import ctx, language
from services.record.domain import steps, transitions
from shared.consent.vocabulary import professions
from shared.web.blueprint import Blueprint

blp = Blueprint("vocabularies", __name__, url_prefix="", description="Vocabularies")


def _requires(rules: dict[str, tuple[str, str]]) -> dict[str, dict[str, str]]:
    return {status: {"field": field, "list": code_list} for status, (field, code_list) in rules.items()}


@blp.route("/vocabularies", methods=["GET"])
@blp.response(200)
def vocabularies():
    """Every code list of the journey with its labels in the language asked for
    (Accept-Language: fr, nl or en), the professions, the exit-protocol templates, and the
    life cycles: the statuses a step starts in, where each status may go next and the field a
    status needs (a blocked step its blocker), and the same for an exit protocol's activations."""
    lang = language()
    document = ctx().vocabulary.as_document(lang)
    vocabulary = professions()
    document["lists"]["profession"] = [
        {"code": p.code, "label": vocabulary.label(p.code, lang), "mental_health": p.mental_health}
        for p in vocabulary.professions.values()
    ]
    document["language"] = lang
    templates = ctx().templates
    document["protocol_templates"] = {
        "version": templates.version,
        "templates": [{"transition": t.transition, "when": {k: sorted(v) for k, v in t.when.items()},
                       "activate": [{"service_kind": a.service_kind, "due_days": a.due_days}
                                    for a in t.activate]} for t in templates.templates],
    }
    document["lifecycles"] = {
        "step_status": {"initial": list(steps.INITIAL),
                        "next": {status: sorted(after) for status, after in steps.LIFECYCLE.items()},
                        "requires": _requires(steps.REQUIRES)},
        "activation_status": {"initial": ["to_activate"],
                              "next": {status: sorted(after) for status, after
                                       in transitions.ACTIVATION_LIFECYCLE.items()},
                              "requires": _requires(transitions.ACTIVATION_REQUIRES)},
    }
    return document
