#!/usr/bin/env python
"""Decisions per second from the consent projection, beside casbin, in the same run.

Both enforce the same policy on the same data: an active grant to the actor (their
organisation or themselves) for the category and action ∧ the profession × category policy ∧
no exclusion of the actor. The data: ``--persons`` people and ``--grants`` grants (with 1 % of
people excluding someone), written to the projection tables of a SQLite file (or the PostgreSQL
database given with ``--database-url``) and loaded into a casbin enforcer (pycasbin, default
matcher, policies in memory).

- projection: per decision, the shared ``ConsentProjection.state`` reads the person's row
  from the database (a pooled connection per decision, as a request would), then the shared
  pure ``decide`` answers; timed per decision.
- casbin: ``Enforcer.enforce`` per category; timed per decision (all categories of a request).
  Casbin's matcher walks its policy lines, so it gets a time budget (``--casbin-seconds``)
  rather than the same number of decisions.
- casbin per person: casbin at its best, one small in-memory enforcer per person holding only
  that person's lines (built beforehand, not timed), for the requests about
  ``--casbin-people`` people; the projection answers the same requests again beside it.

    .venv/bin/python bench/consent_decisions.py [--persons 100000] [--grants 1000000]
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import casbin  # noqa: E402
from sqlalchemy import MetaData, create_engine, insert  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from shared.consent.decision import (  # noqa: E402
    Actor,
    ConsentState,
    ExclusionTerms,
    GrantTerms,
    Question,
    decide,
)
from shared.consent.policy import load_policy  # noqa: E402
from shared.consent.projection import ConsentProjection, encode_document  # noqa: E402
from shared.consent.vocabulary import CATEGORIES  # noqa: E402

MODEL = """
[request_definition]
r = sub, org, prof, obj, cat, act

[policy_definition]
p = grantee, obj, cat, act, eft

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = r.obj == p.obj && (r.sub == p.grantee || r.org == p.grantee) && \
    (p.eft == "deny" || (r.cat == p.cat && r.act == p.act && g(r.prof, r.cat)))
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def build_data(args, rng: random.Random):
    professions = ["social_worker", "case_manager", "psychologist", "housing_worker",
                   "administrative_staff", "outreach_worker", "nurse", "shelter_worker"]
    orgs = [f"org-{n}" for n in range(500)]
    staff = [(f"pro-{n}", rng.choice(orgs), rng.choice(professions)) for n in range(20_000)]
    persons = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(args.persons)]
    per_person = args.grants // args.persons
    now = datetime.now(UTC)
    grants, exclusions = [], []
    for person in persons:
        for _ in range(per_person):
            subject, org, _prof = rng.choice(staff)
            by_org = rng.random() < 0.5
            grants.append({
                "grant_id": str(uuid.UUID(int=rng.getrandbits(128))), "beneficiary_id": person,
                "version": 1, "grantee_kind": "organisation" if by_org else "professional",
                "grantee": org if by_org else subject,
                "categories": " ".join(sorted(rng.sample(CATEGORIES, 3))),
                "purpose": "care_coordination", "actions": "read",
                "valid_from": now - timedelta(days=1), "valid_until": now + timedelta(days=365),
                "referent": False, "active": True,
            })
        if rng.random() < 0.01:
            subject = rng.choice(staff)[0]
            exclusions.append({"exclusion_id": str(uuid.uuid4()), "beneficiary_id": person,
                               "kind": "professional", "target": subject, "active": True})
    return staff, persons, grants, exclusions


def load_projection(url: str, persons, grants, exclusions):
    metadata = MetaData()
    projection = ConsentProjection(metadata)
    engine = create_engine(url)
    metadata.create_all(engine)
    chunk = 50_000
    by_person: dict[str, list[GrantTerms]] = {}
    for g in grants:
        by_person.setdefault(g["beneficiary_id"], []).append(GrantTerms(
            g["grant_id"], 1, g["grantee_kind"], g["grantee"], frozenset(g["categories"].split()),
            g["purpose"], frozenset(g["actions"].split()), g["valid_from"], g["valid_until"]))
    excluded: dict[str, list[ExclusionTerms]] = {}
    for x in exclusions:
        excluded.setdefault(x["beneficiary_id"], []).append(
            ExclusionTerms(x["exclusion_id"], x["kind"], x["target"]))
    with engine.begin() as connection:
        for start in range(0, len(persons), chunk):
            connection.execute(insert(projection.people), [
                {"beneficiary_id": p, "epoch": 1, "erased": False,
                 "document": encode_document(ConsentState(p, tuple(by_person.get(p, ())),
                                                          tuple(excluded.get(p, ()))))}
                for p in persons[start:start + chunk]])
        for start in range(0, len(grants), chunk):
            connection.execute(insert(projection.grants), grants[start:start + chunk])
        if exclusions:
            connection.execute(insert(projection.exclusions), exclusions)
    return projection, engine


def load_casbin(tmp: Path, grants, exclusions, policy):
    (tmp / "model.conf").write_text(MODEL)
    enforcer = casbin.Enforcer(str(tmp / "model.conf"))
    rules = []
    for grant in grants:
        for category in grant["categories"].split():
            rules.append([grant["grantee"], grant["beneficiary_id"], category, "read", "allow"])
    for exclusion in exclusions:
        rules.append([exclusion["target"], exclusion["beneficiary_id"], "*", "*", "deny"])
    enforcer.add_policies(rules)
    roles = [[code, category] for (kind, code, action), allowed in policy.rules.items()
             if kind == "profession" and action == "read" for category in allowed]
    enforcer.add_named_grouping_policies("g", roles)
    return enforcer, len(rules)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--grants", type=int, default=1_000_000)
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--casbin-seconds", type=float, default=60.0)
    parser.add_argument("--casbin-people", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    policy = load_policy()
    tmp = Path(tempfile.mkdtemp(prefix="relais-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'projection.db'}"

    started = time.perf_counter()
    staff, persons, grants, exclusions = build_data(args, rng)
    projection, engine = load_projection(url, persons, grants, exclusions)
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    enforcer, casbin_rules = load_casbin(tmp, grants, exclusions, policy)
    casbin_load_seconds = time.perf_counter() - started

    # The same requests for both: half about people the actor holds a grant on.
    by_person: dict[str, list[dict]] = {}
    for grant in grants[: len(grants)]:
        by_person.setdefault(grant["beneficiary_id"], []).append(grant)
    staff_by_subject = {s[0]: s for s in staff}
    staff_by_org: dict[str, list] = {}
    for member in staff:
        staff_by_org.setdefault(member[1], []).append(member)
    requests = []
    for _ in range(args.decisions):
        person = rng.choice(persons)
        if rng.random() < 0.5:
            grant = rng.choice(by_person[person])
            member = (staff_by_subject.get(grant["grantee"])
                      or rng.choice(staff_by_org.get(grant["grantee"], staff)))
        else:
            member = rng.choice(staff)
        categories = tuple(rng.sample(CATEGORIES, 3))
        requests.append((Actor(member[0], "professional", member[1], member[2]), person, categories))

    gc.collect()
    gc.freeze()  # the data set is built: keep the collector from rescanning it (both sides)
    now = datetime.now(UTC)
    ours: list[float] = []
    permits = 0
    for actor, person, categories in requests:
        t0 = time.perf_counter()
        with engine.connect() as connection:
            state = projection.state(connection, person)
        decision = decide(state, actor, Question(person, "read", categories, "care_coordination", now),
                          policy)
        ours.append(time.perf_counter() - t0)
        permits += len(decision.permitted)

    theirs: list[float] = []
    agree = 0
    deadline = time.perf_counter() + args.casbin_seconds
    for actor, person, categories in requests:
        if time.perf_counter() > deadline:
            break
        t0 = time.perf_counter()
        allowed = {c for c in categories
                   if enforcer.enforce(actor.subject, actor.organisation, actor.profession,
                                       person, c, "read")}
        theirs.append(time.perf_counter() - t0)
        with Session(engine) as session:
            state = projection.state(session, person)
        mine = decide(state, actor, Question(person, "read", categories, "care_coordination", now),
                      policy).permitted
        agree += allowed == set(mine)

    # casbin at its best: one small in-memory enforcer per person (only that person's lines),
    # built beforehand (not timed), for the requests about a sample of people.
    sample = list(dict.fromkeys(person for _a, person, _c in requests))[: args.casbin_people]
    rules_of: dict[str, list[list[str]]] = {p: [] for p in sample}
    for grant in grants:
        if grant["beneficiary_id"] in rules_of:
            for category in grant["categories"].split():
                rules_of[grant["beneficiary_id"]].append(
                    [grant["grantee"], grant["beneficiary_id"], category, "read", "allow"])
    for exclusion in exclusions:
        if exclusion["beneficiary_id"] in rules_of:
            rules_of[exclusion["beneficiary_id"]].append(
                [exclusion["target"], exclusion["beneficiary_id"], "*", "*", "deny"])
    roles = [[code, category] for (kind, code, action), allowed in policy.rules.items()
             if kind == "profession" and action == "read" for category in allowed]
    small: dict[str, casbin.Enforcer] = {}
    for person in sample:
        enforcer_one = casbin.Enforcer(str(tmp / "model.conf"))
        enforcer_one.add_policies(rules_of[person])
        enforcer_one.add_named_grouping_policies("g", roles)
        small[person] = enforcer_one
    sampled = [r for r in requests if r[1] in small]
    del enforcer
    gc.collect()
    gc.freeze()  # the data set is built: keep the collector from rescanning it (both sides)
    best: list[float] = []
    ours_sampled: list[float] = []
    agree_small = 0
    for actor, person, categories in sampled:
        t0 = time.perf_counter()
        allowed = {c for c in categories
                   if small[person].enforce(actor.subject, actor.organisation, actor.profession,
                                            person, c, "read")}
        best.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with engine.connect() as connection:
            state = projection.state(connection, person)
        mine = decide(state, actor, Question(person, "read", categories, "care_coordination", now),
                      policy).permitted
        ours_sampled.append(time.perf_counter() - t0)
        agree_small += allowed == set(mine)

    report = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "database": url.split(":", 1)[0]},
        "data": {"persons": len(persons), "grants": len(grants), "exclusions": len(exclusions),
                 "casbin_policy_lines": casbin_rules, "load_seconds": round(load_seconds, 1),
                 "casbin_load_seconds": round(casbin_load_seconds, 1)},
        "projection": {"decisions": len(ours), "per_second": round(len(ours) / sum(ours)),
                       "p50_ms": round(percentile(ours, 0.5) * 1000, 3),
                       "p99_ms": round(percentile(ours, 0.99) * 1000, 3),
                       "permitted_categories": permits},
        "casbin": {"decisions": len(theirs),
                   "per_second": round(len(theirs) / sum(theirs), 2) if theirs else None,
                   "p50_ms": round(statistics.median(theirs) * 1000, 3) if theirs else None,
                   "p99_ms": round(percentile(theirs, 0.99) * 1000, 3) if theirs else None,
                   "agreeing_with_projection": f"{agree}/{len(theirs)}"},
    }
    report["casbin_per_person"] = {
        "people": len(small), "decisions": len(best),
        "per_second": round(len(best) / sum(best)) if best else None,
        "p50_ms": round(statistics.median(best) * 1000, 3) if best else None,
        "p99_ms": round(percentile(best, 0.99) * 1000, 3) if best else None,
        "projection_same_requests_per_second": round(len(ours_sampled) / sum(ours_sampled))
        if ours_sampled else None,
        "projection_same_requests_p99_ms": round(percentile(ours_sampled, 0.99) * 1000, 3)
        if ours_sampled else None,
        "agreeing_with_projection": f"{agree_small}/{len(best)}",
    }
    if best:
        report["ratio_vs_casbin_per_person"] = round(
            report["casbin_per_person"]["projection_same_requests_per_second"]
            / report["casbin_per_person"]["per_second"], 1)
    if theirs:
        report["ratio"] = round(report["projection"]["per_second"] / report["casbin"]["per_second"], 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
