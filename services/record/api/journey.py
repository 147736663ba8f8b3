"""Writing a person's journey: contacts, steps, episodes, transitions and their exit protocol,
référent and care team, corrections. Each answers the entry (or entries) it added."""

from __future__ import annotations

from flask import g

from services.record.api import schemas
from services.record.api.common import ctx, language, problems
from services.record.domain.entries import Entry
from services.record.domain.transitions import ActivationRequest
from services.record.domain.views import Reader, show
from services.record.handlers import writing
from shared.auth import require_scope
from shared.consent.vocabulary import CATEGORIES
from shared.web.blueprint import Blueprint

blp = Blueprint("journey", __name__, url_prefix="/beneficiaries",
                description="Writing a person's journey (objective facts only)")
SECURITY = [{"bearer": []}]


def _out(entry: Entry) -> dict:
    # The author just wrote it: they see it whole.
    return show(ctx().vocabulary, entry, Reader(frozenset(CATEGORIES), language()))


@blp.route("/<uuid:beneficiary_id>/contacts", methods=["POST"])
@require_scope("record:write")
@blp.arguments(schemas.ContactIn)
@blp.response(201, schemas.EntryOut)
@blp.doc(security=SECURITY)
@problems
def log_contact(body, beneficiary_id):
    """Log a contact: met, or an attempt without contact (which does not count as seen)."""
    command = writing.LogContact(beneficiary_id=str(beneficiary_id), **body)
    return _out(writing.log_contact(ctx(), g.principal, command, g.request_id))


@blp.route("/<uuid:beneficiary_id>/steps", methods=["POST"])
@require_scope("record:write")
@blp.arguments(schemas.StepIn)
@blp.response(201, schemas.EntryOut)
@blp.doc(security=SECURITY)
@problems
def open_step(body, beneficiary_id):
    """Start a step (démarche): requested, in progress, or blocked with a coded blocker."""
    command = writing.OpenStep(beneficiary_id=str(beneficiary_id), **body)
    return _out(writing.open_step(ctx(), g.principal, command, g.request_id))


@blp.route("/<uuid:beneficiary_id>/steps/<uuid:step_id>/status", methods=["POST"])
@require_scope("record:write")
@blp.arguments(schemas.StepStatusIn)
@blp.response(201, schemas.EntryOut)
@blp.doc(security=SECURITY)
@problems
def move_step(body, beneficiary_id, step_id):
    """Move a step along its life cycle: requested → in progress → done | abandoned | blocked."""
    command = writing.MoveStep(beneficiary_id=str(beneficiary_id), step_id=str(step_id), **body)
    return _out(writing.move_step(ctx(), g.principal, command, g.request_id))


@blp.route("/<uuid:beneficiary_id>/episodes", methods=["POST"])
@require_scope("record:write")
@blp.arguments(schemas.EpisodeIn)
@blp.response(201, schemas.EntryOut)
@blp.doc(security=SECURITY)
@problems
def open_episode(body, beneficiary_id):
    """Record an episode: a stay in hospital, psychiatry or prison, life on the street, a shelter..."""
    command = writing.OpenEpisode(beneficiary_id=str(beneficiary_id), **body)
    return _out(writing.open_episode(ctx(), g.principal, command, g.request_id))


@blp.route("/<uuid:beneficiary_id>/episodes/<uuid:episode_id>/end", methods=["POST"])
@require_scope("record:write")
@blp.arguments(schemas.EpisodeEndIn)
@blp.response(201, schemas.EntryOut)
@blp.doc(security=SECURITY)
@problems
def end_episode(body, beneficiary_id, episode_id):
    """End an open episode."""
    command = writing.EndEpisode(beneficiary_id=str(beneficiary_id), episode_id=str(episode_id), **body)
    return _out(writing.end_episode(ctx(), g.principal, command, g.request_id))


@blp.route("/<uuid:beneficiary_id>/transitions", methods=["POST"])
@require_scope("record:write")
@blp.arguments(schemas.TransitionIn)
@blp.response(201, schemas.TransitionOut)
@blp.doc(security=SECURITY)
@problems
def record_transition(body, beneficiary_id):
    """Record an exit (hospital, psychiatry, prison, street, shelter) or an eviction, with the
    person's fragility, and start its exit protocol: the services to activate, proposed from the
    protocol template unless listed."""
    activations = body.pop("activations")
    command = writing.RecordTransition(
        beneficiary_id=str(beneficiary_id),
        activations=None if activations is None else tuple(ActivationRequest(**a) for a in activations),
        **body)
    transition, activation_entries = writing.record_transition(ctx(), g.principal, command, g.request_id)
    return {"transition": _out(transition), "activations": [_out(a) for a in activation_entries]}


@blp.route("/<uuid:beneficiary_id>/transitions/<uuid:transition_id>/activations", methods=["POST"])
@require_scope("record:write")
@blp.arguments(schemas.AddActivationIn)
@blp.response(201, schemas.EntryOut)
@blp.doc(security=SECURITY)
@problems
def add_activation(body, beneficiary_id, transition_id):
    """Add a service to a transition's exit protocol."""
    command = writing.AddActivation(beneficiary_id=str(beneficiary_id),
                                    transition_id=str(transition_id), **body)
    return _out(writing.add_activation(ctx(), g.principal, command, g.request_id))


@blp.route("/<uuid:beneficiary_id>/activations/<uuid:activation_id>/status", methods=["POST"])
@require_scope("record:write")
@blp.arguments(schemas.ActivationStatusIn)
@blp.response(201, schemas.EntryOut)
@blp.doc(security=SECURITY)
@problems
def move_activation(body, beneficiary_id, activation_id):
    """Tick the exit-protocol checklist: to activate → contacted → acknowledged | declined."""
    command = writing.MoveActivation(beneficiary_id=str(beneficiary_id),
                                     activation_id=str(activation_id), **body)
    return _out(writing.move_activation(ctx(), g.principal, command, g.request_id))


@blp.route("/<uuid:beneficiary_id>/referent", methods=["POST"])
@require_scope("record:write")
@blp.arguments(schemas.ReferentIn)
@blp.response(201, schemas.EntryOut)
@blp.doc(security=SECURITY)
@problems
def name_referent(body, beneficiary_id):
    """Name the person's référent (case manager)."""
    command = writing.NameReferent(beneficiary_id=str(beneficiary_id), **body)
    return _out(writing.name_referent(ctx(), g.principal, command, g.request_id))


@blp.route("/<uuid:beneficiary_id>/care-team", methods=["POST"])
@require_scope("record:write")
@blp.arguments(schemas.CareTeamIn)
@blp.response(201, schemas.EntryOut)
@blp.doc(security=SECURITY)
@problems
def change_care_team(body, beneficiary_id):
    """Add a professional to the person's care team, or remove one."""
    command = writing.ChangeCareTeam(beneficiary_id=str(beneficiary_id), **body)
    return _out(writing.change_care_team(ctx(), g.principal, command, g.request_id))


@blp.route("/<uuid:beneficiary_id>/entries/<uuid:entry_id>/corrections", methods=["POST"])
@require_scope("record:write")
@blp.arguments(schemas.CorrectionIn)
@blp.response(201, schemas.EntryOut)
@blp.doc(security=SECURITY)
@problems
def correct(body, beneficiary_id, entry_id):
    """Correct an entry: a new entry supersedes it; both stay in the history."""
    command = writing.Correct(beneficiary_id=str(beneficiary_id), entry_id=str(entry_id), fields=body)
    return _out(writing.correct(ctx(), g.principal, command, g.request_id))


@blp.route("/<uuid:beneficiary_id>/entries/<uuid:entry_id>/void", methods=["POST"])
@require_scope("record:write")
@blp.arguments(schemas.VoidIn)
@blp.response(201, schemas.EntryOut)
@blp.doc(security=SECURITY)
@problems
def void(body, beneficiary_id, entry_id):
    """Mark an entry as entered in error, with a coded reason; it stays in the history."""
    command = writing.Void(beneficiary_id=str(beneficiary_id), entry_id=str(entry_id), **body)
    return _out(writing.void(ctx(), g.principal, command, g.request_id))
