"""The reminder sweep: which live deadlines need a reminder today, whom to tell, and
recording each reminder exactly once before anything is delivered.

One sweep, for the clock's `today`:

1. `sweep_query` — ONE indexed query over CaseDeadline ⋈ Case finds every live deadline
   whose current stage has not been reminded yet. Stages (process.REMINDER_STAGES,
   computed like `deadlines.stage_of`): `upcoming` inside a warn window, `due` on the
   day, `overdue` after it, `escalated` once `escalate_after_days` more days passed —
   and at once for a case the engine escalated after `confirm_vote_attempts` failed
   confirmation votes (QĐ 294 §4.2c: the competent authority takes over).
   It reads only what can have changed since the last sweep that completed before
   today (SweepDay, day D): deadlines that ENTERED a stage on a day in (D, today] —
   a few narrow `due` ranges on the (deadline, due) index — and the deadlines of cases
   changed since that sweep started (Case.updated_at: new, moved, transferred, or
   recorded late with an old date). Whatever else is live was at the same stage on
   day D and was reminded then. So a daily sweep costs the same at 1 M cases as at
   1 000, and a sweep after a month of downtime reads that month. The very first
   sweep of a database (no SweepDay) reads every deadline in or past its window.
2. The audience of each: owners of the deadline (process.Deadline.owners: the cell's
   secretary; helpers / sponsors of the case; committee officers of the competent
   authority — the nearest ancestor that `may_admit`), and on escalation the officers
   of the organisation above, the competent authority's officers and the secretary.
3. `record`: INSERT ... ON CONFLICT DO NOTHING on the reminder's unique key, and only
   for the rows that went in, the inbox items and e-mail deliveries (workflow.notify),
   in the same transaction. Two sweeps at once — threads, web workers, the web process
   and `ketnap scheduler`, on SQLite or PostgreSQL — can both try; one row wins.
4. notify.close_stale closes what is met or moved; notify.deliver_pending sends e-mail;
   SweepDay(today) records that today's reminders are all recorded.

The key is (case, deadline, due, stage, warn, cell):
- `warn` tells warnings apart: an `upcoming` reminder is keyed with the warn offset
  it answers (certificate: 90 then 30 days before; probation_papers: 60 then 30;
  the others `upcoming_warn_days`, 10); every other stage has warn 0.
- `due`: a deadline that moves (an extension) is a new deadline to remind of.
- `cell`: after a transfer the receiving cell's secretary is told (people already
  told of that stage, such as the helpers, are not told twice).
A sweep that runs late (downtime) reminds of the CURRENT stage only: a deadline first
seen 20 days before it is due gets the 30-day warning, not the 90-day one as well;
one first seen 10 days late is escalated without an `overdue` first. Few reminders,
each one about what is true now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    literal,
    or_,
    true,
    union_all,
)
from sqlalchemy import select as sql_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from workflow import process
from workflow.config import Config, RuleParameters
from workflow.deadlines import stage_of
from workflow.engine import Engine
from workflow.models import (
    Case,
    CaseDeadline,
    HelperAssignment,
    Organisation,
    Person,
    Reminder,
    Sponsorship,
    SweepDay,
    User,
)
from workflow.reminders import delivery as notify

# The deadline a failed confirmation vote concerns: after `confirm_vote_attempts`
# failures the engine sets Case.escalated and this deadline is escalated at once.
FAILED_VOTES_DEADLINE = process.deadline("confirmation_vote").id
CHUNK = 200  # reminders recorded per transaction: short write locks on SQLite
CHANGE_MARGIN = timedelta(hours=1)

Key = tuple[int, str, date, str, int, int]


# ── stages ────────────────────────────────────────────────────────────────
def warn_offsets(spec: process.Deadline, params: RuleParameters) -> tuple[int, ...]:
    """The days before `due` at which `upcoming` reminders go out, nearest first."""
    return tuple(sorted({int(w) for w in spec.warn_days(params) if int(w) > 0}))


def reminder_stage(
    spec: process.Deadline, due: date, today: date, params: RuleParameters
) -> tuple[str, int] | None:
    """(stage, warn) a deadline is at on `today` for reminding; None outside any window.

    The Python twin of the sweep query's CASE expressions (a test checks they agree).
    """
    stage = stage_of(spec.id, due, today, params)
    if stage != "upcoming":
        return stage, 0
    for warn in warn_offsets(spec, params):
        if due <= today + timedelta(days=warn):
            return "upcoming", warn
    return None


def _stage_expr(today: date, params: RuleParameters) -> ColumnElement[str]:
    due = col(CaseDeadline.due)
    # stage_of: escalated when today > due + escalate_after_days
    return case(
        (due < today - timedelta(days=params.escalate_after_days), "escalated"),
        (due < today, "overdue"),
        (due == today, "due"),
        else_="upcoming",
    )


def _warn_expr(today: date, params: RuleParameters) -> ColumnElement[int]:
    due, kind = col(CaseDeadline.due), col(CaseDeadline.deadline)
    whens: list[tuple[ColumnElement[bool], int]] = [(due <= today, 0)]
    for spec in process.DEADLINES:
        for warn in warn_offsets(spec, params):  # nearest first: the first match wins
            whens.append((and_(kind == spec.id, due <= today + timedelta(days=warn)), warn))
    return case(*whens, else_=0)


def _entry_shifts(spec: process.Deadline, params: RuleParameters) -> list[int]:
    """Days from `due` to the first day of each stage: −w for each warning, 0 (due),
    +1 (overdue), escalate_after_days + 1 (escalated, as deadlines.stage_of says)."""
    return [-w for w in warn_offsets(spec, params)] + [0, 1, params.escalate_after_days + 1]


def _merged(ranges: list[tuple[date, date]]) -> list[tuple[date, date]]:
    merged: list[tuple[date, date]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def _window(today: date, params: RuleParameters, after: date | None) -> ColumnElement[bool]:
    """The live deadlines whose stage may have changed since the sweep of day `after`:
    those that entered a stage on a day in (after, today], as `due` ranges per group of
    kinds with the same stages — each term an index range on (deadline, due).

    `after` None (no sweep completed before today): every deadline inside its widest
    warn window or past it, however old."""
    groups: dict[tuple[int, ...], list[str]] = defaultdict(list)
    for spec in process.DEADLINES:
        groups[tuple(_entry_shifts(spec, params))].append(spec.id)
    terms: list[ColumnElement[bool]] = []
    for shifts, kinds in sorted(groups.items()):
        kind = col(CaseDeadline.deadline).in_(kinds)
        if after is None:
            horizon = -min(min(shifts), 0)
            terms.append(and_(kind, col(CaseDeadline.due) <= today + timedelta(days=horizon)))
            continue
        for first, last in _merged(
            [(after + timedelta(days=1 - s), today - timedelta(days=s)) for s in shifts]
        ):
            terms.append(and_(kind, col(CaseDeadline.due).between(first, last)))
    return or_(*terms)


@dataclass(frozen=True)
class Since:
    """The last day before today whose sweep completed, and when that sweep started."""

    day: date
    started_at: datetime


def last_sweep(session: Session, today: date) -> Since | None:
    row = session.exec(
        select(SweepDay).where(col(SweepDay.day) < today).order_by(col(SweepDay.day).desc())
    ).first()
    return Since(row.day, row.started_at) if row is not None else None


# ── the one query ─────────────────────────────────────────────────────────
def sweep_statement(today: date, params: RuleParameters, since: Since | None) -> Select[Any]:
    """The sweep as one statement: a UNION ALL of three index-driven branches —

    - by date: deadlines that entered a stage since the last completed sweep (`_window`);
    - by change: the deadlines of the cases changed since that sweep started (new,
      moved by an extension, transferred, recorded late with an old date), through
      the index on Case.updated_at;
    - by votes: the confirmation vote of cases escalated after failed votes;

    each at the stage it is in today and without a Reminder row for that key yet
    (an anti-join on the key's unique index). Without `since`, the by-date branch
    reads every deadline inside its warn window or past it (the first sweep).
    """
    stage, warn = _stage_expr(today, params), _warn_expr(today, params)
    sent = aliased(Reminder)

    def not_reminded(stage_value: Any, warn_value: Any) -> ColumnElement[bool]:
        return ~exists().where(
            col(sent.case_id) == col(CaseDeadline.case_id),
            col(sent.deadline) == col(CaseDeadline.deadline),
            col(sent.due) == col(CaseDeadline.due),
            col(sent.stage) == stage_value,
            col(sent.warn) == warn_value,
            col(sent.cell_id) == col(Case.cell_id),
        )

    def branch(cause: str, stage_value: Any, warn_value: Any, *where: Any) -> Any:
        return (
            sql_select(
                col(CaseDeadline.case_id).label("case_id"),
                col(CaseDeadline.deadline).label("deadline"),
                col(CaseDeadline.due).label("due"),
                stage_value.label("stage"),
                warn_value.label("warn"),
                col(Case.cell_id).label("cell_id"),
                col(Case.org_path).label("org_path"),
                literal(cause).label("cause"),
            )
            .join(Case, col(Case.id) == col(CaseDeadline.case_id))
            .where(*where, not_reminded(stage_value, warn_value))
        )

    branches = [
        branch("deadline", stage, warn, _window(today, params, since.day if since else None))
    ]
    if since is not None:
        # A margin for a transaction that began before that sweep and committed after
        # it read (its cases carry the earlier moment), and for clocks a little apart.
        changed_since = since.started_at - CHANGE_MARGIN
        changed = sql_select(col(Case.id)).where(col(Case.updated_at) >= changed_since)
        # driven by the few changed cases: their ids probe (case_id, deadline)
        branches.append(
            branch(
                "deadline",
                stage,
                warn,
                col(CaseDeadline.case_id).in_(changed),
                _window(today, params, None),
            )
        )
    escalated = sql_select(col(Case.id)).where(col(Case.escalated) == true())
    branches.append(
        branch(
            "failed_votes",
            literal("escalated"),
            literal(0),
            col(CaseDeadline.case_id).in_(escalated),
            col(CaseDeadline.deadline) == FAILED_VOTES_DEADLINE,
        )
    )
    return sql_select(union_all(*branches).subquery("sweep"))


@dataclass(frozen=True)
class Due:
    """A live deadline that needs a reminder at its current stage."""

    case_id: int
    deadline: str
    due: date
    stage: str
    warn: int
    cell_id: int
    org_path: str
    cause: str = "deadline"  # deadline | failed_votes

    @property
    def key(self) -> Key:
        return (self.case_id, self.deadline, self.due, self.stage, self.warn, self.cell_id)

    @property
    def spec(self) -> process.Deadline:
        return process.deadline(self.deadline)


STORED: Any = object()  # sweep_query's default: read the last completed sweep


def sweep_query(
    session: Session, today: date, params: RuleParameters, since: Since | None = STORED
) -> list[Due]:
    """Run the sweep's one query: every deadline needing a reminder on `today`.

    `since` defaults to the last sweep completed before `today` (SweepDay); None reads
    every deadline in or past its window, as the first sweep of a database does.
    """
    if since is STORED:
        since = last_sweep(session, today)
    found: dict[Key, Due] = {}
    for row in session.execute(sweep_statement(today, params, since)):
        due = Due(
            row.case_id,
            row.deadline,
            _as_date(row.due),
            row.stage,
            int(row.warn),
            row.cell_id,
            row.org_path,
            row.cause,
        )
        if due.deadline not in _KNOWN:
            continue
        # A case escalated by its votes whose deadline is also escalated by date: one
        # reminder, which says why the competent authority now has the case.
        if due.key not in found or due.cause == "failed_votes":
            found[due.key] = due
    return sorted(found.values(), key=lambda d: (d.case_id, d.deadline))


_KNOWN = {spec.id for spec in process.DEADLINES}


def _as_date(value: Any) -> date:
    # SQLite hands a UNION's date column back as text
    return value if isinstance(value, date) else date.fromisoformat(str(value))


# ── whom to tell ──────────────────────────────────────────────────────────
@dataclass
class Audience:
    """Everything needed to name each reminder's recipients, loaded in a few queries."""

    orgs: dict[int, Organisation] = field(default_factory=dict)
    helpers: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    sponsors: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    users: dict[int, User] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, dues: Sequence[Due]) -> Audience:
        audience = cls()
        case_ids = sorted({d.case_id for d in dues})
        org_ids = sorted({int(i) for d in dues for i in d.org_path.strip("/").split("/") if i})
        for chunk in _chunks(org_ids, 500):
            for org in session.exec(select(Organisation).where(col(Organisation.id).in_(chunk))):
                assert org.id is not None
                audience.orgs[org.id] = org
        for chunk in _chunks(case_ids, 500):
            helpers = select(HelperAssignment.case_id, HelperAssignment.member_id).where(
                col(HelperAssignment.case_id).in_(chunk)
            )
            for case_id, member_id in session.exec(helpers):
                audience.helpers[case_id].add(member_id)
            sponsors = select(Sponsorship.case_id, Sponsorship.member_id).where(
                col(Sponsorship.case_id).in_(chunk)
            )
            for case_id, member_id in session.exec(sponsors):
                audience.sponsors[case_id].add(member_id)
        member_ids = sorted(set().union(*audience.helpers.values(), *audience.sponsors.values()))
        wanted_orgs = sorted(audience.orgs)
        conditions = [
            and_(col(User.role).in_(("secretary", "officer")), col(User.organisation_id).in_(c))
            for c in _chunks(wanted_orgs, 500)
        ] + [col(User.member_id).in_(c) for c in _chunks(member_ids, 500)]
        if conditions:
            query = select(User).where(col(User.active) == true(), or_(*conditions))
            for user in session.exec(query):
                assert user.id is not None
                audience.users[user.id] = user
        return audience

    # ── the organisations of a case ──────────────────────────────────────
    def chain(self, due: Due) -> list[Organisation]:
        """The case's cell and its ancestors, nearest first."""
        ids = [int(i) for i in due.org_path.strip("/").split("/") if i]
        return [self.orgs[i] for i in reversed(ids) if i in self.orgs]

    def competent_authority(self, due: Due) -> Organisation | None:
        for org in self.chain(due)[1:]:
            if org.may_admit:
                return org
        return None

    def above(self, due: Due) -> Organisation | None:
        """Whom an escalation goes to: the organisation above the one that is late."""
        chain = self.chain(due)
        late = self.competent_authority(due) if "authority" in due.spec.owners else None
        late = late or (chain[0] if chain else None)
        if late is None or late.parent_id is None:
            return None
        return self.orgs.get(late.parent_id)

    # ── the people ───────────────────────────────────────────────────────
    def _with_role(self, role: str, org: Organisation | None) -> set[int]:
        if org is None:
            return set()
        return {
            uid
            for uid, user in self.users.items()
            if user.role == role and user.organisation_id == org.id
        }

    def _members(self, member_ids: set[int]) -> set[int]:
        return {uid for uid, user in self.users.items() if user.member_id in member_ids}

    def recipients(self, due: Due) -> list[User]:
        cell = self.orgs.get(due.cell_id)
        secretaries = self._with_role("secretary", cell)
        authority = self._with_role("officer", self.competent_authority(due))
        if due.stage == "escalated":
            ids = secretaries | authority | self._with_role("officer", self.above(due))
        else:
            ids = set()
            for owner in due.spec.owners:
                ids |= {
                    "secretary": secretaries,
                    "helper": self._members(self.helpers.get(due.case_id, set())),
                    "sponsor": self._members(self.sponsors.get(due.case_id, set())),
                    "authority": authority,
                }.get(owner, set())
        return [self.users[uid] for uid in sorted(ids)]


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ── recording, once ───────────────────────────────────────────────────────
@dataclass(frozen=True)
class Recorded:
    """A reminder this sweep recorded (or, in a dry run, would record) and its audience."""

    due: Due
    recipients: tuple[User, ...]
    reminder_id: int | None = None


def record(
    session: Session,
    dues: Sequence[Due],
    audience: Audience,
    outbox: notify.Outbox,
    now: datetime,
    today: date,
) -> list[Recorded]:
    """Insert the reminders; fan out only those whose row went in. The caller commits.

    The INSERT is the transaction's first statement, so on SQLite it takes the write
    lock before anything is read (no stale snapshot to upgrade).
    """
    if not dues:
        return []
    table = notify.table_of(Reminder)
    key_columns = ("case_id", "deadline", "due", "stage", "warn", "cell_id")
    rows = [
        {
            "case_id": d.case_id,
            "deadline": d.deadline,
            "due": d.due,
            "stage": d.stage,
            "warn": d.warn,
            "cell_id": d.cell_id,
            "cause": d.cause,
            "swept_on": today,
            "created_at": now,
        }
        for d in dues
    ]
    statement = (
        _dialect_insert(session)(table)
        .values(rows)
        .on_conflict_do_nothing(index_elements=list(key_columns))
        .returning(table.c.id, *(table.c[name] for name in key_columns))
    )
    by_key = {d.key: d for d in dues}
    won: list[tuple[int, Due]] = []
    for row in session.execute(statement):
        key = (row.case_id, row.deadline, _as_date(row.due), row.stage, row.warn, row.cell_id)
        won.append((row.id, by_key[key]))
    won.sort(key=lambda pair: pair[0])
    plan = [(reminder_id, due, audience.recipients(due)) for reminder_id, due in won]
    notify.fan_out(session, [(rid, due.key, users) for rid, due, users in plan], outbox, now)
    return [Recorded(due, tuple(users), rid) for rid, due, users in plan]


def _mark_swept(engine: Engine, today: date, started_at: datetime) -> None:
    """Today's sweep completed: tomorrow's reads from here. The first completed sweep
    of a day keeps its start (any completed sweep's start is a safe one)."""
    with engine.session() as session:
        table = notify.table_of(SweepDay)
        session.execute(
            _dialect_insert(session)(table)
            .values(day=today, started_at=started_at)
            .on_conflict_do_nothing(index_elements=["day"])
        )
        session.commit()


def _dialect_insert(session: Session) -> Any:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    raise RuntimeError(f"reminders need SQLite or PostgreSQL, not {name}")


# ── one sweep ─────────────────────────────────────────────────────────────
@dataclass
class SweepResult:
    today: date
    dry_run: bool
    reminders: list[Recorded]
    closed: int = 0
    delivery: notify.DeliveryReport = field(default_factory=notify.DeliveryReport)

    @property
    def count(self) -> int:
        return len(self.reminders)

    def summary(self) -> str:
        """The last line, which scripts read: always `N reminders sent` (or `... would
        be sent`), whatever N, so one pattern matches."""
        return f"{self.count} reminders {'would be sent' if self.dry_run else 'sent'}"


def sweep(engine: Engine, config: Config | None = None, *, dry_run: bool = False) -> SweepResult:
    """One full sweep at the engine clock's moment: close what is met or moved, record
    and fan out new reminders, then send the e-mails that are due (with back-off)."""
    from workflow import config as config_module

    config = config or config_module.load()
    now, today = engine.clock.now(), engine.clock.today()
    outbox = notify.Outbox.from_config(config)
    with engine.session() as session:
        dues = sweep_query(session, today, engine.params)
        audience = Audience.load(session, dues)
    if dry_run:
        planned = [Recorded(d, tuple(audience.recipients(d))) for d in dues]
        return SweepResult(today, True, planned)
    closed = notify.close_stale(engine, now)
    recorded: list[Recorded] = []
    for chunk in _chunks(dues, CHUNK):
        with engine.session() as session:
            recorded += record(session, chunk, audience, outbox, now, today)
            session.commit()
    _mark_swept(engine, today, now)
    delivery = notify.deliver_pending(engine, outbox)
    return SweepResult(today, False, recorded, closed, delivery)


# ── reading ───────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class LiveDeadline:
    case_id: int
    person: str
    state: str
    deadline: str
    due: date
    stage: str  # stage_of's, whatever the warn windows
    escalated: bool  # the case was escalated after failed confirmation votes


def stored_deadlines(
    session: Session,
    today: date,
    params: RuleParameters,
    *,
    overdue_only: bool = False,
    case_id: int | None = None,
    limit: int | None = None,
) -> list[LiveDeadline]:
    """The stored live deadlines, soonest first, with where each stands today."""
    query = (
        select(CaseDeadline, Case.state, Case.escalated, Person.full_name)
        .join(Case, col(Case.id) == col(CaseDeadline.case_id))
        .join(Person, col(Person.id) == col(Case.person_id))
        .order_by(col(CaseDeadline.due), col(CaseDeadline.case_id))
    )
    if overdue_only:
        query = query.where(col(CaseDeadline.due) < today)
    if case_id is not None:
        query = query.where(col(CaseDeadline.case_id) == case_id)
    if limit is not None:
        query = query.limit(limit)
    return [
        LiveDeadline(
            row.case_id,
            name,
            state,
            row.deadline,
            row.due,
            stage_of(row.deadline, row.due, today, params),
            bool(escalated),
        )
        for row, state, escalated, name in session.execute(query)
    ]


def describe(items: Iterable[Recorded]) -> Iterator[str]:
    """One line per reminder, for the CLI."""
    for item in items:
        due = item.due
        stage = f"{due.stage} −{due.warn}d" if due.warn else due.stage
        why = " (failed confirmation votes)" if due.cause == "failed_votes" else ""
        to = ", ".join(u.username for u in item.recipients) or "(no recipient)"
        yield (
            f"#{due.case_id:<6} {due.deadline:<22} {stage:<15} hạn {due.due:%d/%m/%Y} → {to}{why}"
        )
