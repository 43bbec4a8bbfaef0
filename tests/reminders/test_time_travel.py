"""Walking cases through time with a fixed clock: each reminder appears exactly on its
day, at its stage, to its people — and never again."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from tests.reminders.conftest import Town
from tests.support.smtp import SmtpPeer
from workflow import rules
from workflow.reminders.inbox import case_reminders

Seen = dict[date, list[tuple[str, str, int, tuple[str, ...]]]]


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


def sweep_each_day(town: Town, case_id: int, dates: list[date]) -> Seen:
    """Sweep on every date; what each sweep newly reminded of this case, and to whom."""
    seen: Seen = defaultdict(list)
    for day in dates:
        for item in town.sweep(day).reminders:
            if item.due.case_id == case_id:
                people = tuple(sorted(u.username for u in item.recipients))
                seen[day].append((item.due.deadline, item.due.stage, item.due.warn, people))
    return dict(seen)


def test_the_ceremony_deadline_counts_30_working_days_skipping_tet_and_reminds_once_per_stage(
    town: Town,
) -> None:
    # The cell receives the admission decision on Monday 02/02/2026; Tết 2026 is
    # Monday 16 to Friday 20 February: 30 working days end on 23/03, not 16/03.
    case_id = town.case_in("admission_decided", date(2026, 2, 2))
    assert town.case(case_id).decision_received_on == date(2026, 2, 2)
    assert rules.add_working_days(date(2026, 2, 2), 30) == date(2026, 3, 23)

    seen = sweep_each_day(town, case_id, days(date(2026, 2, 2), date(2026, 4, 15)))

    secretary = ("secretary",)
    # Đông Lỗ may admit: its officer is both the competent authority and the level above
    escalated_to = ("officer", "secretary")
    assert seen == {
        date(2026, 3, 13): [("ceremony", "upcoming", 10, secretary)],
        date(2026, 3, 23): [("ceremony", "due", 0, secretary)],
        date(2026, 3, 24): [("ceremony", "overdue", 0, secretary)],
        date(2026, 3, 31): [("ceremony", "escalated", 0, escalated_to)],
    }
    [flag] = [f for f in town.inbox("officer") if f.view.case_id == case_id]
    assert flag.view.stage == "escalated" and flag.view.due == date(2026, 3, 23)


def test_a_bang_lung_escalation_goes_to_the_town_committee_and_the_province(town: Town) -> None:
    cell = town.bang_lung_cell
    case_id = town.case_in("admission_decided", date(2026, 2, 2), cell=cell)
    seen = sweep_each_day(town, case_id, [date(2026, 3, 30), date(2026, 3, 31)])
    assert seen == {
        date(2026, 3, 30): [("ceremony", "overdue", 0, ("secretary-4",))],
        date(2026, 3, 31): [
            ("ceremony", "escalated", 0, ("officer-bang-lung", "officer-tinh", "secretary-4"))
        ],
    }


def test_a_late_first_sweep_reminds_of_the_current_stage_only(town: Town) -> None:
    case_id = town.case_in("admission_decided", date(2026, 2, 2))
    # down from before the warning until after the escalation day: one reminder, escalated
    seen = sweep_each_day(town, case_id, [date(2026, 2, 2), date(2026, 4, 20), date(2026, 4, 21)])
    assert seen == {date(2026, 4, 20): [("ceremony", "escalated", 0, ("officer", "secretary"))]}


def test_probation_reminds_the_helper_and_the_secretary_on_their_days(
    town: Town, smtp: SmtpPeer
) -> None:
    town.mail_through(smtp)
    # Ceremony on Monday 02/03/2026: probation ends 02/03/2027, the theory class is due
    # 9 months after the ceremony, the cell's confirmation vote 30 working days after
    # the end of probation.
    case_id = town.case_in("probationary", date(2026, 3, 2))
    case = town.case(case_id)
    assert case.probation_end == date(2027, 3, 2)
    vote_due = rules.add_working_days(date(2027, 3, 2), 30)
    assert vote_due == date(2027, 4, 13)
    smtp.clear()

    checkpoints = sorted(
        {
            date(2026, 11, 21),
            date(2026, 11, 22),  # theory class: 10 days before 02/12/2026
            date(2026, 12, 2),
            date(2026, 12, 3),
            date(2026, 12, 9),
            date(2026, 12, 10),  # escalated: more than 7 days late
            date(2026, 12, 31),
            date(2027, 1, 1),  # probation papers: 60 days before 02/03/2027
            date(2027, 1, 30),
            date(2027, 1, 31),  # ... and 30 days before
            date(2027, 2, 1),
        }
    )
    seen = sweep_each_day(town, case_id, checkpoints)
    both = ("secretary", "sponsor")  # `sponsor` is the helper assigned at the ceremony
    assert seen == {
        date(2026, 11, 22): [("theory_class", "upcoming", 10, both)],
        date(2026, 12, 2): [("theory_class", "due", 0, both)],
        date(2026, 12, 3): [("theory_class", "overdue", 0, both)],
        date(2026, 12, 10): [("theory_class", "escalated", 0, ("officer", "secretary"))],
        date(2027, 1, 1): [("probation_papers", "upcoming", 60, both)],
        date(2027, 1, 31): [("probation_papers", "upcoming", 30, both)],
    }

    # The helper finds the 30-day reminder in the inbox once (the 60-day one was
    # superseded by it), and got one e-mail for it.
    papers = [e for e in town.inbox("sponsor") if e.view.deadline == "probation_papers"]
    assert [(e.view.stage, e.view.warn) for e in papers] == [("upcoming", 30)]
    mails = [m for m in smtp.messages if "Tự kiểm điểm" in m.subject]
    to_helper = [m for m in mails if m.rcpt_tos == ("sponsor@ketnap.local",)]
    assert len(to_helper) == 2  # the 60-day warning and the 30-day one
    assert "còn 30 ngày" in to_helper[1].body
    assert f"{town.config.web['base_url']}/cases/{case_id}" in to_helper[1].body

    # ... and the secretary sees the case flagged.
    with town.engine.session() as session:
        flags = case_reminders(session, case_id)
    assert ("probation_papers", "upcoming") in [(f.view.deadline, f.view.stage) for f in flags]

    # The helper writes the comment, the member the self-review: the deadline is met,
    # the open items close and nothing more comes of it.
    helper = town.actor("sponsor")
    town.advance(
        case_id, "record_self_review", {}, town.world.secretary[town.dong_lo_cell], date(2027, 2, 2)
    )
    town.advance(
        case_id,
        "record_helper_comment",
        {"helper_id": helper.member_id, "comment": "Gương mẫu, nhiệt tình."},
        helper,
        date(2027, 2, 2),
    )
    result = town.sweep(date(2027, 2, 3))
    assert result.closed >= 2
    assert [e for e in town.inbox("sponsor") if e.view.deadline == "probation_papers"] == []
    later = sweep_each_day(town, case_id, [date(2027, 3, 2), date(2027, 3, 3), date(2027, 3, 20)])
    assert all(d != "probation_papers" for events in later.values() for d, *_ in events)


def test_an_extension_moves_the_deadline_and_brings_fresh_reminders(town: Town) -> None:
    case_id = town.case_in("admission_decided", date(2026, 2, 2))
    town.sweep(date(2026, 3, 24))  # overdue
    [old] = [e for e in town.inbox("secretary") if e.view.case_id == case_id]
    assert old.view.stage == "overdue"

    consent = {"deadline": "ceremony", "working_days": 10, "consent_ref": "CV-12/ĐU"}
    town.advance(
        case_id,
        "grant_extension",
        consent,
        town.world.authority_officer[town.dong_lo_cell],
        date(2026, 3, 24),
    )
    moved = rules.add_working_days(date(2026, 2, 2), 40)
    assert moved == date(2026, 4, 6)

    result = town.sweep(date(2026, 3, 27))  # the new date is 10 days away
    assert result.closed == 1  # the overdue item of the old date
    [new] = [e for e in town.inbox("secretary") if e.view.case_id == case_id]
    assert (new.view.stage, new.view.warn, new.view.due) == ("upcoming", 10, moved)
    [closed] = [e for e in town.inbox("secretary", status="closed") if e.view.case_id == case_id]
    assert closed.closed_reason == "moved"


def test_a_transferred_case_tells_the_receiving_secretary_and_not_the_helper_twice(
    town: Town,
) -> None:
    case_id = town.case_in("probationary", date(2026, 3, 2))
    town.sweep(date(2027, 1, 31))  # the 30-day warning of the probation papers (and more)

    def stages(username: str) -> list[tuple[str, str, int]]:
        return sorted(
            (e.view.deadline, e.view.stage, e.view.warn)
            for e in town.inbox(username)
            if e.view.case_id == case_id
        )

    told_before = stages("secretary")
    helped_before = stages("sponsor")
    assert ("probation_papers", "upcoming", 30) in told_before
    assert ("probation_papers", "upcoming", 30) in helped_before

    other = town.world.cell_ids[1]
    secretary = town.world.secretary[town.dong_lo_cell]
    town.advance(case_id, "transfer", {"to_cell_id": other}, secretary, date(2027, 2, 1))
    town.sweep(date(2027, 2, 1))

    assert stages("secretary-2") == told_before  # the receiving cell now knows
    assert stages("secretary") == []  # the old cell no longer sees the case
    assert stages("sponsor") == helped_before  # the helper is not told twice
    assert town.sweep(date(2027, 2, 1)).reminders == []


def test_three_failed_confirmation_votes_escalate_to_the_competent_authority(town: Town) -> None:
    cell = town.bang_lung_cell
    case_id = town.case_in("probationary", date(2026, 3, 2), cell=cell)
    secretary = town.world.secretary[cell]
    helper_id = town.world.officials[cell][0]
    town.advance(
        case_id,
        "complete_theory_class",
        {"class_name": "Lớp ĐVM", "certificate_no": "LL-9"},
        secretary,
        date(2026, 9, 1),
    )
    town.advance(case_id, "record_self_review", {}, secretary, date(2027, 2, 1))
    town.advance(
        case_id,
        "record_helper_comment",
        {"helper_id": helper_id, "comment": "Tốt."},
        secretary,
        date(2027, 2, 1),
    )
    town.sweep(date(2027, 3, 3))  # nothing is escalated by date yet
    for n in range(3):
        town.advance(
            case_id,
            "cell_confirm_vote",
            {"voters": 9, "votes_for": 4, "resolution_ref": f"NQ-{n}"},
            secretary,
            date(2027, 3, 3) + timedelta(days=n),
        )
    assert town.case(case_id).escalated
    result = town.sweep(date(2027, 3, 6))
    [item] = [i for i in result.reminders if i.due.case_id == case_id]
    assert (item.due.deadline, item.due.stage, item.due.cause) == (
        "confirmation_vote",
        "escalated",
        "failed_votes",
    )
    # the province decides for Bằng Lũng's cells; the town committee and the cell are told
    assert {u.username for u in item.recipients} == {
        "officer-tinh",
        "officer-bang-lung",
        "secretary-4",
    }
    [entry] = [e for e in town.inbox("officer-tinh") if e.view.case_id == case_id]
    assert "3 lần biểu quyết không đạt" in entry.view.what()
    assert all(i.due.case_id != case_id for i in town.sweep(date(2027, 3, 7)).reminders)
