"""A candidate's whole way, nominated → official, through the JSON API alone."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta

from tests.api.support import TODAY, Api, DemoTemplate
from workflow.ops import demo

# who records each step of demo.PATH in the first cell (its committee may admit)
USERS = {"secretary": "secretary", "committee": "officer", "authority": "officer"}


def test_a_candidate_goes_from_nomination_to_official_member_over_http(
    api: Api, demo_template: DemoTemplate
) -> None:
    world = demo_template.world
    cell = world.cell_ids[0]
    start = TODAY - timedelta(days=demo.path_days(list(demo.PATH)) + 10)
    nomination = demo.nomination(random.Random(7), cell, start)
    nomination["person"]["youth_union_member"] = False

    created = api.post(
        "/api/v1/cases", as_="secretary", json={"on": start.isoformat(), **nomination}
    )
    assert created.status_code == 201, created.get_json()
    case = created.get_json()
    assert created.headers["Location"].endswith(f"/api/v1/cases/{case['id']}")
    assert (case["state"], case["version"]) == ("nominated", 1)
    assert case["person"]["full_name"] == nomination["person"]["full_name"]

    on = start
    for step in demo.PATH:
        on += timedelta(days=step.after_days)
        user = USERS[step.actor]
        offered = api.get(f"/api/v1/cases/{case['id']}", as_=user).get_json()
        assert step.event in offered["allowed_events"]
        answer = api.record(
            case["id"], step.event, step.data(world, cell, on), on, user, case["version"]
        )
        assert answer.status_code == 200, (step.event, answer.get_json())
        after = answer.get_json()
        assert after["outcome"] == "accepted" and after["failed_vote"] is None
        assert after["version"] == case["version"] + 1
        case = after

    assert case["state"] == "official"
    assert case["allowed_events"] == [] and case["deadlines"] == []
    dates = case["dates"]
    assert dates["official_on"] == dates["probation_end"]  # QĐ 294 §4.2b
    assert dates["seniority_from"] == dates["decision_on"]  # Charter art. 5.4

    rows = api.get(f"/api/v1/cases/{case['id']}/history", as_="auditor").get_json()["rows"]
    assert [r["event"] for r in rows] == ["nominate", *(s.event for s in demo.PATH)]
    assert rows[-1]["to_state"] == "official" and rows[0]["prev_hash"] == "0" * 64
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in itertools.pairwise(rows))
    check = api.get(f"/api/v1/cases/{case['id']}/history/verify", as_="auditor").get_json()
    assert check == {"intact": True, "broken_at": None, "rows": len(rows), "reason": ""}

    members = api.get(f"/api/v1/members?cell={cell}", as_="secretary").get_json()
    new_member = [m for m in members if m["full_name"] == nomination["person"]["full_name"]]
    assert [m["status"] for m in new_member] == ["official"]
    assert new_member[0]["official_since"] == dates["official_on"]
