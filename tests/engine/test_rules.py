"""One test per rule of PROCESS.md, at its boundaries. No database: the date and vote
arithmetic of workflow.rules, and each guard of workflow.guards run against a small
stand-in of the GuardContext (the engine's real context needs a session).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from workflow import guards, process, rules
from workflow.access import Actor
from workflow.config import RuleParameters
from workflow.guards import Guard
from workflow.models import Case, Member, Organisation, Person
from workflow.refusal import Refusal

VOTE = date(2026, 3, 16)
PARAMS = RuleParameters()
SECRETARY = Actor("secretary", "secretary", 5, "/1/2/5/")


def dong_lo() -> Organisation:
    return Organisation(
        id=2, name="Đảng ủy xã Đông Lỗ", kind="grassroots_committee", may_admit=True, path="/1/2/"
    )


def official(member_id: int, name: str = "Nguyễn Văn Bình") -> Member:
    return Member(id=member_id, full_name=name, cell_id=5, status="official")


@dataclass
class Context:
    """A plain GuardContext: the case, the act and the look-ups a guard may ask for."""

    case: Case = field(
        default_factory=lambda: Case(
            id=1, person_id=1, cell_id=5, state="verified", nominated_on=VOTE
        )
    )
    person: Person = field(
        default_factory=lambda: Person(
            id=1, full_name="Lê Thị Hoa", birth_date=date(1990, 5, 1), gender="female"
        )
    )
    on: date = VOTE
    data: dict[str, Any] = field(default_factory=dict)
    params: RuleParameters = PARAMS
    actor: Actor = SECRETARY
    members: dict[int, Member] = field(default_factory=dict)
    helpers: set[int] = field(default_factory=set)
    authority: Organisation | None = field(default_factory=dong_lo)
    committee: Organisation | None = field(default_factory=dong_lo)
    failed: list[Refusal] = field(default_factory=list)
    guard_list: tuple[Guard, ...] = ()
    vote: str | None = None

    def member(self, member_id: int) -> Member | None:
        return self.members.get(member_id)

    def sponsors(self) -> list[Member]:
        return list(self.members.values())

    def helper_ids(self) -> set[int]:
        return self.helpers

    def organisation(self, org_id: int) -> Organisation | None:
        return None

    def parent_committee(self) -> Organisation | None:
        return self.committee

    def competent_authority(self) -> Organisation | None:
        return self.authority

    def open_case_of(self, person: dict[str, Any]) -> int | None:
        return None

    def event_guards(self) -> tuple[Guard, ...]:
        return self.guard_list

    def vote_guard(self) -> str | None:
        return self.vote

    def deadline(self, deadline_id: str) -> process.Deadline:
        return process.deadline(deadline_id)

    def current_state(self) -> process.State:
        return process.state(self.case.state)

    def record_failed_vote(self, refusal: Refusal) -> None:
        self.failed.append(refusal)


def refusal(guard: Guard, ctx: Context) -> Refusal | None:
    problem = guard.check(ctx)
    return None if problem is None else guard.refusal(problem)


def refused(guard: Guard, ctx: Context) -> Refusal:
    result = refusal(guard, ctx)
    assert result is not None, f"{guard.id} should refuse"
    assert result.rule == guard.id
    assert result.source == guard.source
    assert result.message_vi.endswith(f"({guard.source})")
    assert result.message_en.endswith(f"({guard.source})")
    return result


def accepted(guard: Guard, ctx: Context) -> None:
    result = refusal(guard, ctx)
    assert result is None, result and result.message_vi


def candidate_born(birth: date) -> Person:
    return Person(id=1, full_name="Phạm Văn Nam", birth_date=birth, gender="male")


# ── age_range: full years counted by month (QĐ 294 §1.1) ─────────────────
def test_age_in_full_years_is_counted_by_month() -> None:
    birth = date(2008, 3, 17)
    assert rules.age_in_months(birth, date(2026, 3, 16)) == 18 * 12 - 1
    assert rules.age_in_years(birth, date(2026, 3, 16)) == 17
    assert rules.age_in_years(birth, date(2026, 3, 17)) == 18


def test_candidate_who_turns_18_the_day_after_the_vote_is_refused() -> None:
    ctx = Context(person=candidate_born(date(2008, 3, 17)), data={"voters": 9, "votes_for": 9})
    refusal_ = refused(guards.age_range, ctx)
    assert refusal_.field == "on"
    assert "17 tuổi 11 tháng" in refusal_.message_vi
    assert "phải đủ 18 tuổi" in refusal_.message_vi


def test_candidate_who_turns_18_on_the_day_of_the_vote_is_accepted() -> None:
    ctx = Context(person=candidate_born(date(2008, 3, 16)), data={"voters": 9, "votes_for": 9})
    accepted(guards.age_range, ctx)


def test_age_59_years_11_months_is_accepted() -> None:
    ctx = Context(person=candidate_born(date(1966, 4, 16)), data={})
    assert rules.age_in_months(ctx.person.birth_date, VOTE) == 59 * 12 + 11
    accepted(guards.age_range, ctx)


def test_age_60_years_1_month_is_refused_without_over_60_consent() -> None:
    ctx = Context(person=candidate_born(date(1966, 2, 16)), data={"over_60_consent_ref": None})
    assert rules.age_in_months(ctx.person.birth_date, VOTE) == 60 * 12 + 1
    refusal_ = refused(guards.age_range, ctx)
    assert refusal_.field == "over_60_consent_ref"
    assert "60 tuổi 1 tháng" in refusal_.message_vi
    assert "văn bản đồng ý" in refusal_.message_vi


def test_age_60_years_1_month_is_accepted_with_over_60_consent() -> None:
    ctx = Context(
        person=candidate_born(date(1966, 2, 16)), data={"over_60_consent_ref": "15-CV/HU"}
    )
    accepted(guards.age_range, ctx)


def test_age_60_years_0_months_is_still_within_the_limit() -> None:
    assert not rules.is_over_max_age(date(1966, 3, 16), VOTE, 60)
    assert rules.is_over_max_age(date(1966, 2, 16), VOTE, 60)


# ── two_thirds and quorum_base (Charter art. 4.3, art. 24) ─────────────────
def test_two_thirds_of_seven_needs_five() -> None:
    assert rules.votes_needed(7) == 5
    assert rules.meets_two_thirds(5, 7)
    assert not rules.meets_two_thirds(4, 7)


def test_two_thirds_of_three_needs_two() -> None:
    assert rules.votes_needed(3) == 2
    assert rules.meets_two_thirds(2, 3)
    assert not rules.meets_two_thirds(1, 3)


def test_two_thirds_of_nine_needs_six() -> None:
    assert rules.votes_needed(9) == 6
    assert rules.meets_two_thirds(6, 9)
    assert not rules.meets_two_thirds(5, 9)


def test_two_thirds_guard_names_the_votes_needed() -> None:
    refusal_ = refused(guards.two_thirds, Context(data={"voters": 7, "votes_for": 4}))
    assert refusal_.field == "votes_for"
    assert "4/7 phiếu tán thành, chưa đủ hai phần ba (cần 5)" in refusal_.message_vi
    accepted(guards.two_thirds, Context(data={"voters": 7, "votes_for": 5}))


def test_quorum_base_is_at_least_three_official_members() -> None:
    refusal_ = refused(guards.quorum_base, Context(data={"voters": 2, "votes_for": 2}))
    assert refusal_.field == "voters"
    assert "ít nhất 3 đảng viên chính thức" in refusal_.message_vi
    accepted(guards.quorum_base, Context(data={"voters": 3, "votes_for": 2}))


def test_votes_valid_refuses_more_votes_than_voters() -> None:
    refusal_ = refused(guards.votes_valid, Context(data={"voters": 7, "votes_for": 8}))
    assert refusal_.field == "votes_for"
    refused(guards.votes_valid, Context(data={"voters": 7, "votes_for": -1}))
    accepted(guards.votes_valid, Context(data={"voters": 7, "votes_for": 7}))


def test_committee_two_thirds_applies_only_where_the_committee_may_admit() -> None:
    short = {"members": 9, "votes_for": 5}
    refused(guards.committee_two_thirds, Context(data=short))
    may_not = Organisation(id=3, name="Đảng ủy thị trấn Bằng Lũng", kind="grassroots_committee")
    accepted(guards.committee_two_thirds, Context(data=short, committee=may_not))


def test_a_vote_failing_only_two_thirds_is_recorded_not_refused() -> None:
    ctx = Context(
        data={"voters": 7, "votes_for": 4},
        guard_list=(guards.quorum_base, guards.votes_valid, guards.two_thirds),
        vote="two_thirds",
    )
    assert guards.check_event_guards(SimpleNamespace(model=SimpleNamespace(context=ctx))) is False
    assert [r.rule for r in ctx.failed] == ["two_thirds"]


def test_a_vote_below_quorum_is_refused_even_when_two_thirds_also_fails() -> None:
    ctx = Context(
        data={"voters": 2, "votes_for": 1},
        guard_list=(guards.quorum_base, guards.votes_valid, guards.two_thirds),
        vote="two_thirds",
    )
    with pytest.raises(Refusal) as raised:
        guards.check_event_guards(SimpleNamespace(model=SimpleNamespace(context=ctx)))
    assert raised.value.rule == "quorum_base"


# ── certificate_valid: 60 months on the vote date (HD 06 §5.4) ─────────────
def test_certificate_issued_exactly_60_months_before_the_vote_has_expired() -> None:
    case = Case(id=1, person_id=1, cell_id=5, state="verified", nominated_on=VOTE)
    case.certificate_on = date(2021, 3, 16)
    refusal_ = refused(guards.certificate_valid, Context(case=case))
    assert "đã hết hạn ngày 16/03/2026" in refusal_.message_vi
    assert not rules.certificate_is_valid(date(2021, 3, 16), VOTE, 60)


def test_certificate_issued_60_months_less_a_day_before_the_vote_is_valid() -> None:
    case = Case(id=1, person_id=1, cell_id=5, state="verified", nominated_on=VOTE)
    case.certificate_on = date(2021, 3, 17)
    accepted(guards.certificate_valid, Context(case=case))


def test_certificate_missing_is_not_valid() -> None:
    refused(guards.certificate_valid, Context())


# ── sponsors (Charter art. 4; QĐ 294 §3.2.1) ──────────────────────────────
def sponsors(*pairs: tuple[int, date]) -> list[dict[str, Any]]:
    return [{"member_id": m, "alongside_since": since} for m, since in pairs]


def test_probationary_member_cannot_sponsor() -> None:
    probationary = Member(id=8, full_name="Đỗ Thu Trang", cell_id=5, status="probationary")
    ctx = Context(
        members={7: official(7), 8: probationary},
        data={"sponsors": sponsors((7, date(2020, 1, 1)), (8, date(2020, 1, 1)))},
    )
    refusal_ = refused(guards.sponsor_is_official, ctx)
    assert refusal_.field == "sponsors[1].member_id"  # the row at fault, not the list
    assert "Đỗ Thu Trang" in refusal_.message_vi
    assert "đảng viên dự bị không được giới thiệu" in refusal_.message_vi


def test_two_bad_sponsors_are_both_named_each_on_its_row() -> None:
    probationary = Member(id=8, full_name="Đỗ Thu Trang", cell_id=5, status="probationary")
    ctx = Context(
        members={8: probationary},
        data={"sponsors": sponsors((404, date(2020, 1, 1)), (8, date(2020, 1, 1)))},
    )
    refusal_ = refused(guards.sponsor_is_official, ctx)
    assert [(r.field, r.rule) for r in refusal_.every()] == [
        ("sponsors[0].member_id", "sponsor_is_official"),
        ("sponsors[1].member_id", "sponsor_is_official"),
    ]
    assert "404" in refusal_.message_vi and "Đỗ Thu Trang" in refusal_.also[0].message_vi


def test_official_members_may_sponsor() -> None:
    ctx = Context(
        members={7: official(7), 9: official(9)},
        data={"sponsors": sponsors((7, date(2020, 1, 1)), (9, date(2020, 1, 1)))},
    )
    accepted(guards.sponsor_is_official, ctx)


def test_unknown_member_cannot_sponsor() -> None:
    ctx = Context(data={"sponsors": sponsors((404, date(2020, 1, 1)))})
    assert "Không có đảng viên số 404" in refused(guards.sponsor_is_official, ctx).message_vi


def test_sponsor_not_candidate_refuses_the_candidate_and_duplicates() -> None:
    me = Member(id=7, full_name="Lê Thị Hoa", cell_id=5, status="official", person_id=1)
    ctx = Context(members={7: me}, data={"sponsors": sponsors((7, date(2020, 1, 1)))})
    assert "tự giới thiệu" in refused(guards.sponsor_not_candidate, ctx).message_vi
    twice = Context(
        members={9: official(9)},
        data={"sponsors": sponsors((9, date(2020, 1, 1)), (9, date(2020, 1, 1)))},
    )
    assert "hai lần" in refused(guards.sponsor_not_candidate, twice).message_vi


def test_sponsor_shared_11_months_30_days_is_refused() -> None:
    ctx = Context(
        on=date(2025, 12, 31),
        members={7: official(7)},
        data={"sponsors": sponsors((7, date(2025, 1, 1)))},
    )
    refusal_ = refused(guards.sponsor_shared_time, ctx)
    assert "mới công tác cùng người vào Đảng 11 tháng; cần ít nhất 12 tháng" in refusal_.message_vi


def test_sponsor_shared_12_months_is_accepted() -> None:
    ctx = Context(
        on=date(2026, 1, 1),
        members={7: official(7)},
        data={"sponsors": sponsors((7, date(2025, 1, 1)))},
    )
    accepted(guards.sponsor_shared_time, ctx)


def test_sponsor_alongside_since_the_future_is_refused() -> None:
    ctx = Context(members={7: official(7)}, data={"sponsors": sponsors((7, date(2027, 1, 1)))})
    assert "0 tháng" in refused(guards.sponsor_shared_time, ctx).message_vi


UNION = {"kind": "youth_union", "ref": "12-NQ/ĐTN", "dated": date(2026, 1, 5)}
SINCE = date(2020, 1, 1)


def test_sponsor_count_two_members_is_accepted() -> None:
    data = {"sponsors": sponsors((7, SINCE), (9, SINCE)), "union_resolution": None}
    accepted(guards.sponsor_count, Context(data=data))


def test_sponsor_count_one_member_and_a_union_resolution_is_accepted() -> None:
    data = {"sponsors": sponsors((7, SINCE)), "union_resolution": UNION}
    accepted(guards.sponsor_count, Context(data=data))


def test_sponsor_count_three_members_is_refused() -> None:
    data = {"sponsors": sponsors((7, SINCE), (8, SINCE), (9, SINCE)), "union_resolution": None}
    refusal_ = refused(guards.sponsor_count, Context(data=data))
    assert refusal_.field == "sponsors"
    assert "Cần hai đảng viên chính thức giới thiệu" in refusal_.message_vi
    assert "đang có 3 đảng viên" in refusal_.message_vi


def test_sponsor_count_one_member_without_a_resolution_is_refused() -> None:
    data = {"sponsors": sponsors((7, SINCE)), "union_resolution": None}
    assert "đang có 1 đảng viên)" in refused(guards.sponsor_count, Context(data=data)).message_vi


def youth_member(birth: date) -> Person:
    return Person(
        id=1, full_name="Hoàng Thị Mai", birth_date=birth, gender="female", youth_union_member=True
    )


def test_youth_union_member_of_youth_age_is_introduced_by_the_youth_union() -> None:
    two_members = {"sponsors": sponsors((7, SINCE), (9, SINCE)), "union_resolution": None}
    ctx = Context(person=youth_member(date(2000, 1, 1)), data=two_members)
    refusal_ = refused(guards.youth_union_introduces, ctx)
    assert refusal_.field == "union_resolution"
    assert "nghị quyết của Đoàn Thanh niên và một đảng viên" in refusal_.message_vi
    union = {"sponsors": sponsors((7, SINCE)), "union_resolution": UNION}
    accepted(
        guards.youth_union_introduces, Context(person=youth_member(date(2000, 1, 1)), data=union)
    )


def test_youth_union_rule_ends_after_youth_age() -> None:
    two_members = {"sponsors": sponsors((7, SINCE), (9, SINCE)), "union_resolution": None}
    thirty = Context(person=youth_member(date(1995, 3, 17)), data=two_members)  # 30 y 11 m
    refused(guards.youth_union_introduces, thirty)
    thirty_one = Context(person=youth_member(date(1995, 3, 16)), data=two_members)
    accepted(guards.youth_union_introduces, thirty_one)


def test_youth_union_rule_does_not_bind_non_members() -> None:
    two_members = {"sponsors": sponsors((7, SINCE), (9, SINCE)), "union_resolution": None}
    accepted(guards.youth_union_introduces, Context(data=two_members))


def test_trade_union_resolution_does_not_introduce_a_youth_union_member() -> None:
    trade = {"sponsors": sponsors((7, SINCE)), "union_resolution": UNION | {"kind": "trade_union"}}
    refused(
        guards.youth_union_introduces, Context(person=youth_member(date(2000, 1, 1)), data=trade)
    )


# ── dossier and verification ─────────────────────────────────────────────
def dossier(**changes: date | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "application_on": date(2026, 2, 1),
        "declaration_on": date(2026, 2, 3),
        "introductions_on": date(2026, 2, 5),
        "union_resolution_on": None,
        "comments_on": date(2026, 2, 10),
        "requests_sent_on": None,
    }
    return data | changes


def test_dossier_dates_all_present_and_in_order_are_accepted() -> None:
    accepted(guards.dossier_dates, Context(data=dossier()))


def test_dossier_form_dated_after_the_dossier_is_refused() -> None:
    refusal_ = refused(guards.dossier_dates, Context(data=dossier(comments_on=date(2026, 3, 17))))
    assert refusal_.field == "comments_on"
    assert "Ngày của mẫu 5-KNĐ (17/03/2026) sau ngày hoàn thiện hồ sơ" in refusal_.message_vi


def test_dossier_verification_requests_dated_after_the_dossier_are_refused() -> None:
    ctx = Context(data=dossier(requests_sent_on=date(2026, 3, 20)))
    assert refused(guards.dossier_dates, ctx).field == "requests_sent_on"


def test_dossier_application_after_the_declaration_is_refused() -> None:
    ctx = Context(data=dossier(application_on=date(2026, 2, 4)))
    refusal_ = refused(guards.dossier_dates, ctx)
    assert refusal_.field == "application_on"
    assert "1-KNĐ" in refusal_.message_vi and "2-KNĐ" in refusal_.message_vi


def test_dossier_needs_the_union_resolution_when_a_union_introduced() -> None:
    case = Case(id=1, person_id=1, cell_id=5, state="sponsored", nominated_on=VOTE)
    case.union_resolution_ref = "youth_union:12-NQ/ĐTN"
    refusal_ = refused(guards.dossier_dates, Context(case=case, data=dossier()))
    assert refusal_.field == "union_resolution_on"
    accepted(
        guards.dossier_dates,
        Context(case=case, data=dossier(union_resolution_on=date(2026, 1, 20))),
    )


# ── decisions and probation ──────────────────────────────────────────────
def officer_of(org_id: int, path: str) -> Actor:
    return Actor("officer", "officer", org_id, path)


def test_competent_authority_is_the_nearest_ancestor_that_may_admit() -> None:
    accepted(guards.competent_authority, Context(actor=officer_of(2, "/1/2/")))
    province = officer_of(1, "/1/")
    refusal_ = refused(guards.competent_authority, Context(actor=province))
    assert "Chỉ Đảng ủy xã Đông Lỗ có thẩm quyền" in refusal_.message_vi


def test_competent_authority_missing_is_refused() -> None:
    refusal_ = refused(
        guards.competent_authority, Context(actor=officer_of(2, "/1/2/"), authority=None)
    )
    assert "Không có cấp ủy có thẩm quyền" in refusal_.message_vi


def probationer(probation_end: date | None = None, **dates: date) -> Case:
    case = Case(id=1, person_id=1, cell_id=5, state="probationary", nominated_on=date(2024, 1, 1))
    case.probation_end = probation_end
    for name, day in dates.items():
        setattr(case, name, day)
    return case


def test_probation_over_not_before_the_end_of_probation() -> None:
    case = probationer(date(2026, 3, 17))
    refusal_ = refused(guards.probation_over, Context(case=case))
    assert "Thời gian dự bị kết thúc ngày 17/03/2026" in refusal_.message_vi
    accepted(guards.probation_over, Context(case=case, on=date(2026, 3, 17)))


def test_confirmation_papers_lists_what_is_missing() -> None:
    case = probationer(date(2026, 3, 1), theory_class_on=date(2025, 8, 1))
    refusal_ = refused(guards.confirmation_papers, Context(case=case))
    assert refusal_.message_vi.startswith(
        "Còn thiếu: bản tự kiểm điểm (10-KNĐ), nhận xét của người giúp đỡ (11-KNĐ)"
    )
    done = probationer(
        date(2026, 3, 1),
        theory_class_on=date(2025, 8, 1),
        self_review_on=date(2026, 1, 10),
        helper_comment_on=date(2026, 1, 15),
    )
    accepted(guards.confirmation_papers, Context(case=done))


def test_is_helper_only_an_assigned_helper_comments() -> None:
    data = {"helper_id": 7, "comment": "Tốt"}
    refusal_ = refused(guards.is_helper, Context(data=data, helpers={9}))
    assert refusal_.field == "helper_id"
    assert "Đảng viên số 7 không được phân công giúp đỡ" in refusal_.message_vi
    accepted(guards.is_helper, Context(data=data, helpers={7, 9}))


def test_is_helper_a_sponsor_user_comments_only_as_themselves() -> None:
    data = {"helper_id": 7, "comment": "Tốt"}
    other = Actor("sponsor", "sponsor", 5, "/1/2/5/", member_id=9)
    refusal_ = refused(guards.is_helper, Context(data=data, helpers={7, 9}, actor=other))
    assert "Chỉ chính người giúp đỡ hoặc bí thư chi bộ" in refusal_.message_vi
    himself = Actor("sponsor", "sponsor", 5, "/1/2/5/", member_id=7)
    accepted(guards.is_helper, Context(data=data, helpers={7, 9}, actor=himself))


def extension(
    state: str, deadline: str, days: int, granted: dict[str, int] | None = None
) -> Context:
    case = Case(id=1, person_id=1, cell_id=5, state=state, nominated_on=date(2025, 1, 1))
    case.extensions = json.dumps(granted or {})
    data = {"deadline": deadline, "working_days": days, "consent_ref": "45-CV/TU"}
    return Context(case=case, data=data)


def test_extension_allowed_adds_at_most_30_working_days_to_the_decision() -> None:
    accepted(guards.extension_allowed, extension("cell_resolved", "decision", 30))
    refusal_ = refused(guards.extension_allowed, extension("cell_resolved", "decision", 31))
    assert refusal_.field == "working_days"
    assert "tối đa 30 ngày làm việc (đã gia hạn 0)" in refusal_.message_vi


def test_extension_allowed_counts_what_was_already_granted() -> None:
    ctx = extension("committee_resolved", "decision", 11, {"decision": 20})
    assert "(đã gia hạn 20)" in refused(guards.extension_allowed, ctx).message_vi
    accepted(
        guards.extension_allowed, extension("committee_resolved", "decision", 10, {"decision": 20})
    )


def test_extension_allowed_ceremony_only_by_consent_without_a_cap() -> None:
    accepted(guards.extension_allowed, extension("admission_decided", "ceremony", 90))


def test_extension_allowed_only_for_a_live_deadline_and_at_least_one_day() -> None:
    refusal_ = refused(guards.extension_allowed, extension("admission_decided", "decision", 5))
    assert refusal_.field == "deadline"
    zero = refused(guards.extension_allowed, extension("cell_resolved", "decision", 0))
    assert zero.field == "working_days"


def test_on_after_previous_step_no_act_predates_the_step_that_led_here() -> None:
    case = Case(id=1, person_id=1, cell_id=5, state="cell_resolved", nominated_on=date(2025, 1, 1))
    case.state_since = date(2026, 3, 16)
    refusal_ = refused(guards.on_after_previous_step, Context(case=case, on=date(2026, 3, 15)))
    assert refusal_.field == "on"
    assert refusal_.message_vi.startswith(
        "Ngày 15/03/2026 trước bước 'Chi bộ đã nghị quyết' (16/03/2026)"
    )
    accepted(guards.on_after_previous_step, Context(case=case, on=date(2026, 3, 16)))


# ── dates of membership ──────────────────────────────────────────────────
def test_probation_runs_12_months_from_the_ceremony() -> None:
    assert rules.probation_end(date(2025, 3, 10), 12) == date(2026, 3, 10)


def test_official_date_is_probation_end_even_when_the_decision_came_later() -> None:
    end = rules.probation_end(date(2025, 1, 6), 12)
    decided_later = date(2026, 3, 2)
    assert decided_later > end
    assert rules.official_date(end) == date(2026, 1, 6)


def test_party_seniority_counts_from_the_decision_date() -> None:
    decision, ceremony = date(2025, 1, 6), date(2025, 2, 10)
    assert rules.seniority_start(decision) == decision != ceremony


# ── working days (QĐ 294 §4) ──────────────────────────────────────────────
def test_ceremony_deadline_skips_tet() -> None:
    """30 working days from 20/01/2026 skip Tết (Mon 16 – Fri 20/02/2026): 10/03/2026."""
    received = date(2026, 1, 20)
    due = rules.add_working_days(received, PARAMS.ceremony_working_days)
    assert due == date(2026, 3, 10)  # without Tết it would be 03/03/2026
    assert not any(rules.is_working_day(date(2026, 2, d)) for d in range(16, 21))
    assert rules.working_days_between(received, due) == 30


def test_saturday_26_april_2025_was_a_working_day() -> None:
    assert rules.is_working_day(date(2025, 4, 26))


def test_friday_2_may_2025_was_a_day_off() -> None:
    assert not rules.is_working_day(date(2025, 5, 2))
    # Thu 24/04 + 2 working days: Fri 25/04, then the swapped Saturday 26/04
    assert rules.add_working_days(date(2025, 4, 24), 2) == date(2025, 4, 26)


def test_add_working_days_does_not_count_the_start() -> None:
    assert rules.add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)  # Fri → Mon
    assert rules.add_working_days(date(2026, 3, 6), 0) == date(2026, 3, 6)


def test_add_months_clamps_to_the_end_of_the_month() -> None:
    assert rules.add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert rules.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert rules.add_months(date(2025, 3, 31), -1) == date(2025, 2, 28)
    assert rules.add_months(date(2025, 12, 15), 1) == date(2026, 1, 15)


def test_full_months_between_counts_whole_months_only() -> None:
    assert rules.full_months_between(date(2025, 1, 31), date(2025, 2, 28)) == 1
    assert rules.full_months_between(date(2025, 1, 15), date(2025, 2, 14)) == 0
    assert rules.full_months_between(date(2025, 2, 14), date(2025, 1, 15)) == 0
    assert rules.full_months_between(date(2025, 3, 15), date(2025, 1, 15)) == -2


def test_refusals_data_errors_and_form_errors_are_one_bilingual_type() -> None:
    from workflow.documents.forms import FormNotApplicable
    from workflow.refusal import Refusal
    from workflow.schema import InvalidData
    from workflow.text import Explained, Text

    errors = [
        Refusal("two_thirds", "Charter", "Chưa đủ hai phần ba", "Short of two-thirds"),
        InvalidData("on", "Ngày không hợp lệ", "Not a valid date"),
        FormNotApplicable("Chưa đến bước này", "Not at this step yet"),
    ]
    for error in errors:
        assert isinstance(error, Explained)
        assert error.message("vi") == error.text.vi and error.message("en") == error.text.en
    assert errors[1].text == Text("Ngày không hợp lệ", "Not a valid date")
    assert str(errors[1]) == "on: Not a valid date"
