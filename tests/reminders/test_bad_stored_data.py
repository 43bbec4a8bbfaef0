"""Data stored before Ketnap refused it (written straight into the database here, as an
old database holds it) never stops the reminder e-mail: a name with a line break is
folded into a one-line subject, and a message that cannot be written — an address in
Vietnamese letters — is marked failed while the sweep delivers every other mail.
Through a real SMTP peer, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from tests.reminders.conftest import Town
from tests.support.smtp import SmtpPeer
from workflow.models import User

WARNED = date(2027, 1, 31)  # 30 days before the end of a probation begun on 02/03/2026
BROKEN_NAME = "Nguyễn Văn Xuống\nDòng"


def _store(town: Town, sql: str, **values: object) -> None:
    with town.engine.session() as session:
        session.execute(text(sql), values)
        session.commit()


def _two_cases_then_sweep(town: Town, smtp: SmtpPeer) -> tuple[int, int]:
    town.mail_through(smtp)
    broken = town.case_in("probationary", date(2026, 3, 2))
    other = town.case_in("probationary", date(2026, 3, 2))
    person_id = town.case(broken).person_id
    _store(
        town, "UPDATE person SET full_name = :name WHERE id = :id", name=BROKEN_NAME, id=person_id
    )
    town.sweep(WARNED - timedelta(days=1))  # the theory class, long overdue: escalated
    smtp.clear()
    return broken, other


def _check_line_break_name(town: Town, smtp: SmtpPeer) -> None:
    _two_cases_then_sweep(town, smtp)

    result = town.sweep(WARNED)

    # two cases × (secretary, sponsor): every mail leaves, the broken name's too
    assert result.delivery.failed == 0 and result.delivery.retrying == 0
    assert result.delivery.sent == 4
    messages = smtp.wait_for(4)
    subjects = [m.subject for m in messages]
    assert sum("Nguyễn Văn Xuống Dòng" in s for s in subjects) == 2
    assert all("\n" not in s and "\r" not in s for s in subjects)
    assert {d.status for d in town.deliveries() if d.status != "cancelled"} == {"sent"}


def _check_unwritable_message(town: Town, smtp: SmtpPeer) -> None:
    _two_cases_then_sweep(town, smtp)
    with town.engine.session() as session:  # as an old database may hold it
        sponsor = session.exec(select(User).where(User.username == "sponsor")).one()
        sponsor.email = "nguyễn@ketnap.local"
        session.add(sponsor)
        session.commit()

    result = town.sweep(WARNED)

    assert result.delivery.failed == 2  # the sponsor's two mails: its address
    assert result.delivery.sent == 2 and result.delivery.retrying == 0
    messages = smtp.wait_for(2)
    assert sorted(m.rcpt_tos for m in messages) == [("secretary@ketnap.local",)] * 2
    sponsor = town.user("sponsor")
    failed = [d for d in town.deliveries() if d.status == "failed"]
    assert {d.user_id for d in failed} == {sponsor.id}
    assert all(d.last_error and "compose" in d.last_error for d in failed)
    assert {d.status for d in town.deliveries() if d.user_id != sponsor.id} <= {"sent", "cancelled"}
    # nothing is left to retry: the next sweep sends nothing more and does not fail
    assert town.sweep().delivery.sent == 0


def test_a_line_break_in_a_name_is_folded_and_every_mail_leaves(town: Town, smtp: SmtpPeer) -> None:
    _check_line_break_name(town, smtp)


def test_a_message_that_cannot_be_written_fails_alone(town: Town, smtp: SmtpPeer) -> None:
    _check_unwritable_message(town, smtp)


@pytest.mark.postgres
def test_a_line_break_in_a_name_on_postgresql(pg_town: Town, smtp: SmtpPeer) -> None:
    _check_line_break_name(pg_town, smtp)


@pytest.mark.postgres
def test_a_message_that_cannot_be_written_on_postgresql(pg_town: Town, smtp: SmtpPeer) -> None:
    _check_unwritable_message(pg_town, smtp)
