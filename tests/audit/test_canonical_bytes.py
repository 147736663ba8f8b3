"""The bytes that are hashed stay exactly what the documented JSON form gives, however they
are produced."""

from __future__ import annotations

import json

import pytest

from services.audit.domain.persons import PersonHead

AWKWARD_TEXT = [
    "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "",
    'quote " and backslash \\',
    "controls \x00\x01\x1f\x7f \n\r\t\b\f",
    "accents éàü, ß, ﬁ",
    "line separators \u2028\u2029",
    "emoji \U0001f600",
    "</script>",
]


@pytest.mark.parametrize("person_id", AWKWARD_TEXT)
@pytest.mark.parametrize(("count", "last_index"), [(1, 0), (7, 123456), (2**40, 2**62)])
def test_a_person_index_leaf_is_the_sorted_compact_json_of_its_fields(person_id, count, last_index):
    head = PersonHead(person_id, count, last_index, bytes(range(32)))
    document = {"count": count, "head": head.head.hex(), "id": person_id, "last_index": last_index}
    assert head.leaf_bytes() == json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
