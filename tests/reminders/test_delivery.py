"""E-mail through a real SMTP peer on 127.0.0.1: what arrives, an outage, the digest."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import select

from tests.reminders.conftest import BASE_URL, Town
from tests.support.smtp import SmtpPeer
from workflow.models import User
from workflow.reminders.delivery import backoff
from workflow.reminders.inbox import mark_done
from workflow.reminders.outbox import next_digest

WARNED = date(2027, 1, 31)  # 30 days before the end of a probation begun on 02/03/2026


def test_the_helper_and_the_secretary_receive_a_vietnamese_mail_with_a_link(
    town: Town, smtp: SmtpPeer
) -> None:
    town.mail_through(smtp)
    case_id = town.case_in("probationary", date(2026, 3, 2))
    town.sweep(WARNED - timedelta(days=1))  # the theory class, long overdue: escalated
    smtp.clear()

    result = town.sweep(WARNED)

    assert result.delivery.sent == 2 and result.delivery.retrying == 0
    messages = smtp.wait_for(2)
    assert sorted(m.rcpt_tos for m in messages) == [
        ("secretary@ketnap.local",),
        ("sponsor@ketnap.local",),
    ]
    mail = next(m for m in messages if m.rcpt_tos == ("sponsor@ketnap.local",))
    full_name = town.inbox("sponsor")[0].view.person
    assert mail.mail_from == "ketnap@test"
    assert mail.subject == (
        "[Ketnap] Sắp đến hạn: Tự kiểm điểm và nhận xét của người giúp đỡ — "
        f"{full_name} (hạn 02/03/2027)"
    )
    assert mail.message["To"].addresses[0].username == "sponsor"
    body = mail.body
    assert body.startswith("Kính gửi đồng chí Đảng viên giới thiệu,")
    assert "Xin nhắc đồng chí: hồ sơ dưới đây sắp đến hạn." in body
    assert f"Họ và tên: {full_name}" in body
    assert "Chi bộ: Chi bộ thôn Hương Câu" in body
    assert "Việc cần làm: Tự kiểm điểm và nhận xét của người giúp đỡ" in body
    assert "Thời hạn: 02/03/2027 (còn 30 ngày)" in body
    assert "Căn cứ: Điều lệ Đảng, Điều 5" in body
    # the helper's mail opens the helper's own step, never the member's self-review
    assert f"Mở hồ sơ: {BASE_URL}/cases/{case_id}?step=record_helper_comment" in body
    assert f"{BASE_URL}/tasks" in body
    assert mail.message.get_content_charset() == "utf-8"


def test_mail_waits_out_an_smtp_outage_and_arrives_exactly_once(town: Town, smtp: SmtpPeer) -> None:
    town.mail_through(smtp)
    case_id = town.case_in("probationary", date(2026, 3, 2))
    town.sweep(WARNED - timedelta(days=1))
    smtp.clear()

    smtp.stop()  # the mail server is down
    down = town.sweep(WARNED)
    assert down.count == 1  # the reminder is recorded, in both inboxes
    assert down.delivery.sent == 0 and down.delivery.retrying == 2
    assert len([e for e in town.inbox("sponsor") if e.view.case_id == case_id]) >= 1
    pending = [d for d in town.deliveries() if d.status == "pending"]
    assert len(pending) == 2
    assert all(d.attempts == 1 and d.last_error for d in pending)
    first_retry = pending[0].next_attempt_at
    assert first_retry == town.clock.now() + backoff(1)

    again = town.sweep()  # still down, and not yet time to retry: nothing attempted
    assert again.count == 0 and again.delivery.retrying == 0
    assert all(d.attempts == 1 for d in town.deliveries() if d.status == "pending")

    smtp.start()  # back, on the same port
    assert town.sweep().delivery.sent == 0  # the back-off has not run out
    assert smtp.messages == []

    town.clock.moment = first_retry
    after = town.sweep()
    assert after.delivery.sent == 2
    assert sorted(m.rcpt_tos for m in smtp.wait_for(2)) == [
        ("secretary@ketnap.local",),
        ("sponsor@ketnap.local",),
    ]
    town.clock.moment += timedelta(hours=12)
    assert town.sweep().delivery.sent == 0
    assert len(smtp.messages) == 2
    assert all(d.status == "sent" for d in town.deliveries() if d.reminder_id == after_id(town))


def after_id(town: Town) -> int:
    return max(r.id or 0 for r in town.reminders())


def test_back_off_doubles_and_is_capped() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [
        timedelta(minutes=5),
        timedelta(minutes=10),
        timedelta(minutes=20),
    ]
    assert backoff(30) == timedelta(hours=6)


def test_the_digest_is_due_at_seven_in_the_morning_vietnam_time() -> None:
    # 09:00 in Hà Nội (02:00 UTC): the next digest is tomorrow 07:00 (00:00 UTC)
    assert next_digest(datetime(2027, 1, 31, 2, 0), 7) == datetime(2027, 2, 1, 0, 0)
    # 05:00 in Hà Nội (22:00 UTC the day before): today 07:00
    assert next_digest(datetime(2027, 1, 30, 22, 0), 7) == datetime(2027, 1, 31, 0, 0)


def test_a_user_with_the_daily_digest_gets_one_mail_listing_the_day_s_reminders(
    town: Town, smtp: SmtpPeer
) -> None:
    town.mail_through(smtp)
    with town.engine.session() as session:
        secretary = session.exec(select(User).where(User.username == "secretary")).one()
        secretary.daily_digest = True
        session.add(secretary)
        session.commit()
    first = town.case_in("probationary", date(2026, 3, 2))
    second = town.case_in("probationary", date(2026, 3, 2))
    town.sweep(WARNED - timedelta(days=2))  # theory classes overdue: escalated
    town.clock.moment = next_digest(town.clock.now(), 7)
    flushed = town.sweep()
    assert flushed.count == 0 and flushed.delivery.messages == 1  # the next morning's digest
    smtp.clear()

    town.clock.advance_to(WARNED)
    result = town.sweep()
    assert result.count == 2  # the papers of both cases
    # the helper (no digest) has two mails at once; the secretary none yet
    assert [m.rcpt_tos for m in smtp.wait_for(2)] == [("sponsor@ketnap.local",)] * 2

    town.clock.moment = next_digest(town.clock.now(), 7)
    digest = town.sweep()
    assert digest.delivery.messages == 1 and digest.delivery.sent == 2
    mail = smtp.wait_for(3)[-1]
    assert mail.rcpt_tos == ("secretary@ketnap.local",)
    assert mail.subject == "[Ketnap] Nhắc việc ngày 01/02/2027: 2 việc cần đồng chí quan tâm"
    assert mail.body.count("[Sắp đến hạn] Tự kiểm điểm và nhận xét của người giúp đỡ") == 2
    assert f"/cases/{first}" in mail.body and f"/cases/{second}" in mail.body
    town.clock.moment += timedelta(days=1)
    assert town.sweep().delivery.sent == 0


def test_marking_an_item_done_cancels_its_unsent_digest_mail(town: Town, smtp: SmtpPeer) -> None:
    town.mail_through(smtp)
    with town.engine.session() as session:
        user = session.exec(select(User).where(User.username == "secretary")).one()
        user.daily_digest = True
        session.add(user)
        session.commit()
    town.case_in("probationary", date(2026, 3, 2))
    town.sweep(WARNED - timedelta(days=1))
    town.sweep(WARNED)
    entries = town.inbox("secretary")
    assert entries
    secretary = town.user("secretary")
    for entry in entries:
        assert mark_done(town.engine, entry.item_id, acting_user=secretary)
    assert town.inbox("secretary") == []
    smtp.clear()
    town.clock.moment = next_digest(town.clock.now(), 7)
    assert town.sweep().delivery.messages == 0
    assert smtp.messages == []


def test_nobody_can_mark_someone_else_s_item_done(town: Town) -> None:
    town.case_in("probationary", date(2026, 3, 2))
    town.sweep(WARNED)
    [entry, *_] = town.inbox("sponsor")
    intruder = town.user("secretary-2")
    assert not mark_done(town.engine, entry.item_id, acting_user=intruder)
    assert not mark_done(town.engine, 10**9, acting_user=intruder)
    assert entry.item_id in [e.item_id for e in town.inbox("sponsor")]
