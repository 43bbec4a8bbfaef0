"""What the API answers when a call cannot succeed: always JSON, never a 500.

400 malformed input, 401 nobody logged in, 403 the role may not, 404 outside scope
(existence does not leak), 409 a stale version, 429 too many failed logins — and a
vote short of two-thirds, which is recorded (200), not refused.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.api.support import TODAY, Api, DemoTemplate, Walker, copy_engine, error_of, make_app

CELL_VOTE = {"voters": 9, "votes_for": 9, "resolution_ref": "NQ-1"}


def _events_url(case: dict[str, Any]) -> str:
    return f"/api/v1/cases/{case['id']}/events"


def _body(case: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = {"event": "cell_vote", "on": TODAY.isoformat(), "data": CELL_VOTE}
    return body | {"version": case["version"]} | changes


# ── 409 ───────────────────────────────────────────────────────────────────
def test_a_stale_version_answers_409_and_the_current_version(api: Api, walker: Walker) -> None:
    case, _ = walker.case("verified")
    stale = {**_body(case), "version": case["version"] - 1}
    answer = walker.api.post(_events_url(case), as_="secretary", json=stale)
    assert answer.status_code == 409
    error = error_of(answer)
    assert (error["rule"], error["field"], error["version"]) == (
        "version_conflict",
        "version",
        case["version"],
    )
    assert walker.api.case(case["id"])["state"] == "verified"


def test_two_writers_with_the_same_version_only_the_first_wins(api: Api) -> None:
    case = api.get("/api/v1/cases?state=verified&cell=4", as_="secretary").get_json()["items"][0]
    first = api.post(_events_url(case), as_="secretary", json=_body(case))
    second = api.post(_events_url(case), as_="officer", json=_body(case))
    assert (first.status_code, second.status_code) == (200, 409)
    assert api.case(case["id"])["version"] == case["version"] + 1


# ── a failed vote is a fact ───────────────────────────────────────────────
def test_a_vote_short_of_two_thirds_is_recorded_and_leaves_the_state(api: Api) -> None:
    case = api.get("/api/v1/cases?state=verified&cell=4", as_="secretary").get_json()["items"][0]
    short = _body(case, data={"voters": 9, "votes_for": 5, "resolution_ref": "NQ-2"})
    answer = api.post(_events_url(case), as_="secretary", json=short)
    assert answer.status_code == 200
    result = answer.get_json()
    assert (result["state"], result["version"]) == ("verified", case["version"] + 1)
    assert result["outcome"] == "failed_vote"
    assert result["failed_vote"]["rule"] == "two_thirds"
    rows = api.get(f"/api/v1/cases/{case['id']}/history", as_="secretary").get_json()["rows"]
    assert rows[-1]["outcome"] == "failed_vote" and rows[-1]["to_state"] == "verified"


# ── 400 ───────────────────────────────────────────────────────────────────
MALFORMED_EVENTS: dict[str, dict[str, Any]] = {
    "not JSON at all": {"data": "event=cell_vote", "content_type": "application/json"},
    "a form, not JSON": {"data": {"event": "cell_vote"}},
    "plain text": {"data": '{"event": "cell_vote"}', "content_type": "text/plain"},
    "a JSON array": {"json": [1, 2]},
    "a JSON string": {"json": "cell_vote"},
    "JSON null": {"data": "null", "content_type": "application/json"},
    "deeply nested JSON": {
        "data": "[" * 100_000 + "]" * 100_000,
        "content_type": "application/json",
    },
}
MALFORMED_FIELDS: dict[str, dict[str, Any]] = {
    "version missing": {"version": None},
    "version as text": {"version": "3"},
    "version as a boolean": {"version": True},
    "version as a float": {"version": 3.5},
    "version beyond 32 bits": {"version": 2**40},
    "version negative": {"version": -1},
    "event missing": {"event": None},
    "event as a number": {"event": 7},
    "an unknown event": {"event": "promote"},
    "nominate is not a later event": {"event": "nominate"},
    "on missing": {"on": None},
    "on not a date": {"on": "02/03/2026"},
    "on as a number": {"on": 20260302},
    "data as a list": {"data": [1]},
    "data with an unknown field": {"data": CELL_VOTE | {"quorum": 3}},
    "data missing a required field": {"data": {"voters": 9}},
    "votes as text": {"data": CELL_VOTE | {"votes_for": "nine"}},
    "votes beyond 32 bits": {"data": CELL_VOTE | {"votes_for": 2**40}},
    "note as a number": {"note": 5},
    "a NUL character": {"note": "a\x00b"},
    "a lone surrogate": {"data": CELL_VOTE | {"resolution_ref": "\ud800"}},
    "an unknown top-level key": {"priority": "high"},
}


@pytest.mark.parametrize("request_kwargs", MALFORMED_EVENTS.values(), ids=list(MALFORMED_EVENTS))
def test_a_body_that_is_not_a_json_object_answers_400(
    walker: Walker, request_kwargs: dict[str, Any]
) -> None:
    case, _ = walker.case("verified")
    answer = walker.api.post(_events_url(case), as_="secretary", **request_kwargs)
    assert answer.status_code == 400
    assert error_of(answer)["field"] == "body"


@pytest.mark.parametrize("changes", MALFORMED_FIELDS.values(), ids=list(MALFORMED_FIELDS))
def test_a_malformed_event_answers_400_naming_the_field(
    walker: Walker, changes: dict[str, Any]
) -> None:
    case, _ = walker.case("verified")
    body = {k: v for k, v in (_body(case) | changes).items() if v is not None}
    answer = walker.api.post(_events_url(case), as_="secretary", json=body)
    assert answer.status_code == 400, answer.get_json()
    error = error_of(answer)
    assert error["field"] and error["message"]
    assert walker.api.case(case["id"])["version"] == case["version"]


@pytest.mark.parametrize(
    "query",
    [
        "state=dreaming",
        "cell=abc",
        "cell=-1",
        "page=0",
        "per_page=0",
        "per_page=101",
        "overdue=maybe",
        "q=" + "x" * 201,
        "q=a%00b",
        "page=99999999999999",
    ],
)
def test_a_malformed_case_query_answers_400(walker: Walker, query: str) -> None:
    answer = walker.api.get(f"/api/v1/cases?{query}", as_="secretary")
    assert answer.status_code == 400
    assert error_of(answer)["field"] == query.split("=")[0]


@pytest.mark.parametrize(
    "body",
    [
        {"username": "secretary"},
        {"username": 5, "password": "x"},
        {"username": "secretary", "password": "ketnap-demo", "otp": 1},
    ],
)
def test_a_malformed_token_request_answers_400(walker: Walker, body: dict[str, Any]) -> None:
    assert walker.api.post("/api/v1/token", json=body).status_code == 400


def test_a_malformed_nomination_answers_400(walker: Walker) -> None:
    answer = walker.api.post(
        "/api/v1/cases", as_="secretary", json={"on": TODAY.isoformat(), "person": "Nguyễn"}
    )
    assert answer.status_code == 400
    assert error_of(answer)["field"] in ("person", "cell_id", "nominated_by", "nomination_ref")


# ── 401 ───────────────────────────────────────────────────────────────────
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/me",
        "/api/v1/process",
        "/api/v1/cases",
        "/api/v1/cases/1",
        "/api/v1/cases/1/history",
        "/api/v1/cases/1/history/verify",
        "/api/v1/organisations",
        "/api/v1/members",
    ],
)
def test_without_a_token_the_api_answers_401(walker: Walker, path: str) -> None:
    answer = walker.api.get(path)
    assert answer.status_code == 401
    assert error_of(answer)["rule"] == "unauthorized"


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Bearer ", "Basic c2VjcmV0YXJ5", "x"])
def test_a_bad_token_answers_401(walker: Walker, header: str) -> None:
    answer = walker.api.client.get("/api/v1/me", headers={"Authorization": header})
    assert answer.status_code == 401


def test_a_wrong_password_answers_401_without_a_token(walker: Walker) -> None:
    answer = walker.api.post("/api/v1/token", json={"username": "secretary", "password": "x"})
    assert answer.status_code == 401
    assert error_of(answer)["rule"] == "unauthorized" and "token" not in answer.get_json()


def test_a_token_is_the_users_own(walker: Walker) -> None:
    me = walker.api.get("/api/v1/me", as_="officer").get_json()
    assert (me["username"], me["role"], me["organisation_id"]) == ("officer", "officer", 2)


def test_the_ui_session_cookie_also_works_and_needs_no_csrf_token(api: Api) -> None:
    client = api.client
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    form = {"username": "secretary", "password": "ketnap-demo"}
    assert client.post("/login", data=form).status_code == 400  # pages do check CSRF
    assert client.post("/login", data=form | {"csrf_token": token[1]}).status_code == 302
    assert client.get("/api/v1/me").get_json()["username"] == "secretary"
    case = client.get("/api/v1/cases?state=verified&cell=4").get_json()["items"][0]
    answer = client.post(_events_url(case), json=_body(case))
    assert answer.status_code == 200, answer.get_json()


# ── 403 ───────────────────────────────────────────────────────────────────
def test_an_auditor_changes_nothing(walker: Walker) -> None:
    case, _ = walker.case("verified")
    answer = walker.api.post(_events_url(case), as_="auditor", json=_body(case))
    assert answer.status_code == 403
    assert error_of(answer)["rule"] == "forbidden"
    assert (
        walker.api.get(f"/api/v1/cases/{case['id']}", as_="auditor").get_json()["allowed_events"]
        == []
    )


def test_a_secretary_may_not_record_the_committees_vote(walker: Walker) -> None:
    case, _ = walker.case("cell_resolved")
    body = _body(
        case, event="committee_vote", data={"members": 7, "votes_for": 7, "resolution_ref": "1"}
    )
    assert walker.api.post(_events_url(case), as_="secretary", json=body).status_code == 403
    allowed = walker.api.case(case["id"], as_="secretary")["allowed_events"]
    assert "committee_vote" not in allowed and "withdraw" in allowed


@pytest.mark.parametrize("user", ["secretary", "officer", "auditor", "sponsor"])
def test_only_an_admin_changes_the_organisation_tree(walker: Walker, user: str) -> None:
    org = {"name": "Chi bộ mới", "kind": "cell", "parent_id": 2}
    member = {"full_name": "Nguyễn Văn A", "cell_id": 4}
    assert walker.api.post("/api/v1/organisations", as_=user, json=org).status_code == 403
    assert walker.api.post("/api/v1/members", as_=user, json=member).status_code == 403


def test_an_admin_adds_a_cell_below_a_committee_with_its_path(api: Api) -> None:
    org = {"name": "Chi bộ thôn Mới", "kind": "cell", "parent_id": 2}
    answer = api.post("/api/v1/organisations", as_="admin", json=org)
    assert answer.status_code == 201
    created = answer.get_json()
    assert created["path"] == f"/1/2/{created['id']}/"
    member = {"full_name": "Hà Văn Mới", "cell_id": created["id"], "official_since": "2020-01-01"}
    added = api.post("/api/v1/members", as_="admin", json=member)
    assert added.status_code == 201 and added.get_json()["status"] == "official"
    # the officer of Đông Lỗ sees the new cell's member; Bằng Lũng's does not
    listed = api.get(f"/api/v1/members?cell={created['id']}", as_="officer").get_json()
    assert [m["full_name"] for m in listed] == ["Hà Văn Mới"]
    assert (
        api.get(f"/api/v1/members?cell={created['id']}", as_="officer-bang-lung").get_json() == []
    )


@pytest.mark.parametrize(
    "org",
    [
        {"name": "Chi bộ lạc", "kind": "cell"},
        {"name": "X", "kind": "cell", "parent_id": 4},
        {"name": "X", "kind": "cell", "parent_id": 99999},
        {"name": "", "kind": "committee"},
        {"name": "X", "kind": "district"},
    ],
)
def test_an_organisation_outside_the_tree_answers_400(walker: Walker, org: dict[str, Any]) -> None:
    assert walker.api.post("/api/v1/organisations", as_="admin", json=org).status_code == 400


# ── 404 ───────────────────────────────────────────────────────────────────
def _other_cells_case(walker: Walker) -> dict[str, Any]:
    """A case of secretary-2's cell."""
    cell = walker.world.cell_ids[1]
    found = walker.api.get(f"/api/v1/cases?cell={cell}", as_="admin").get_json()["items"]
    return found[0]  # type: ignore[no-any-return]


@pytest.mark.parametrize("suffix", ["", "/history", "/history/verify"])
def test_a_case_outside_the_secretarys_cell_is_not_found(walker: Walker, suffix: str) -> None:
    case = _other_cells_case(walker)
    assert (
        walker.api.get(f"/api/v1/cases/{case['id']}{suffix}", as_="secretary-2").status_code == 200
    )
    answer = walker.api.get(f"/api/v1/cases/{case['id']}{suffix}", as_="secretary")
    assert answer.status_code == 404
    assert error_of(answer)["rule"] == "not_found"
    missing = walker.api.get(f"/api/v1/cases/999999{suffix}", as_="secretary")
    assert missing.get_json() == answer.get_json()  # existence does not leak


def test_an_event_on_a_case_outside_scope_is_not_found(walker: Walker) -> None:
    case = _other_cells_case(walker)
    body = {"event": "withdraw", "on": TODAY.isoformat(), "data": {"reason": "x"}}
    answer = walker.api.post(
        _events_url(case), as_="secretary", json=body | {"version": case["version"]}
    )
    assert answer.status_code == 404
    assert walker.api.case(case["id"])["version"] == case["version"]


def test_other_committees_cases_are_not_found_for_an_officer(walker: Walker) -> None:
    case, _ = walker.case("nominated")
    assert walker.api.get(f"/api/v1/cases/{case['id']}", as_="officer-bang-lung").status_code == 404
    assert walker.api.get(f"/api/v1/cases/{case['id']}", as_="officer-tinh").status_code == 200


def test_a_sponsor_sees_only_the_cases_they_sponsor_or_help(walker: Walker) -> None:
    listed = walker.api.get("/api/v1/cases?per_page=100", as_="sponsor").get_json()
    me = walker.api.get("/api/v1/me", as_="sponsor").get_json()
    assert listed["total"] > 0
    for case in listed["items"]:
        history = walker.api.get(f"/api/v1/cases/{case['id']}/history", as_="sponsor").get_json()
        involved = [
            row
            for row in history["rows"]
            if me["member_id"] in [s["member_id"] for s in row["data"].get("sponsors", [])]
            or me["member_id"] in row["data"].get("helpers", [])
        ]
        assert involved, case["id"]
        assert set(case["allowed_events"]) <= {"record_helper_comment"}


@pytest.mark.parametrize("path", ["/api/v1/cases/0", "/api/v1/cases/99999999999999999999"])
def test_an_id_beyond_any_row_is_not_found(walker: Walker, path: str) -> None:
    assert walker.api.get(path, as_="admin").status_code == 404


def test_unknown_api_paths_and_methods_answer_json(walker: Walker) -> None:
    missing = walker.api.get("/api/v1/nowhere", as_="admin")
    assert missing.status_code == 404 and error_of(missing)["rule"] == "not_found"
    wrong = walker.api.client.delete("/api/v1/cases")
    assert wrong.status_code == 405 and error_of(wrong)["rule"] == "method_not_allowed"


# ── 429 ───────────────────────────────────────────────────────────────────
def test_failed_token_requests_are_limited_like_the_login_page(
    demo_template: DemoTemplate, tmp_path: Path
) -> None:
    engine = copy_engine(demo_template, tmp_path)
    # limits on (the fixtures' apps switch them off), and a fresh name
    app = make_app(engine, KETNAP_LOGIN_LIMIT="3 per minute", RATELIMIT_ENABLED=True)
    client = app.test_client()
    wrong = {"username": f"guesser-{uuid.uuid4().hex}", "password": "guess"}
    statuses = [client.post("/api/v1/token", json=wrong).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert error_of(client.post("/api/v1/token", json=wrong))["rule"] == "too_many_requests"
    other = client.post("/api/v1/token", json={"username": "auditor", "password": "ketnap-demo"})
    assert other.status_code == 200  # counted per username: one's typos lock no one else out
