"""Every reminder mail carries a Message-ID derived from what it delivers: a mail sent
again because the sender died between the SMTP server's "250 OK" and the mark in the
database leaves with the same Message-ID (the receiver drops the duplicate); two
deliveries never share one. Through a real SMTP peer on 127.0.0.1."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import select

from tests.reminders.conftest import Town
from tests.support.smtp import ReceivedMessage, SmtpPeer
from workflow.models import User
from workflow.reminders import delivery
from workflow.reminders.delivery import LEASE
from workflow.reminders.messages import ReminderView, message_id
from workflow.reminders.outbox import next_digest

WARNED = date(2027, 1, 31)  # 30 days before the end of a probation begun on 02/03/2026


class Crash(BaseException):
    """The sender process dies: nothing after this point runs."""


def message_ids(messages: list[ReceivedMessage]) -> list[str]:
    return [str(m.message["Message-ID"]) for m in messages]


def crash_after_the_server_accepts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make the sender die right after the server's 250, before the row is marked sent."""
    finished: list[str] = []
    real_finish = delivery._finish

    def finish(engine: Any, items: Any, status: str, now: Any, error: str | None = None) -> None:
        if status == "sent":
            finished.append(status)
            raise Crash
        real_finish(engine, items, status, now, error)

    monkeypatch.setattr(delivery, "_finish", finish)
    return finished


def test_a_mail_resent_after_a_crash_before_the_mark_keeps_its_message_id(
    town: Town, smtp: SmtpPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    resent_after_a_crash(town, smtp, monkeypatch)


@pytest.mark.postgres
def test_on_postgresql_a_mail_resent_after_a_crash_keeps_its_message_id(
    pg_town: Town, smtp: SmtpPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    resent_after_a_crash(pg_town, smtp, monkeypatch)


def resent_after_a_crash(town: Town, smtp: SmtpPeer, monkeypatch: pytest.MonkeyPatch) -> None:
    town.mail_through(smtp)
    town.case_in("probationary", date(2026, 3, 2))
    town.sweep(WARNED - timedelta(days=1))  # the theory class, long overdue: escalated
    smtp.clear()

    crashed = crash_after_the_server_accepts(monkeypatch)
    with pytest.raises(Crash):
        town.sweep(WARNED)
    assert crashed == ["sent"]
    [first] = smtp.wait_for(1)
    deliveries = {d.id: d for d in town.deliveries()}
    claimed = deliveries[int(str(first.message["X-Ketnap-Deliveries"]))]
    assert claimed.status == "pending" and claimed.attempts == 1  # the mark never came
    monkeypatch.undo()  # the sender is restarted

    assert town.sweep().delivery.sent == 0  # the claim's lease has not run out
    town.clock.moment += LEASE  # it has: the crashed delivery is tried again
    assert town.sweep().delivery.sent == 2

    messages = smtp.wait_for(3)
    again = [m for m in messages[1:] if m.message["X-Ketnap-Deliveries"] == str(claimed.id)]
    assert len(again) == 1 and len(messages) == 3
    assert again[0].message["Message-ID"] == first.message["Message-ID"]
    assert str(first.message["Message-ID"]).startswith(
        f"<reminder-{claimed.reminder_id}-{claimed.user_id}-"
    )
    # the same reminder to the other recipient is another message
    ids = message_ids(messages)
    assert len(set(ids)) == 2 and Counter(ids)[str(first.message["Message-ID"])] == 2
    assert all(d.status == "sent" for d in town.deliveries())


def test_every_delivery_has_its_own_message_id(town: Town, smtp: SmtpPeer) -> None:
    town.mail_through(smtp)
    for _ in range(3):
        town.case_in("probationary", date(2026, 3, 2))
    town.sweep(WARNED - timedelta(days=1))
    town.sweep(WARNED)
    deliveries = town.deliveries()
    messages = smtp.wait_for(len(deliveries))
    assert len(messages) == len(deliveries) > 6
    ids = message_ids(messages)
    assert all(i.startswith("<reminder-") and i.endswith("@ketnap.test>") for i in ids)
    assert len(set(ids)) == len(ids)  # distinct between deliveries
    by_delivery = {d.id: d for d in deliveries}
    for message in messages:
        sent = by_delivery[int(str(message.message["X-Ketnap-Deliveries"]))]
        assert str(message.message["Message-ID"]).startswith(
            f"<reminder-{sent.reminder_id}-{sent.user_id}-"
        )


def test_a_digest_resent_after_a_crash_keeps_its_message_id(
    town: Town, smtp: SmtpPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    town.mail_through(smtp)
    with town.engine.session() as session:
        secretary = session.exec(select(User).where(User.username == "secretary")).one()
        secretary.daily_digest = True
        session.add(secretary)
        session.commit()
    town.case_in("probationary", date(2026, 3, 2))
    town.case_in("probationary", date(2026, 3, 2))
    town.sweep(WARNED - timedelta(days=2))
    town.clock.moment = next_digest(town.clock.now(), 7)
    town.sweep()  # the first morning's digest
    town.clock.advance_to(WARNED)
    town.sweep()  # two reminders for the secretary's next digest
    town.clock.moment = next_digest(town.clock.now(), 7)
    smtp.clear()

    crash_after_the_server_accepts(monkeypatch)
    with pytest.raises(Crash):
        town.sweep()
    [first] = smtp.wait_for(1)
    assert str(first.message["X-Ketnap-Deliveries"]).count(",") == 1  # a digest of two
    monkeypatch.undo()
    town.clock.moment += LEASE
    assert town.sweep().delivery.sent == 2
    [_, again] = smtp.wait_for(2)
    assert again.message["X-Ketnap-Deliveries"] == first.message["X-Ketnap-Deliveries"]
    assert again.message["Message-ID"] == first.message["Message-ID"]
    assert str(first.message["Message-ID"]).startswith(f"<digest-{secretary.id}-")


def view(reminder_id: int) -> ReminderView:
    return ReminderView(reminder_id, 1, "ceremony", WARNED, "due", 0, "deadline", "A", "B")


@pytest.mark.parametrize(
    ("base_url", "host"),
    [
        ("https://ketnap.huyen.vn/app/", "ketnap.huyen.vn"),
        ("http://KETNAP.Example:8000", "ketnap.example"),
        ("http://127.0.0.1:8000", "127.0.0.1"),
        ("http://[::1]:8000", "ketnap.localhost"),  # not a dot-atom: a neutral host
        ("http://bad host/", "ketnap.localhost"),
        ("", "ketnap.localhost"),
    ],
)
def test_the_message_id_s_host_comes_from_the_base_url(base_url: str, host: str) -> None:
    user = User(id=9, username="u", role="secretary")
    assert message_id(user, [view(4)], base_url) == f"<reminder-4-9-1-20270131@{host}>"


def test_a_reminder_of_a_re_created_database_does_not_reuse_an_old_mail_s_id() -> None:
    user = User(id=9, username="u", role="secretary")
    old = ReminderView(1, 1, "ceremony", WARNED, "due", 0, "deadline", "A", "B")
    new = ReminderView(1, 7, "ceremony", date(2027, 5, 2), "due", 0, "deadline", "A", "B")
    base = "http://ketnap.test"
    assert message_id(user, [old], base) != message_id(user, [new], base)


def test_a_digest_s_message_id_depends_on_its_reminders_not_their_order() -> None:
    user = User(id=9, username="u", role="secretary")
    base = "http://ketnap.test"
    one = message_id(user, [view(1), view(2)], base)
    assert one == message_id(user, [view(2), view(1)], base)
    assert one != message_id(user, [view(1), view(3)], base)
    assert one != message_id(User(id=8, username="v", role="secretary"), [view(1), view(2)], base)
    assert one.startswith("<digest-9-") and one.endswith("@ketnap.test>")
