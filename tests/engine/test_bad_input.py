"""Bad input: each gives a clear error naming the field or the rule, and writes nothing.

One database per module (SQLite and PostgreSQL): since no test here may write, they
share it, and each proves it by counting the rows of every table before and after.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from tests.engine.conftest import TODAY, Setup
from workflow import process
from workflow.access import Actor, Forbidden
from workflow.engine import Conflict, NotFound
from workflow.refusal import Refusal
from workflow.schema import InvalidData


@dataclass(frozen=True)
class Cases:
    setup: Setup
    cell: int
    verified: int  # a case waiting for the cell's vote
    official: int  # a closed case
    nominated: dict[str, Any]  # the nomination data of an open case


@pytest.fixture(scope="module")
def cases(module_setup: Setup) -> Cases:
    setup = module_setup
    cell = setup.dong_lo_cell
    verified = setup.case_in("verified", cell, end=TODAY - timedelta(days=20))
    official = setup.case_in("official", cell, end=TODAY - timedelta(days=1))
    nominated = setup.nomination(cell, TODAY - timedelta(days=3))
    setup.engine.nominate(nominated, setup.secretary(cell), on=TODAY - timedelta(days=3))
    return Cases(setup, cell, verified, official, nominated)


@contextmanager
def writes_nothing(cases: Cases) -> Iterator[None]:
    setup = cases.setup
    before = setup.counts()
    versions = {c: setup.case(c).version for c in (cases.verified, cases.official)}
    yield
    assert setup.counts() == before
    assert {c: setup.case(c).version for c in versions} == versions
    assert setup.case(cases.verified).state == "verified"


VOTE = {"voters": 7, "votes_for": 6, "resolution_ref": "06-NQ/CB"}


def vote(cases: Cases, data: Any = VOTE, **options: Any) -> Any:
    setup = cases.setup
    case_id = options.pop("case_id", cases.verified)
    event = options.pop("event", "cell_vote")
    actor = options.pop("actor", setup.secretary(cases.cell))
    on = options.pop("on", TODAY.isoformat())
    version = options.pop("version", None)
    if version is None:
        version = setup.case(case_id).version if case_id in (cases.verified, cases.official) else 1
    return setup.engine.advance(case_id, event, data, actor, version, on=on, **options)


def invalid(cases: Cases, call: Callable[[], Any]) -> InvalidData:
    with writes_nothing(cases), pytest.raises(InvalidData) as raised:
        call()
    assert raised.value.message_vi and raised.value.message_en
    return raised.value


def refusal(cases: Cases, call: Callable[[], Any]) -> Refusal:
    with writes_nothing(cases), pytest.raises(Refusal) as raised:
        call()
    assert raised.value.message_vi and raised.value.source
    return raised.value


# ── events ────────────────────────────────────────────────────────────────
def test_unknown_event_is_named(cases: Cases) -> None:
    error = invalid(cases, lambda: vote(cases, {}, event="vote_twice"))
    assert error.field == "event"
    assert error.message_vi == "Không có sự kiện 'vote_twice'"


def test_nominate_is_not_an_advance(cases: Cases) -> None:
    assert invalid(cases, lambda: vote(cases, cases.nominated, event="nominate")).field == "event"


def test_event_not_allowed_from_the_current_state(cases: Cases) -> None:
    data = {"helpers": [cases.setup.world.officials[cases.cell][0]]}
    refused = refusal(cases, lambda: vote(cases, data, event="hold_ceremony"))
    assert refused.rule == "event_allowed"
    assert refused.message_vi == (
        "Không thể 'Tổ chức lễ kết nạp' khi hồ sơ ở bước 'Đã thẩm tra lý lịch'"
    )


@pytest.mark.parametrize("event", [e.name for e in process.EVENTS if e.sources])
def test_terminal_state_accepts_nothing(cases: Cases, event: str) -> None:
    setup = cases.setup
    data = setup.plausible_data(event, cases.cell, TODAY)
    actor = setup.actor_for(event, cases.cell)
    refused = refusal(
        cases, lambda: vote(cases, data, event=event, case_id=cases.official, actor=actor)
    )
    assert refused.rule == "event_allowed"


# ── data ──────────────────────────────────────────────────────────────────
def test_missing_field_is_named(cases: Cases) -> None:
    data = {"voters": 7, "votes_for": 6}
    error = invalid(cases, lambda: vote(cases, data))
    assert error.field == "resolution_ref"
    assert error.message_vi == "Thiếu 'Số nghị quyết (6-KNĐ)'"


def test_text_for_a_number_is_refused(cases: Cases) -> None:
    error = invalid(cases, lambda: vote(cases, VOTE | {"voters": "bảy"}))
    assert error.field == "voters"
    assert error.message_vi == "'bảy' không phải số nguyên (chỉ dùng chữ số 0–9)"


@pytest.mark.parametrize("number", ["²", "--3", "+5", "7.0", 7.5, 2**40, [7]])
def test_what_is_not_a_whole_number_is_refused(cases: Cases, number: Any) -> None:
    assert invalid(cases, lambda: vote(cases, VOTE | {"voters": number})).field == "voters"


def test_true_is_not_a_number(cases: Cases) -> None:
    assert invalid(cases, lambda: vote(cases, VOTE | {"votes_for": True})).field == "votes_for"


def test_bad_date_of_the_act_is_refused(cases: Cases) -> None:
    error = invalid(cases, lambda: vote(cases, on="2026-02-30"))
    assert error.field == "on"
    assert "không phải ngày hợp lệ" in error.message_vi


def test_bad_date_in_the_data_is_named(cases: Cases) -> None:
    data = {"decision_no": "9-QĐ", "received_on": "30/02/2026"}
    error = invalid(cases, lambda: vote(cases, data, event="decide_admission"))
    assert error.field == "received_on"


def test_bad_date_deep_in_the_data_is_named_by_its_path(cases: Cases) -> None:
    member = cases.setup.world.officials[cases.cell][0]
    data = {"sponsors": [{"member_id": member, "alongside_since": "hôm qua"}]}
    error = invalid(cases, lambda: vote(cases, data, event="assign_sponsors"))
    assert error.field == "sponsors[0].alongside_since"


def test_data_that_is_not_an_object_is_refused(cases: Cases) -> None:
    assert invalid(cases, lambda: vote(cases, [7, 6])).field == "data"


def test_unknown_field_is_named(cases: Cases) -> None:
    error = invalid(cases, lambda: vote(cases, VOTE | {"votes_against": 1}))
    assert error.field == "votes_against"
    assert error.message_vi == "Trường 'votes_against' không thuộc sự kiện này"


def test_choice_outside_its_list_is_refused(cases: Cases) -> None:
    data = {"by": "province", "reason": "Không đủ tiêu chuẩn"}
    error = invalid(cases, lambda: vote(cases, data, event="reject"))
    assert error.field == "by"


@pytest.mark.parametrize("text", ["NQ\x00-06", "NQ-\ud800"])
def test_text_that_cannot_be_stored_is_refused(cases: Cases, text: str) -> None:
    error = invalid(cases, lambda: vote(cases, VOTE | {"resolution_ref": text}))
    assert error.field == "resolution_ref"


def test_note_that_is_not_text_is_refused(cases: Cases) -> None:
    assert invalid(cases, lambda: vote(cases, note={"x": 1})).field == "note"
    assert invalid(cases, lambda: vote(cases, note="x" * 4001)).field == "note"


# ── dates in the future ──────────────────────────────────────────────────
def test_act_dated_in_the_future_is_refused(cases: Cases) -> None:
    tomorrow = TODAY + timedelta(days=1)
    refused = refusal(cases, lambda: vote(cases, on=tomorrow.isoformat()))
    assert refused.rule == "on_not_in_future" and refused.field == "on"
    assert (
        refused.message_vi == f"Ngày {tomorrow:%d/%m/%Y} ở tương lai; hôm nay là {TODAY:%d/%m/%Y}"
    )


def test_date_in_the_data_in_the_future_is_refused(cases: Cases) -> None:
    data = {"decision_no": "9-QĐ", "received_on": (TODAY + timedelta(days=30)).isoformat()}
    refused = refusal(cases, lambda: vote(cases, data, event="decide_admission"))
    assert refused.rule == "on_not_in_future" and refused.field == "received_on"


def test_birth_date_in_the_future_is_refused(cases: Cases) -> None:
    setup = cases.setup
    data = setup.nomination(cases.cell, TODAY, birth_date=date(2030, 1, 1).isoformat())
    refused = refusal(
        cases, lambda: setup.engine.nominate(data, setup.secretary(cases.cell), on=TODAY)
    )
    assert refused.rule == "on_not_in_future" and refused.field == "person.birth_date"


def test_act_dated_before_the_step_that_led_here_is_refused(cases: Cases) -> None:
    verified_on = cases.setup.history(cases.verified)[-1].on
    before = (verified_on - timedelta(days=1)).isoformat()
    refused = refusal(cases, lambda: vote(cases, on=before))
    assert refused.rule == "on_after_previous_step" and refused.field == "on"
    assert refused.message_vi.startswith(
        f"Ngày {verified_on - timedelta(days=1):%d/%m/%Y} trước bước 'Đã thẩm tra lý lịch'"
    )
    reject = {"by": "cell", "reason": "Không đủ tiêu chuẩn"}
    refused = refusal(cases, lambda: vote(cases, reject, event="reject", on="2020-01-01"))
    assert refused.rule == "on_after_previous_step"


# ── rules ─────────────────────────────────────────────────────────────────
def test_more_votes_than_voters_is_refused(cases: Cases) -> None:
    refused = refusal(cases, lambda: vote(cases, VOTE | {"voters": 7, "votes_for": 8}))
    assert refused.rule == "votes_valid" and refused.field == "votes_for"
    assert refused.message_vi == "Số phiếu tán thành (8) phải từ 0 đến 7 (Ketnap)"


def test_vote_below_quorum_is_refused(cases: Cases) -> None:
    refused = refusal(cases, lambda: vote(cases, VOTE | {"voters": 2, "votes_for": 2}))
    assert refused.rule == "quorum_base" and refused.field == "voters"


def test_nominating_a_person_with_an_open_case_is_refused(cases: Cases) -> None:
    setup = cases.setup
    again = cases.nominated | {"nomination_ref": "99-GT"}
    refused = refusal(
        cases, lambda: setup.engine.nominate(again, setup.secretary(cases.cell), on=TODAY)
    )
    assert refused.rule == "one_open_case" and refused.field == "person"
    assert "đã có hồ sơ đang mở" in refused.message_vi


def test_the_same_national_id_is_the_same_person(cases: Cases) -> None:
    setup = cases.setup
    other = setup.nomination(
        cases.cell, TODAY, national_id=cases.nominated["person"]["national_id"]
    )
    refused = refusal(
        cases, lambda: setup.engine.nominate(other, setup.secretary(cases.cell), on=TODAY)
    )
    assert refused.rule == "one_open_case"


def test_nominating_into_a_cell_out_of_scope_is_refused(cases: Cases) -> None:
    setup = cases.setup
    other_cell = setup.world.cell_ids[1]
    data = setup.nomination(other_cell, TODAY)
    refused = refusal(
        cases, lambda: setup.engine.nominate(data, setup.secretary(cases.cell), on=TODAY)
    )
    assert refused.rule == "cell_in_scope" and refused.field == "cell_id"


def test_nominating_into_a_committee_is_refused(cases: Cases) -> None:
    setup = cases.setup
    committee = setup.organisation("Đảng ủy xã Đông Lỗ").id
    assert committee is not None
    data = setup.nomination(cases.cell, TODAY) | {"cell_id": committee}
    officer = setup.world.committee_officer[cases.cell]
    refused = refusal(cases, lambda: setup.engine.nominate(data, officer, on=TODAY))
    assert refused.rule == "cell_in_scope"
    assert refused.message_vi.startswith(f"Không có chi bộ số {committee}")


def test_nomination_with_a_bad_gender_is_named(cases: Cases) -> None:
    setup = cases.setup
    data = setup.nomination(cases.cell, TODAY, gender="nam")
    error = invalid(
        cases, lambda: setup.engine.nominate(data, setup.secretary(cases.cell), on=TODAY)
    )
    assert error.field == "person.gender"


# ── who may act ───────────────────────────────────────────────────────────
def test_actor_out_of_scope_does_not_find_the_case(cases: Cases) -> None:
    stranger = cases.setup.secretary(cases.setup.world.cell_ids[2])
    with writes_nothing(cases), pytest.raises(NotFound):
        vote(cases, actor=stranger)
    with writes_nothing(cases), pytest.raises(NotFound):  # not even a stale version leaks
        vote(cases, actor=stranger, version=1)


def test_unknown_case_is_not_found(cases: Cases) -> None:
    with writes_nothing(cases), pytest.raises(NotFound):
        vote(cases, case_id=10**6)


def test_sponsor_of_another_case_does_not_find_the_case(cases: Cases) -> None:
    unrelated = Actor("sponsor", "sponsor", cases.cell, "", member_id=10**6)
    with writes_nothing(cases), pytest.raises(NotFound):
        vote(cases, actor=unrelated)


def test_role_not_allowed_is_forbidden(cases: Cases) -> None:
    setup = cases.setup
    auditor = Actor("auditor", "auditor", None, "/")
    with writes_nothing(cases), pytest.raises(Forbidden):
        vote(cases, actor=auditor)
    with writes_nothing(cases), pytest.raises(Forbidden):  # a secretary is not the committee
        vote(cases, {"members": 7, "votes_for": 7, "resolution_ref": "8"}, event="committee_vote")
    with writes_nothing(cases), pytest.raises(Forbidden):
        setup.engine.nominate(setup.nomination(cases.cell, TODAY), auditor, on=TODAY)


def test_stale_version_is_a_conflict(cases: Cases) -> None:
    current = cases.setup.case(cases.verified).version
    for version in (current - 1, current + 1):
        with writes_nothing(cases), pytest.raises(Conflict) as raised:
            vote(cases, version=version)
        assert raised.value.expected == version and raised.value.actual == current
        assert f"phiên bản {current}" in raised.value.message_vi


def test_every_field_type_of_the_process_table_has_a_parser() -> None:
    from workflow import schema

    assert set(schema._PARSERS) == set(process.FIELD_TYPES)
