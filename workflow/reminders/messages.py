"""What a reminder says: its stage, what to do and by when, in Vietnamese or English
(the inbox page and the API speak the user's language), and the e-mails composed from
templates/ — one reminder, or a user's daily digest. The mails are Vietnamese, the
users' language; their wording lives in templates/*.txt (Jinja, plain text).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlmodel import Session, col, select

from workflow import hygiene, process, waiting
from workflow.models import Case, Organisation, Person, Reminder, User
from workflow.reminders.outbox import Outbox
from workflow.reminders.sql import chunks
from workflow.text import Text

STAGE_LABELS: dict[str, Text] = {
    "upcoming": Text("Sắp đến hạn", "Coming up"),
    "due": Text("Đến hạn", "Due"),
    "overdue": Text("Quá hạn", "Overdue"),
    "escalated": Text("Báo cáo cấp trên", "Escalated"),
}


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
        return STAGE_LABELS.get(self.stage, Text(self.stage, self.stage)).say(lang)

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


def views(session: Session, reminder_ids: Iterable[int]) -> dict[int, ReminderView]:
    """The reminders with the person, cell and failed votes of their case, by id."""
    found: dict[int, ReminderView] = {}
    for chunk in chunks(sorted(set(reminder_ids))):
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


# ── the e-mails ───────────────────────────────────────────────────────────
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=False,  # plain-text mail, never HTML
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
TEMPLATES.filters["dmy"] = lambda day: f"{day:%d/%m/%Y}"


def step_link(outbox: Outbox, view: ReminderView, user: User) -> str:
    """Where a reminder leads: the form of the step it asks of `user` (the task), or
    the case when they have nothing to record."""
    step = waiting.step_for(view.deadline, user.role)
    link = outbox.case_link(view.case_id)
    return f"{link}?step={step}" if step else link


def tasks_link(outbox: Outbox) -> str:
    return outbox.inbox_link().removesuffix("/inbox") + "/tasks"


TEMPLATES.globals.update(step_link=step_link, tasks_link=tasks_link)


def _render(name: str, **context: Any) -> str:
    return TEMPLATES.get_template(name).render(**context)


def compose(
    user: User, reminders: Sequence[ReminderView], today: date, outbox: Outbox
) -> EmailMessage:
    """One mail to `user`: a single reminder, or their daily digest of several."""
    kind = "reminder" if len(reminders) == 1 else "digest"
    context = {"user": user, "reminders": reminders, "today": today, "outbox": outbox}
    message = EmailMessage()
    message["From"] = formataddr(("Ketnap", outbox.smtp.sender))
    # Headers hold one line: a name stored with a line break (before Ketnap refused
    # them) must not stop the mail — `email` raises on a header with CR or LF.
    name = hygiene.one_line(user.full_name or user.username)
    message["To"] = formataddr((name, hygiene.one_line(user.email or "")))
    message["Message-ID"] = message_id(user, reminders, outbox.base_url)
    message["Subject"] = hygiene.one_line(_render(f"{kind}_subject.txt", **context))
    message.set_content(_render(f"{kind}.txt", **context))
    return message


# ── the Message-ID ───────────────────────────────────────────────────────
MESSAGE_ID_HOST = re.compile(
    r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
)
FALLBACK_HOST = "ketnap.localhost"  # no DNS lookup, ever


def message_id(user: User, reminders: Sequence[ReminderView], base_url: str) -> str:
    """The mail's Message-ID, derived from what it delivers, never random: a mail sent
    again because the process died between the server's "250 OK" and the mark carries
    the same id, and the receiving side drops the duplicate (RFC 5322 §3.6.4).

    One reminder to one user: `<reminder-{reminder}-{user}-{case}-{due}@{host}>` (a
    reminder is one stage of one deadline, so each delivery has its own; the case and
    the due date keep a re-created database's reminder 1 from reusing an old mail's
    id). A digest: the user and a hash of the reminders it lists, in any order."""
    host, user_id = _host(base_url), user.id if user.id is not None else 0
    if len(reminders) == 1:
        one = reminders[0]
        return f"<reminder-{one.reminder_id}-{user_id}-{one.case_id}-{one.due:%Y%m%d}@{host}>"
    keys = ",".join(sorted({_key(r) for r in reminders}))
    listed = hashlib.sha256(keys.encode()).hexdigest()[:32]
    return f"<digest-{user_id}-{listed}@{host}>"


def _key(reminder: ReminderView) -> str:
    return f"{reminder.reminder_id}-{reminder.case_id}-{reminder.due:%Y%m%d}"


def _host(base_url: str) -> str:
    """The host of `base_url` when it is a plain domain name or IPv4 address."""
    try:
        host = urlsplit(base_url).hostname or ""
    except ValueError:
        return FALLBACK_HOST
    return host if MESSAGE_ID_HOST.fullmatch(host) else FALLBACK_HOST
