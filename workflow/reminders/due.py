"""Which live deadlines need a reminder today: the sweep's one query.

ONE indexed query over CaseDeadline ⋈ Case finds every live deadline whose current
stage (workflow.reminders.stages) has not been reminded yet — and at once the
confirmation vote of a case the engine escalated after `confirm_vote_attempts` failed
confirmation votes (QĐ 294 §4.2c: the competent authority takes over).

It reads only what can have changed since the last sweep that completed before today
(SweepDay, day D): deadlines that ENTERED a stage on a day in (D, today] — a few narrow
`due` ranges on the (deadline, due) index — and the deadlines of cases changed since
that sweep started (Case.updated_at: new, moved, transferred, or recorded late with an
old date). Whatever else is live was at the same stage on day D and was reminded then.
So a daily sweep costs the same at 1 M cases as at 1 000, and a sweep after a month of
downtime reads that month. The very first sweep of a database (no SweepDay) reads
every deadline in or past its window.

A reminder's key is (case, deadline, due, stage, warn, cell):
- `warn` tells warnings apart: an `upcoming` reminder is keyed with the warn offset it
  answers; every other stage has warn 0.
- `due`: a deadline that moves (an extension) is a new deadline to remind of.
- `cell`: after a transfer the receiving cell's secretary is told (people already told
  of that stage, such as the helpers, are not told twice).
A sweep that runs late (downtime) reminds of the CURRENT stage only: a deadline first
seen 20 days before it is due gets the 30-day warning, not the 90-day one as well; one
first seen 10 days late is escalated without an `overdue` first. Few reminders, each
one about what is true now.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, literal, or_, true, union_all
from sqlalchemy import select as sql_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from workflow import process
from workflow.config import RuleParameters
from workflow.models import Case, CaseDeadline, Reminder, SweepDay
from workflow.reminders.sql import as_date
from workflow.reminders.stages import entry_shifts, stage_expr, warn_expr

# The deadline a failed confirmation vote concerns: after `confirm_vote_attempts`
# failures the engine sets Case.escalated and this deadline is escalated at once.
FAILED_VOTES_DEADLINE = process.deadline("confirmation_vote").id
CHANGE_MARGIN = timedelta(hours=1)

Key = tuple[int, str, date, str, int, int]


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
        groups[tuple(entry_shifts(spec, params))].append(spec.id)
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
    stage, warn = stage_expr(today, params), warn_expr(today, params)
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
            as_date(row.due),
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
