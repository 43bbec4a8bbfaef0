"""Every rule reachable over HTTP refuses with 422 and its id, and writes nothing.

Each check provokes one rule on a case walked to the right state (shared by the
module: a refusal changes nothing). A rule that HTTP cannot reach is listed with
the reason, so a new guard in the process table fails `test_every_rule_is_checked`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from werkzeug.test import TestResponse

from tests.api.support import TODAY, Walker, error_of
from workflow import process
from workflow.ops import demo

Check = Callable[[Walker], TestResponse]
CHECKS: dict[str, Check] = {}
NOT_OVER_HTTP = {
    # A sponsor could only stop being official through a change of the member's
    # status, which no API call makes (confirm/remove change the candidate's own).
    "sponsors_still_official": "no API call demotes an assigned sponsor",
    # Failing only two-thirds is a recorded failed vote (200), not a refusal.
    "two_thirds": "a failed vote, answered 200 (test_errors.py)",
}


def check(rule: str) -> Callable[[Check], Check]:
    def register(function: Check) -> Check:
        CHECKS[rule] = function
        return function

    return register


def _event(
    w: Walker,
    state: str,
    event: str,
    data: dict[str, Any],
    on: date,
    user: str = "secretary",
    **variant: Any,
) -> TestResponse:
    case, _ = w.case(state, **variant)
    return w.api.record(case["id"], event, data, on, user, case["version"])


def _nominate(w: Walker, as_: str, **changes: Any) -> TestResponse:
    body = demo.nomination(random.Random(3), w.world.cell_ids[0], TODAY) | changes
    return w.api.post("/api/v1/cases", as_=as_, json={"on": TODAY.isoformat(), **body})


def _sponsors(w: Walker, *member_ids: int, months: int = 20) -> dict[str, Any]:
    since = (TODAY - timedelta(days=months * 31)).isoformat()
    return {"sponsors": [{"member_id": m, "alongside_since": since} for m in member_ids]}


def _officials(w: Walker) -> list[int]:
    return w.world.officials[w.world.cell_ids[0]]


# ── engine-wide rules ─────────────────────────────────────────────────────
@check("on_not_in_future")
def _future(w: Walker) -> TestResponse:
    data = {"class_name": "Lớp A", "issuer": "Trung tâm"}
    return _event(w, "nominated", "enrol_in_class", data, TODAY + timedelta(days=1))


@check("event_allowed")
def _not_now(w: Walker) -> TestResponse:
    return _event(w, "nominated", "pass_class", {"certificate_no": "1"}, TODAY)


# ── nomination ────────────────────────────────────────────────────────────
@check("cell_in_scope")
def _other_cell(w: Walker) -> TestResponse:
    return _nominate(w, "secretary", cell_id=w.world.cell_ids[1])


@check("one_open_case")
def _twice(w: Walker) -> TestResponse:
    case, _ = w.case("nominated")
    history = w.api.get(f"/api/v1/cases/{case['id']}/history", as_="secretary").get_json()
    return _nominate(w, "secretary", person=history["rows"][0]["data"]["person"])


# ── class and sponsors ────────────────────────────────────────────────────
@check("certificate_after_class")
def _certificate_first(w: Walker) -> TestResponse:
    _, class_started = w.case("in_class")
    day = class_started - timedelta(days=1)
    return _event(w, "in_class", "pass_class", {"certificate_no": "GCN-1"}, day)


@check("sponsor_is_official")
def _probationary_sponsor(w: Walker) -> TestResponse:
    data = _sponsors(w, w.members(0, "probationary")[0], _officials(w)[0])
    return _event(w, "class_passed", "assign_sponsors", data, TODAY)


@check("sponsor_not_candidate")
def _same_sponsor_twice(w: Walker) -> TestResponse:
    first = _officials(w)[0]
    return _event(w, "class_passed", "assign_sponsors", _sponsors(w, first, first), TODAY)


@check("sponsor_shared_time")
def _not_long_enough(w: Walker) -> TestResponse:
    data = _sponsors(w, *_officials(w)[:2], months=6)
    return _event(w, "class_passed", "assign_sponsors", data, TODAY)


@check("sponsor_count")
def _one_sponsor(w: Walker) -> TestResponse:
    return _event(w, "class_passed", "assign_sponsors", _sponsors(w, _officials(w)[0]), TODAY)


@check("youth_union_introduces")
def _youth_without_union(w: Walker) -> TestResponse:
    data = _sponsors(w, *_officials(w)[:2])
    return _event(w, "class_passed", "assign_sponsors", data, TODAY, age=24, youth=True)


# ── dossier and verification ──────────────────────────────────────────────
@check("dossier_dates")
def _application_after_declaration(w: Walker) -> TestResponse:
    day = TODAY - timedelta(days=1)
    data = {
        "application_on": day.isoformat(),
        "declaration_on": (day - timedelta(days=5)).isoformat(),
        "introductions_on": day.isoformat(),
        "comments_on": day.isoformat(),
    }
    return _event(w, "sponsored", "submit_dossier", data, TODAY)


@check("requests_before_conclusion")
def _requests_after_conclusion(w: Walker) -> TestResponse:
    data = {"requests_sent_on": TODAY.isoformat(), "conclusion": "meets_standards"}
    return _event(w, "dossier_complete", "verify_background", data, TODAY - timedelta(days=1))


# ── votes ─────────────────────────────────────────────────────────────────
def _vote(voters: int, votes_for: int) -> dict[str, Any]:
    return {"voters": voters, "votes_for": votes_for, "resolution_ref": "NQ-1"}


@check("quorum_base")
def _too_few_voters(w: Walker) -> TestResponse:
    return _event(w, "verified", "cell_vote", _vote(2, 2), TODAY)


@check("votes_valid")
def _more_votes_than_voters(w: Walker) -> TestResponse:
    return _event(w, "verified", "cell_vote", _vote(9, 10), TODAY)


@check("age_range")
def _over_sixty(w: Walker) -> TestResponse:
    return _event(w, "verified", "cell_vote", _vote(9, 9), TODAY, age=66)


@check("certificate_valid")
def _certificate_expired(w: Walker) -> TestResponse:
    long_ago = TODAY - timedelta(days=6 * 366)
    return _event(w, "verified", "cell_vote", _vote(9, 9), TODAY, start=long_ago)


@check("committee_two_thirds")
def _committee_short(w: Walker) -> TestResponse:
    data = {"members": 7, "votes_for": 4, "resolution_ref": "NQ-ĐU-1"}
    return _event(w, "cell_resolved", "committee_vote", data, TODAY, "officer")


# ── decisions ─────────────────────────────────────────────────────────────
@check("competent_authority")
def _not_the_authority(w: Walker) -> TestResponse:
    # Bằng Lũng's committee may not admit: the province decides, not its officer
    return _event(
        w,
        "committee_resolved",
        "decide_admission",
        {"decision_no": "1-QĐ"},
        TODAY,
        "officer-bang-lung",
        cell_index=3,
    )


@check("committee_may_admit")
def _committee_skipped(w: Walker) -> TestResponse:
    return _event(
        w,
        "cell_resolved",
        "decide_admission",
        {"decision_no": "1-QĐ"},
        TODAY,
        "officer-tinh",
        cell_index=3,
    )


@check("decision_after_resolution")
def _decision_first(w: Walker) -> TestResponse:
    _, resolved = w.case("committee_resolved")
    day = resolved - timedelta(days=1)
    return _event(w, "committee_resolved", "decide_admission", {"decision_no": "1"}, day, "officer")


@check("helper_is_official")
def _probationary_helper(w: Walker) -> TestResponse:
    data = {"helpers": w.members(0, "probationary")[:1]}
    return _event(w, "admission_decided", "hold_ceremony", data, TODAY)


@check("ceremony_after_decision")
def _ceremony_first(w: Walker) -> TestResponse:
    _, decided = w.case("admission_decided")
    day = decided - timedelta(days=1)
    return _event(w, "admission_decided", "hold_ceremony", {"helpers": _officials(w)[:1]}, day)


@check("extension_allowed")
def _too_long_extension(w: Walker) -> TestResponse:
    data = {"deadline": "decision", "working_days": 31, "consent_ref": "CV-1"}
    return _event(w, "cell_resolved", "grant_extension", data, TODAY, "officer")


# ── probation ─────────────────────────────────────────────────────────────
@check("is_helper")
def _not_a_helper(w: Walker) -> TestResponse:
    data = {"helper_id": _officials(w)[5], "comment": "Tốt"}
    return _event(w, "probationary", "record_helper_comment", data, TODAY)


@check("probation_over")
def _probation_running(w: Walker) -> TestResponse:
    return _event(w, "probationary", "cell_confirm_vote", _vote(9, 9), TODAY)


@check("confirmation_papers")
def _papers_missing(w: Walker) -> TestResponse:
    ceremony_long_ago = TODAY - timedelta(days=demo.path_days(demo.steps_to("probationary")) + 400)
    return _event(
        w, "probationary", "cell_confirm_vote", _vote(9, 9), TODAY, start=ceremony_long_ago
    )


@check("receiving_cell")
def _not_a_cell(w: Walker) -> TestResponse:
    committee = w.world.secretary[w.world.cell_ids[0]].org_path.strip("/").split("/")[-2]
    return _event(w, "nominated", "transfer", {"to_cell_id": int(committee)}, TODAY)


@check("particulars_changed")
def _nothing_to_correct(w: Walker) -> TestResponse:
    case, _ = w.case("nominated")
    same = {"person": {"full_name": case["person"]["full_name"]}, "reason": "Ghi sai tên"}
    return w.api.record(
        case["id"], "correct_particulars", same, TODAY, "secretary", case["version"]
    )


# ── the tests ─────────────────────────────────────────────────────────────
def test_every_rule_is_checked() -> None:
    rules = set(process.guard_ids()) | {"on_not_in_future", "event_allowed"}
    assert rules - set(NOT_OVER_HTTP) == set(CHECKS)


@pytest.mark.parametrize("rule", sorted(CHECKS))
def test_a_refused_event_answers_422_with_the_rules_id(walker: Walker, rule: str) -> None:
    answer = CHECKS[rule](walker)
    assert answer.status_code == 422, answer.get_json()
    error = error_of(answer)
    assert error["rule"] == rule
    assert error["message"] and error["source"]
    for case, _ in walker.walked.values():  # nothing written
        assert walker.api.case(case["id"])["version"] == case["version"]
