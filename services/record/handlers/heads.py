"""Keeping the head of each changed timeline (domain/timeline_head.py) in the transaction of the
change, so a read never finds a head older than the entries beside it."""

from __future__ import annotations

from services.record.adapters.sealing import PersonKeys, open_head, seal_head
from services.record.adapters.unit_of_work import RecordUnitOfWork
from services.record.domain import timeline_head
from shared import crypto
from shared.consent.vocabulary import CATEGORIES
from shared.vocabularies import Vocabulary


def opened_head(key: bytes, beneficiary_id: str, sealed: bytes | None) -> timeline_head.Head | None:
    """The person's head, or None when there is none this code can use (none yet, another
    format, or a seal that does not open): then reads go to the entries and the next write
    makes it again."""
    if sealed is None:
        return None
    try:
        return timeline_head.decode(open_head(key, beneficiary_id, sealed))
    except crypto.SealBroken:
        return None


def keep_heads(uow: RecordUnitOfWork, *, vocabulary: Vocabulary, keys: PersonKeys) -> None:
    """For each person this unit of work changed: their head with the change applied, or made
    again from their entries when it cannot be (none yet, another vocabulary, too short)."""
    journey = uow.journey
    for beneficiary_id, changed in journey.changed.items():
        key = changed.key or keys.find(uow.session, beneficiary_id)
        if key is None:
            continue  # nothing recorded, or shredded: nothing to show
        head = None
        stored = opened_head(key, beneficiary_id, journey.timeline_head(beneficiary_id))
        if stored is not None:
            head = timeline_head.merge(stored, vocabulary, changed.added, changed.replaced)
        if head is None:
            newest = journey.timeline(
                beneficiary_id, key, categories=CATEGORIES, kinds=None, since=None, until=None,
                after=None, limit=timeline_head.HEAD_SIZE, newest_first=True, history=False)
            head = timeline_head.build(vocabulary, newest.entries, complete=newest.next_after is None)
        journey.save_timeline_head(beneficiary_id, seal_head(key, beneficiary_id, head.encode()))
