"""Delivering reminders: the in-app inbox and e-mail over SMTP (the outbox).

workflow.reminders decides and records each reminder once; this module gives it to
people. Inbox items are rows written in the reminder's own transaction. E-mails are
Delivery rows (the outbox) sent after the commit:

- a sender CLAIMS due rows with one UPDATE ... RETURNING that moves `next_attempt_at`
  forward by a lease — concurrent senders never take the same row (PostgreSQL re-checks
  the WHERE on the locked row; SQLite serialises writers);
- success marks the row `sent` at once, a message at a time;
- SMTP down or a 4xx answer leaves it `pending` with exponential back-off (5 min, 10,
  20 … capped at 6 h): nothing is lost, nothing sent twice; a 5xx refusal of the
  message marks it `failed` (the inbox still has it). Only a crash between the SMTP
  peer's "250 OK" and our commit could resend one message after the lease.
- users with `daily_digest` get one mail a day (at `[scheduler] digest_hour`, Vietnam
  time) listing their reminders, instead of one mail per reminder.

The texts are Vietnamese (the users' language); the inbox pages show English labels
to users who chose English.
"""

from __future__ import annotations

import smtplib
import ssl
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, func, or_, update
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from workflow import access, process
from workflow.access import Actor
from workflow.config import Config, SmtpSettings
from workflow.engine import Engine
from workflow.models import (
    Case,
    CaseDeadline,
    Delivery,
    InboxItem,
    Organisation,
    Person,
    Reminder,
    User,
)

VIETNAM = timedelta(hours=7)
FIRST_RETRY = timedelta(minutes=5)
LONGEST_RETRY = timedelta(hours=6)
LEASE = timedelta(minutes=10)  # a claimed delivery is retried after this if its sender died
CLAIM_BATCH = 200
SMTP_TIMEOUT = 20  # seconds

STAGE_LABELS = {
    "upcoming": ("Sắp đến hạn", "Coming up"),
    "due": ("Đến hạn", "Due"),
    "overdue": ("Quá hạn", "Overdue"),
    "escalated": ("Báo cáo cấp trên", "Escalated"),
}
CLOSED_REASONS = {
    "met": ("Đã thực hiện hoặc không còn áp dụng", "Done or no longer applies"),
    "moved": ("Thời hạn đã thay đổi", "The deadline moved"),
    "superseded": ("Đã có nhắc việc mới hơn", "A newer reminder replaced it"),
}


@dataclass(frozen=True)
class Outbox:
    """How reminders leave: SMTP settings, the link base, the digest hour."""

    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    base_url: str = "http://127.0.0.1:8000"
    digest_hour: int = 7  # Vietnam local time

    @classmethod
    def from_config(cls, config: Config) -> Outbox:
        return cls(
            config.smtp,
            str(config.web.get("base_url", cls.base_url)),
            int(config.scheduler.get("digest_hour", cls.digest_hour)),
        )

    @property
    def sends_email(self) -> bool:
        return bool(self.smtp.enabled)

    def case_link(self, case_id: int) -> str:
        return f"{self.base_url.rstrip('/')}/cases/{case_id}"

    def inbox_link(self) -> str:
        return f"{self.base_url.rstrip('/')}/inbox"


def next_digest(now: datetime, hour: int) -> datetime:
    """The next digest moment after `now` (naive UTC), at `hour` o'clock in Vietnam."""
    local = now + VIETNAM
    moment = datetime.combine(local.date(), datetime.min.time()) + timedelta(hours=hour)
    if moment <= local:
        moment += timedelta(days=1)
    return moment - VIETNAM


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt after `attempts` failed ones: 5 min, doubling, ≤ 6 h."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def table_of(model: type[Any]) -> Table:
    """The Core table of a SQLModel class (for INSERT/UPDATE ... RETURNING)."""
    return cast(Table, model.__table__)


# ── fan-out, in the reminder's transaction ────────────────────────────────
def fan_out(
    session: Session,
    won: Sequence[tuple[int, tuple[int, str, date, str, int, int], Sequence[User]]],
    outbox: Outbox,
    now: datetime,
) -> None:
    """Inbox items and e-mail deliveries for newly recorded reminders.

    `won`: (reminder id, key, recipients). A recipient already told of this very stage
    (the case was transferred: new cell, same stage) is skipped; the recipient's older
    open items and unsent mails about the same deadline are superseded.
    """
    if not won:
        return
    case_ids = sorted({key[0] for _, key, _ in won})
    told: set[tuple[Any, ...]] = set()
    open_items: dict[tuple[int, str, int], list[int]] = defaultdict(list)
    older = (
        sql_select(
            col(InboxItem.id),
            col(InboxItem.user_id),
            col(InboxItem.status),
            col(Reminder.case_id),
            col(Reminder.deadline),
            col(Reminder.due),
            col(Reminder.stage),
            col(Reminder.warn),
        )
        .join(Reminder, col(Reminder.id) == col(InboxItem.reminder_id))
        .where(col(InboxItem.case_id).in_(case_ids))
    )
    for item_id, user_id, status, case_id, deadline, due, stage, warn in session.execute(older):
        told.add((case_id, deadline, due, stage, warn, user_id))
        if status == "open":
            open_items[(case_id, deadline, user_id)].append(item_id)
    pending: dict[tuple[int, str, int], list[int]] = defaultdict(list)
    unsent = (
        select(Delivery.id, Delivery.user_id, Reminder.case_id, Reminder.deadline)
        .join(Reminder, col(Reminder.id) == col(Delivery.reminder_id))
        .where(col(Reminder.case_id).in_(case_ids), col(Delivery.status) == "pending")
    )
    for delivery_id, user_id, case_id, deadline in session.exec(unsent):
        pending[(case_id, deadline, user_id)].append(int(delivery_id or 0))

    items: list[dict[str, Any]] = []
    mails: list[dict[str, Any]] = []
    superseded: list[int] = []
    cancelled: list[int] = []
    for reminder_id, (case_id, deadline, due, stage, warn, _cell), users in won:
        for user in users:
            assert user.id is not None
            if (case_id, deadline, due, stage, warn, user.id) in told:
                continue
            superseded += open_items.pop((case_id, deadline, user.id), [])
            cancelled += pending.pop((case_id, deadline, user.id), [])
            items.append(
                {
                    "reminder_id": reminder_id,
                    "user_id": user.id,
                    "case_id": case_id,
                    "status": "open",
                    "created_at": now,
                }
            )
            if outbox.sends_email and user.email:
                digest = bool(user.daily_digest)
                mails.append(
                    {
                        "reminder_id": reminder_id,
                        "user_id": user.id,
                        "channel": "email",
                        "status": "pending",
                        "digest": digest,
                        "attempts": 0,
                        "next_attempt_at": next_digest(now, outbox.digest_hour) if digest else now,
                    }
                )
    if superseded:
        _close_items(session, superseded, "superseded")
    if cancelled:
        _set_delivery_status(session, cancelled, "cancelled")
    if items:
        session.execute(table_of(InboxItem).insert(), items)
    if mails:
        session.execute(table_of(Delivery).insert(), mails)


def _close_items(session: Session, ids: Sequence[int], reason: str) -> int:
    table = table_of(InboxItem)
    total = 0
    for chunk in _chunks(ids, 500):
        result = session.execute(
            update(table)
            .where(table.c.id.in_(chunk), table.c.status == "open")
            .values(status="closed", closed_reason=reason)
        )
        total += int(result.rowcount)  # type: ignore[attr-defined]
    return total


def _set_delivery_status(session: Session, ids: Sequence[int], status: str) -> None:
    table = table_of(Delivery)
    for chunk in _chunks(ids, 500):
        session.execute(
            update(table)
            .where(table.c.id.in_(chunk), table.c.status == "pending")
            .values(status=status)
        )


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ── closing what is met or moved ──────────────────────────────────────────
def _gone() -> ColumnElement[bool]:
    """The reminder's deadline is no longer live with that due date."""
    return or_(col(CaseDeadline.id).is_(None), col(CaseDeadline.due) != col(Reminder.due))


def _live_join() -> ColumnElement[bool]:
    return and_(
        col(CaseDeadline.case_id) == col(Reminder.case_id),
        col(CaseDeadline.deadline) == col(Reminder.deadline),
    )


def close_stale(engine: Engine, now: datetime) -> int:
    """Close open inbox items (and cancel unsent mails) whose deadline was met — its row
    left CaseDeadline — or moved to another date. Returns the items closed."""
    with engine.session() as session:
        stale = session.exec(
            select(InboxItem.id, CaseDeadline.id)
            .join(Reminder, col(Reminder.id) == col(InboxItem.reminder_id))
            .outerjoin(CaseDeadline, _live_join())
            .where(col(InboxItem.status) == "open", _gone())
        ).all()
        unsent = session.exec(
            select(Delivery.id)
            .join(Reminder, col(Reminder.id) == col(Delivery.reminder_id))
            .outerjoin(CaseDeadline, _live_join())
            .where(col(Delivery.status) == "pending", _gone())
        ).all()
        if not stale and not unsent:
            return 0
        met = [int(i or 0) for i, live in stale if live is None]
        moved = [int(i or 0) for i, live in stale if live is not None]
        closed = _close_items(session, met, "met") + _close_items(session, moved, "moved")
        _set_delivery_status(session, [int(i or 0) for i in unsent], "cancelled")
        session.commit()
        return closed


# ── what a reminder says ──────────────────────────────────────────────────
@dataclass(frozen=True)
class ReminderView:
    """A reminder with what a person needs to act on it."""

    reminder_id: int
    case_id: int
    deadline: str
    due: date
    stage: str
    warn: int
    cause: str
    person: str
    cell: str
    failed_votes: int = 0

    @property
    def spec(self) -> process.Deadline:
        return process.deadline(self.deadline)

    def stage_label(self, lang: str = "vi") -> str:
        vi, en = STAGE_LABELS.get(self.stage, (self.stage, self.stage))
        return en if lang == "en" else vi

    def what(self, lang: str = "vi") -> str:
        """What to do, and what is blocked if it is not done in time."""
        spec = self.spec
        text = spec.label_en if lang == "en" else spec.label_vi
        if self.cause == "failed_votes":
            return (
                f"{text}: the cell voted {self.failed_votes} times without the two-thirds "
                "majority; the competent committee decides (QĐ 294 §4.2c)"
                if lang == "en"
                else f"{text}: chi bộ đã {self.failed_votes} lần biểu quyết không đạt hai "
                "phần ba; cấp ủy có thẩm quyền xem xét, quyết định (QĐ 294 §4.2c)"
            )
        blocked = process.event(spec.blocks) if spec.blocks else None
        if blocked is not None:
            text += (
                f" — afterwards impossible: {blocked.label_en}"
                if lang == "en"
                else f" — quá hạn thì không thể: {blocked.label_vi}"
            )
        return text

    def when(self, today: date, lang: str = "vi") -> str:
        days = (self.due - today).days
        if lang == "en":
            if days > 0:
                return f"{self.due:%d/%m/%Y} ({days} days left)"
            if days == 0:
                return f"{self.due:%d/%m/%Y} (today)"
            return f"{self.due:%d/%m/%Y} ({-days} days overdue)"
        if days > 0:
            return f"{self.due:%d/%m/%Y} (còn {days} ngày)"
        if days == 0:
            return f"{self.due:%d/%m/%Y} (hôm nay)"
        return f"{self.due:%d/%m/%Y} (đã quá hạn {-days} ngày)"

    def subject(self) -> str:
        return (
            f"[Ketnap] {self.stage_label()}: {self.spec.label_vi} — {self.person} "
            f"(hạn {self.due:%d/%m/%Y})"
        )

    def intro(self) -> str:
        if self.cause == "failed_votes":
            return (
                "Hồ sơ dưới đây được báo cáo lên cấp ủy có thẩm quyền vì chi bộ đã "
                f"{self.failed_votes} lần biểu quyết không đạt đề nghị công nhận đảng viên "
                "chính thức."
            )
        return {
            "upcoming": "Xin nhắc đồng chí: hồ sơ dưới đây sắp đến hạn.",
            "due": "Xin nhắc đồng chí: hồ sơ dưới đây đến hạn.",
            "overdue": "Hồ sơ dưới đây đã quá hạn; đề nghị đồng chí khẩn trương thực hiện.",
            "escalated": (
                "Hồ sơ dưới đây đã quá hạn và được báo cáo lên cấp ủy cấp trên để đôn đốc, xử lý."
            ),
        }.get(self.stage, "")

    def details(self, today: date, outbox: Outbox) -> list[str]:
        return [
            f"  • Họ và tên: {self.person}",
            f"  • Chi bộ: {self.cell}",
            f"  • Việc cần làm: {self.what()}",
            f"  • Thời hạn: {self.when(today)}",
            f"  • Căn cứ: {self.spec.source}",
            f"  • Xem hồ sơ: {outbox.case_link(self.case_id)}",
        ]


def views(session: Session, reminder_ids: Iterable[int]) -> dict[int, ReminderView]:
    ids = sorted(set(reminder_ids))
    found: dict[int, ReminderView] = {}
    for chunk in _chunks(ids, 500):
        query = (
            select(Reminder, Person.full_name, Organisation.name, Case.failed_confirm_votes)
            .join(Case, col(Case.id) == col(Reminder.case_id))
            .join(Person, col(Person.id) == col(Case.person_id))
            .join(Organisation, col(Organisation.id) == col(Reminder.cell_id))
            .where(col(Reminder.id).in_(chunk))
        )
        for reminder, person, cell, failed in session.exec(query):
            assert reminder.id is not None
            found[reminder.id] = ReminderView(
                reminder.id,
                reminder.case_id,
                reminder.deadline,
                reminder.due,
                reminder.stage,
                reminder.warn,
                reminder.cause,
                person,
                cell,
                failed,
            )
    return found


def _salutation(user: User) -> str:
    return f"Kính gửi đồng chí {user.full_name or user.username},"


def _footer(outbox: Outbox) -> list[str]:
    return [
        "",
        "Trân trọng,",
        "Hệ thống Ketnap",
        "",
        "—",
        "Thư gửi tự động, xin đừng trả lời thư này. Xem và đánh dấu đã xong tại mục "
        f"Nhắc việc: {outbox.inbox_link()}",
    ]


def compose(
    user: User, reminders: Sequence[ReminderView], today: date, outbox: Outbox
) -> EmailMessage:
    """One mail to `user`: a single reminder, or their daily digest of several."""
    message = EmailMessage()
    message["From"] = formataddr(("Ketnap", outbox.smtp.sender))
    message["To"] = formataddr((user.full_name or user.username, user.email or ""))
    message["Message-ID"] = make_msgid(domain="ketnap.localhost")  # no DNS lookup
    if len(reminders) == 1:
        [view] = reminders
        message["Subject"] = view.subject()
        lines = [_salutation(user), "", view.intro(), "", *view.details(today, outbox)]
    else:
        message["Subject"] = (
            f"[Ketnap] Nhắc việc ngày {today:%d/%m/%Y}: {len(reminders)} việc cần đồng chí quan tâm"
        )
        lines = [_salutation(user), "", f"Có {len(reminders)} việc cần đồng chí quan tâm:"]
        for n, view in enumerate(reminders, 1):
            lines += ["", f"{n}. [{view.stage_label()}] {view.spec.label_vi} — {view.person}"]
            lines += view.details(today, outbox)
    message.set_content("\n".join(lines + _footer(outbox)) + "\n")
    return message


# ── sending ───────────────────────────────────────────────────────────────
@dataclass
class DeliveryReport:
    sent: int = 0  # deliveries (reminder × person) that left
    retrying: int = 0
    failed: int = 0
    messages: int = 0  # mails handed to the SMTP server
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"e-mail: {self.sent} sent, {self.retrying} waiting to retry, {self.failed} failed"


@dataclass(frozen=True)
class _Claimed:
    id: int
    reminder_id: int
    user_id: int
    attempts: int
    digest: bool


class _ConnectionTrouble(Exception):
    """The server is unreachable or refuses us: every remaining mail waits."""


class Mailer:
    """One SMTP session (smtplib): TLS from the start (`ssl`) or upgraded (`starttls`)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.client: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        s = self.settings
        try:
            if s.ssl:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host,
                    s.port,
                    local_hostname="ketnap.localhost",
                    timeout=SMTP_TIMEOUT,
                    context=ssl.create_default_context(),
                )
            else:
                client = smtplib.SMTP(
                    s.host, s.port, local_hostname="ketnap.localhost", timeout=SMTP_TIMEOUT
                )
            if s.starttls and not s.ssl:
                client.starttls(context=ssl.create_default_context())
            if s.username:
                client.login(s.username, s.password)
        except (OSError, smtplib.SMTPException) as error:
            raise _ConnectionTrouble(_describe(error)) from error
        self.client = client
        return self

    def send(self, message: EmailMessage) -> None:
        assert self.client is not None
        try:
            self.client.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise (_Refused if all(500 <= c < 600 for c in codes) else _Later)(
                _describe(error)
            ) from error
        except (smtplib.SMTPSenderRefused, smtplib.SMTPServerDisconnected) as error:
            raise _ConnectionTrouble(_describe(error)) from error
        except smtplib.SMTPResponseException as error:
            kind = _Refused if 500 <= error.smtp_code < 600 else _Later
            raise kind(_describe(error)) from error
        except OSError as error:
            raise _ConnectionTrouble(_describe(error)) from error

    def __exit__(self, *exc: object) -> None:
        if self.client is not None:
            try:
                self.client.quit()
            except (OSError, smtplib.SMTPException):
                self.client.close()


class _Refused(Exception):
    """The server refused this message for good (5xx)."""


class _Later(Exception):
    """The server asked to try this message later (4xx)."""


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def deliver_pending(engine: Engine, outbox: Outbox) -> DeliveryReport:
    """Send the e-mails that are due now; leave the rest for a later sweep."""
    report = DeliveryReport()
    if not outbox.sends_email:
        return report
    now, today = engine.clock.now(), engine.clock.today()
    while True:
        claimed = _claim(engine, now)
        if not claimed:
            return report
        if not _send_batch(engine, outbox, claimed, now, today, report):
            return report  # the server is unreachable: the rest waits for its back-off
        if len(claimed) < CLAIM_BATCH:
            return report


def _claim(engine: Engine, now: datetime) -> list[_Claimed]:
    """Take due deliveries: the UPDATE is this transaction's first and only statement."""
    table = table_of(Delivery)
    due_ids = (
        select(Delivery.id)
        .where(
            col(Delivery.status) == "pending",
            col(Delivery.channel) == "email",
            col(Delivery.next_attempt_at) <= now,
        )
        .order_by(col(Delivery.id))
        .limit(CLAIM_BATCH)
        .scalar_subquery()
    )
    statement = (
        update(table)
        .where(
            table.c.id.in_(due_ids),
            table.c.status == "pending",
            table.c.next_attempt_at <= now,
        )
        .values(attempts=table.c.attempts + 1, next_attempt_at=now + LEASE)
        .returning(
            table.c.id, table.c.reminder_id, table.c.user_id, table.c.attempts, table.c.digest
        )
    )
    with engine.session() as session:
        rows = session.execute(statement).all()
        session.commit()
    return sorted((_Claimed(*row) for row in rows), key=lambda c: c.id)


def _send_batch(
    engine: Engine,
    outbox: Outbox,
    claimed: list[_Claimed],
    now: datetime,
    today: date,
    report: DeliveryReport,
) -> bool:
    with engine.session() as session:
        texts = views(session, (c.reminder_id for c in claimed))
        user_ids = sorted({c.user_id for c in claimed})
        users = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(user_ids)))}
    batches: list[tuple[User, list[_Claimed]]] = []
    digests: dict[int, list[_Claimed]] = defaultdict(list)
    for item in claimed:
        user = users.get(item.user_id)
        if user is None or not user.email or not user.active or item.reminder_id not in texts:
            _finish(engine, [item], "failed", now, "no e-mail address")
            report.failed += 1
        elif item.digest:
            digests[item.user_id].append(item)
        else:
            batches.append((user, [item]))
    batches += [(users[uid], items) for uid, items in digests.items()]
    handled: set[int] = set()
    try:
        with Mailer(outbox.smtp) as mailer:
            for user, items in batches:
                message = compose(user, [texts[i.reminder_id] for i in items], today, outbox)
                message["X-Ketnap-Deliveries"] = ",".join(str(i.id) for i in items)
                try:
                    mailer.send(message)
                except _Refused as error:
                    _finish(engine, items, "failed", now, str(error))
                    report.failed += len(items)
                    report.errors.append(str(error))
                except _Later as error:
                    _retry(engine, items, now, str(error))
                    report.retrying += len(items)
                    report.errors.append(str(error))
                else:
                    _finish(engine, items, "sent", now)
                    report.sent += len(items)
                    report.messages += 1
                handled.update(i.id for i in items)
    except _ConnectionTrouble as error:
        waiting = [i for _, items in batches for i in items if i.id not in handled]
        _retry(engine, waiting, now, str(error))
        report.retrying += len(waiting)
        report.errors.append(str(error))
        return False
    return True


def _finish(
    engine: Engine, items: Sequence[_Claimed], status: str, now: datetime, error: str | None = None
) -> None:
    table = table_of(Delivery)
    values: dict[str, Any] = {"status": status, "last_error": error}
    if status == "sent":
        values["sent_at"] = now
    with engine.session() as session:
        session.execute(update(table).where(table.c.id.in_([i.id for i in items])).values(**values))
        session.commit()


def _retry(engine: Engine, items: Sequence[_Claimed], now: datetime, error: str) -> None:
    table = table_of(Delivery)
    by_attempts: dict[int, list[int]] = defaultdict(list)
    for item in items:
        by_attempts[item.attempts].append(item.id)
    with engine.session() as session:
        for attempts, ids in by_attempts.items():
            session.execute(
                update(table)
                .where(table.c.id.in_(ids), table.c.status == "pending")
                .values(next_attempt_at=now + backoff(attempts), last_error=error[:500])
            )
        session.commit()


# ── the inbox ─────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class InboxEntry:
    item_id: int
    status: str  # open | done | closed
    closed_reason: str | None
    created_at: datetime
    done_at: datetime | None
    view: ReminderView

    def closed_label(self, lang: str = "vi") -> str:
        vi, en = CLOSED_REASONS.get(self.closed_reason or "", ("", ""))
        return en if lang == "en" else vi


def _inbox_query(user_id: int, actor: Actor) -> Any:
    # Only cases the user may still see: after a transfer the old cell's items fade out.
    return (
        select(InboxItem)
        .join(Case, col(Case.id) == col(InboxItem.case_id))
        .where(col(InboxItem.user_id) == user_id, access.visible_cases(actor))
    )


def inbox(
    session: Session, user_id: int, actor: Actor, *, status: str | None = "open", limit: int = 200
) -> list[InboxEntry]:
    """A user's inbox, most urgent first (`status=None`: every item, newest first)."""
    query = _inbox_query(user_id, actor)
    if status is not None:
        query = query.where(col(InboxItem.status) == status)
    items: list[InboxItem] = list(
        session.exec(query.order_by(col(InboxItem.id).desc()).limit(limit))
    )
    texts = views(session, (i.reminder_id for i in items))
    entries = [
        InboxEntry(
            i.id or 0, i.status, i.closed_reason, i.created_at, i.done_at, texts[i.reminder_id]
        )
        for i in items
        if i.reminder_id in texts
    ]
    if status == "open":
        entries.sort(key=lambda e: (e.view.due, e.item_id))
    return entries


def open_count(session: Session, user_id: int, actor: Actor) -> int:
    """How many open reminders the user has (the dashboard's badge)."""
    query = _inbox_query(user_id, actor).where(col(InboxItem.status) == "open")
    return int(session.exec(select(func.count()).select_from(query.subquery())).one())


def mark_done(session: Session, item_id: int, user_id: int, now: datetime) -> bool:
    """The user marks their item done; their unsent mail about it is cancelled.
    False when the item is not theirs (or does not exist). The caller commits."""
    item = session.get(InboxItem, item_id)
    if item is None or item.user_id != user_id:
        return False
    if item.status == "open":
        item.status, item.done_at = "done", now
        session.add(item)
        table = table_of(Delivery)
        session.execute(
            update(table)
            .where(
                table.c.reminder_id == item.reminder_id,
                table.c.user_id == user_id,
                table.c.status == "pending",
            )
            .values(status="cancelled")
        )
    return True


@dataclass(frozen=True)
class CaseReminder:
    """An open reminder of a case, with the people who have it in their inbox."""

    view: ReminderView
    recipients: tuple[str, ...]


def case_reminders(session: Session, case_id: int) -> list[CaseReminder]:
    """The case's reminders still open in someone's inbox (for the case page's flags)."""
    query = (
        select(InboxItem.reminder_id, User.username, User.full_name)
        .join(User, col(User.id) == col(InboxItem.user_id))
        .where(col(InboxItem.case_id) == case_id, col(InboxItem.status) == "open")
    )
    people: dict[int, list[str]] = defaultdict(list)
    for reminder_id, username, full_name in session.exec(query):
        people[reminder_id].append(full_name or username)
    texts = views(session, people)
    return sorted(
        (
            CaseReminder(texts[rid], tuple(sorted(names)))
            for rid, names in people.items()
            if rid in texts
        ),
        key=lambda r: (r.view.due, r.view.deadline),
    )
