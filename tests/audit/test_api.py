"""The audit API: auditors search, read one entry with its proof, export and verify; the person
sees who accessed their record with a completeness proof; every auditor read is itself logged."""

from __future__ import annotations

import base64
import csv
import io
import json
import uuid

import pytest
from click.testing import CliRunner
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session

from relais.audit_commands import audit as audit_cli
from services.audit.app import create_app
from services.audit.domain import checkpoints, merkle, persons
from shared.auth import StaticKeySource
from shared.config import load_settings
from shared.db.engine import dispose_engines, get_engine
from shared.db.migrations import upgrade
from tests.support import audit_log as support
from tests.unit import tokens

PROBLEM = "application/problem+json"


@pytest.fixture
def key():
    return tokens.ec_key("k1")


@pytest.fixture
def service(tmp_path, key, monkeypatch):
    monkeypatch.setenv("RELAIS_VAR_DIR", str(tmp_path))
    settings = load_settings("audit", environ={"RELAIS_VAR_DIR": str(tmp_path)})
    upgrade("audit", settings.database_url)
    app = create_app(settings=settings, keys=StaticKeySource(KeySet([key])))
    app.config["TESTING"] = False
    yield app, get_engine(settings.database_url), app.extensions["relais.audit"]
    dispose_engines()


@pytest.fixture
def client(service):
    return service[0].test_client()


def _token(key, scope="audit:read", **claims):
    values = tokens.claims_for("http://127.0.0.1:8000", aud=["urn:relais:audit"], scope=scope,
                               sub="auditor-1", org="dpo-office", profession="dpo", role="auditor")
    values.update(claims)
    return {"Authorization": f"Bearer {tokens.sign(values, key)}"}


def _person_token(key, person):
    return _token(key, scope="self", sub=f"person-{person[:8]}", role="beneficiary", beneficiary=person,
                  org=None, profession=None)


def _fill(service, people, per_person=3):
    _, engine, settings = service
    envelopes = []
    n = 0
    for person in people:
        for kind in range(per_person):
            n += 1
            crude, action = ("C", "contact.log") if kind == 0 else ("R", "timeline.read")
            envelopes.append(support.envelope(n, person, crude=crude, action=action,
                                              organisation=f"org-{person[:4]}",
                                              consent={"grant_id": f"grant-{person[:8]}", "version": 2}))
    support.ingest(engine, settings, envelopes)


def test_search_filters_pages_and_refuses_bad_input(service, client, key):
    people = [str(uuid.uuid4()) for _ in range(3)]
    _fill(service, people, per_person=5)
    seen, cursor = [], None
    while True:
        query = {"beneficiary_id": people[0], "limit": 2, **({"cursor": cursor} if cursor is not None else {})}
        page = client.get("/events", query_string=query, headers=_token(key)).get_json()
        seen += [item["index"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == 5
    reads = client.get("/events", query_string={"action": "timeline.read", "organisation": f"org-{people[1][:4]}"},
                       headers=_token(key)).get_json()["items"]
    assert len(reads) == 4 and {i["event"]["beneficiary_id"] for i in reads} == {people[1]}
    for query, field in [({"outcome": "maybe"}, "outcome"), ({"limit": 0}, "limit"),
                         ({"beneficiary_id": "x"}, "beneficiary_id"),
                         ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "until")]:
        response = client.get("/events", query_string=query, headers=_token(key))
        assert response.status_code == 422 and response.mimetype == PROBLEM
        assert field in {e["field"] for e in response.get_json()["errors"]}, response.get_json()
    assert client.get("/events").status_code == 401
    assert client.get("/events", headers=_token(key, scope="record:read")).status_code == 403
    assert client.get("/events/999", headers=_token(key)).status_code == 404


def test_one_entry_comes_with_an_inclusion_proof_against_a_signed_checkpoint(service, client, key):
    _fill(service, [str(uuid.uuid4()) for _ in range(4)])
    name, public = checkpoints.parse_verifier_key(client.get("/checkpoints/key").get_data(as_text=True))
    body = client.get("/events/5", headers=_token(key)).get_json()
    checkpoint = checkpoints.open_note(body["checkpoint"], name, public)
    leaf = base64.b64decode(body["leaf_hash"])
    assert leaf == merkle.leaf_hash(body["canonical"].encode())
    merkle.verify_inclusion(5, checkpoint.size, leaf, [base64.b64decode(h) for h in body["inclusion_proof"]["hashes"]],
                            checkpoint.root)
    latest = client.get("/checkpoints/latest")
    assert latest.status_code == 200 and latest.get_data(as_text=True) == body["checkpoint"]


def test_every_auditor_read_is_shown_to_the_person_concerned(service, client, key):
    people = [str(uuid.uuid4()) for _ in range(2)]
    _fill(service, people)
    client.get("/events", query_string={"beneficiary_id": people[0]}, headers=_token(key))
    client.get("/events", query_string={"actor": "pro-1"}, headers=_token(key))
    mine = client.get("/me/accesses", headers=_person_token(key, people[0])).get_json()
    actions = [a["action"] for a in mine["accesses"]]
    assert actions.count("audit.search") == 2
    search = next(a for a in mine["accesses"] if a["action"] == "audit.search")
    assert search["organisation"] == "dpo-office" and search["profession"] == "dpo"
    assert search["purpose"] == "audit"
    first = mine["accesses"][0]
    assert first["consent"] == {"grant_id": f"grant-{people[0][:8]}", "version": 2}
    assert client.get("/me/accesses", headers=_token(key, scope="self")).status_code == 403


def _assert_complete(mine, person):
    name_line = mine["checkpoint"].split("\n")
    assert name_line[1] == str(int(name_line[1]))
    persons_line = name_line[3].split(" ")
    count, root = int(persons_line[1]), base64.b64decode(persons_line[2])
    proof = mine["completeness"]
    leaves = [base64.b64decode(a["leaf_hash"]) for a in mine["accesses"]]
    assert all(merkle.leaf_hash(a["canonical"].encode()) == leaf for a, leaf in zip(mine["accesses"], leaves, strict=True))
    persons.verify_completeness(person, leaves, mine["accesses"][-1]["index"], proof["position"], count,
                                [base64.b64decode(h) for h in proof["proof"]], root)
    for neighbour in proof["neighbours"]:
        merkle.verify_inclusion(neighbour["position"], count, merkle.leaf_hash(neighbour["leaf"].encode()),
                                [base64.b64decode(h) for h in neighbour["proof"]], root)
        other = json.loads(neighbour["leaf"])["id"]
        assert (other < person) == (neighbour["position"] < proof["position"])
    return leaves


def test_the_person_can_prove_the_list_is_complete_and_a_missing_entry_shows(service, client, key):
    people = sorted(str(uuid.uuid4()) for _ in range(5))
    _fill(service, people)
    mine = client.get("/me/accesses", headers=_person_token(key, people[2])).get_json()
    assert len(mine["accesses"]) == 3
    leaves = _assert_complete(mine, people[2])
    proof = mine["completeness"]
    persons_line = mine["checkpoint"].split("\n")[3].split(" ")
    with pytest.raises(merkle.ProofError):  # one access hidden from the person: the proof fails
        persons.verify_completeness(people[2], leaves[1:], mine["accesses"][-1]["index"], proof["position"],
                                    int(persons_line[1]), [base64.b64decode(h) for h in proof["proof"]],
                                    base64.b64decode(persons_line[2]))


def test_erasure_keeps_every_proof(service, client, key):
    """On ``beneficiary.erased`` the link from the pseudonymous id to the person is destroyed in
    consent; the log holds that id only, so nothing in it changes and every proof still holds."""
    _, engine, settings = service
    people = sorted(str(uuid.uuid4()) for _ in range(3))
    _fill(service, people)
    before = client.get("/me/accesses", headers=_person_token(key, people[1])).get_json()
    support.ingest(engine, settings, [support.envelope(100, people[1], producer="consent",
                                                       action="beneficiary.erase", crude="D")])
    stored = support.rows(engine)
    assert all(set(json.loads(r["canonical"])["actor"]) <= {"subject", "role", "organisation", "profession",
                                                              "client_id", "token_id"} for r in stored)
    after = client.get("/me/accesses", headers=_person_token(key, people[1])).get_json()
    assert after["accesses"][:3] == before["accesses"]
    _assert_complete(after, people[1])
    name, public = checkpoints.parse_verifier_key(client.get("/checkpoints/key").get_data(as_text=True))
    for index in range(len(stored)):
        body = client.get(f"/events/{index}", headers=_token(key)).get_json()
        cp = checkpoints.open_note(body["checkpoint"], name, public)
        merkle.verify_inclusion(index, cp.size, base64.b64decode(body["leaf_hash"]),
                                [base64.b64decode(h) for h in body["inclusion_proof"]["hashes"]], cp.root)
    report = client.get("/events/verification", headers=_token(key)).get_json()
    assert report["tree"]["ok"] and report["persons_index_matches"] in (True, None)


def test_exports_verify_offline_and_the_fhir_bundle_is_valid(service, client, key, tmp_path):
    from fhir.resources.bundle import Bundle

    _fill(service, [str(uuid.uuid4()) for _ in range(3)])
    _, engine, settings = service
    support.checkpoint(engine, settings)
    note = client.get("/checkpoints/latest").get_data(as_text=True)
    (tmp_path / "checkpoint.txt").write_text(note)
    (tmp_path / "key.txt").write_text(client.get("/checkpoints/key").get_data(as_text=True))
    size = int(note.split("\n")[1])
    export = client.get("/events/export", headers=_token(key)).get_data()
    (tmp_path / "log.jsonl").write_bytes(b"".join(export.splitlines(keepends=True)[:size]))
    runner = CliRunner()
    args = ["verify", "--export", str(tmp_path / "log.jsonl"), "--checkpoint", str(tmp_path / "checkpoint.txt"),
            "--key", str(tmp_path / "key.txt")]
    result = runner.invoke(audit_cli, args)
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "log.jsonl").read_bytes().splitlines(keepends=True)
    lines[4] = lines[4].replace(b'"crude":"R"', b'"crude":"U"')
    (tmp_path / "log.jsonl").write_bytes(b"".join(lines))
    result = runner.invoke(audit_cli, args)
    assert result.exit_code == 1 and "first bad index: 4" in result.output
    rows = list(csv.reader(io.StringIO(client.get("/events/export", query_string={"format": "csv"},
                                                  headers=_token(key)).get_data(as_text=True))))
    assert rows[0][:3] == ["index", "event_id", "occurred_at"] and len(rows) > 9
    bundle = client.get("/events/export", query_string={"format": "fhir"}, headers=_token(key))
    assert bundle.mimetype == "application/fhir+json"
    parsed = Bundle.model_validate(bundle.get_json())
    assert parsed.entry and all(e.resource.get_resource_type() == "AuditEvent" for e in parsed.entry)
    first = bundle.get_json()["entry"][0]["resource"]
    assert first["action"] == "C" and first["patient"]["identifier"]["system"] == "urn:relais:beneficiary"


def test_checkpoint_command_and_consistency_between_checkpoints(service, client, key):
    _, engine, settings = service
    _fill(service, [str(uuid.uuid4())])
    support.checkpoint(engine, settings)
    first = int(client.get("/checkpoints/latest").get_data(as_text=True).split("\n")[1])
    _fill(service, [str(uuid.uuid4()) for _ in range(3)])
    support.checkpoint(engine, settings)
    second_note = client.get("/checkpoints/latest").get_data(as_text=True)
    second = int(second_note.split("\n")[1])
    assert second > first
    result = CliRunner().invoke(audit_cli, ["checkpoint"])
    assert result.exit_code == 0 and result.output == second_note
    body = client.get("/checkpoints/consistency", query_string={"old": first, "new": second}).get_json()
    name, public = checkpoints.parse_verifier_key(client.get("/checkpoints/key").get_data(as_text=True))
    old, new = checkpoints.open_note(body["old"], name, public), checkpoints.open_note(body["new"], name, public)
    merkle.verify_consistency(old.size, new.size, old.root, new.root, [base64.b64decode(h) for h in body["hashes"]])
    bad = client.get("/checkpoints/consistency", query_string={"old": second, "new": first})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "new"
    with Session(engine) as session:
        from services.audit import reports

        assert reports.verification_report(session, name, public)["ok"] is True
