"""SQLModel tables. A case's state changes only through `engine.advance`."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import NaiveDatetime
from sqlalchemy import Column, Index, Text, UniqueConstraint, event
from sqlmodel import Field, SQLModel, col

from workflow.text import fold


class Organisation(SQLModel, table=True):
    """A node of the party tree: committee, grassroots committee, or cell.

    `path` is the chain of ids from the root ("/1/4/9/"): a subtree is one indexed
    prefix query, whatever its depth.
    """

    id: int | None = Field(default=None, primary_key=True)
    name: str
    kind: str  # committee | grassroots_committee | cell | grassroots_cell
    parent_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    may_admit: bool = False
    path: str = Field(default="/", index=True)


class Member(SQLModel, table=True):
    """A party member of a cell: official, or probationary while on probation."""

    id: int | None = Field(default=None, primary_key=True)
    full_name: str
    cell_id: int = Field(foreign_key="organisation.id", index=True)
    status: str = "official"  # official | probationary | removed
    joined_on: date | None = None  # admission decision: seniority starts here
    official_since: date | None = None
    person_id: int | None = Field(default=None, foreign_key="person.id")


class Person(SQLModel, table=True):
    """The candidate's personal data, as form 2-KNĐ asks it."""

    id: int | None = Field(default=None, primary_key=True)
    full_name: str = Field(index=True)
    birth_date: date
    gender: str  # female | male
    ethnicity: str = "Kinh"
    religion: str | None = None
    education: str | None = None
    occupation: str = "other"
    village: str | None = None
    youth_union_member: bool = False
    trade_union_member: bool = False
    national_id: str | None = Field(default=None, index=True)
    # The name folded for search (workflow/text.py `fold`): kept by the listener below,
    # so "nguyen van" finds "Nguyễn Văn …" on SQLite and PostgreSQL alike.
    name_key: str = Field(default="", index=True)


@event.listens_for(Person, "before_insert")
@event.listens_for(Person, "before_update")
def _fold_name(_mapper: Any, _connection: Any, person: Person) -> None:
    person.name_key = fold(person.full_name or "")


class Case(SQLModel, table=True):
    """One candidate's way through the procedure.

    The dates are those the rules and reports reason about; each is set by the
    event that establishes it. `head_hash` is the hash of the newest history row,
    so appending needs no extra read; `version` counts history rows.
    """

    __table_args__ = (
        Index("ix_case_state_cell", "state", "cell_id"),
        # Scoped lists and counts (`org_path LIKE '/1/4/%'`, access.visible_cases): on
        # PostgreSQL a LIKE prefix uses a btree only with the pattern operator class —
        # a grassroots officer's count went from a scan of every case to a range.
        Index(
            "ix_case_org_path_state",
            "org_path",
            "state",
            postgresql_ops={"org_path": "text_pattern_ops"},
        ),
        # Reports count by a date over a subtree: date first (the period's range), then
        # the path, so the index alone answers; the breakdown also joins the person.
        Index("ix_case_ceremony_on", "ceremony_on", "org_path", "person_id"),
        Index("ix_case_official_on", "official_on", "org_path"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    cell_id: int = Field(foreign_key="organisation.id")
    org_path: str = ""  # the cell's path, copied so scoping is one indexed prefix query
    state: str
    state_since: date | None = None  # the date of the act that brought the case into `state`
    version: int = 0
    head_hash: str = ""
    open: bool = True
    nominated_by: str = ""
    nomination_ref: str = ""
    nominated_on: date
    class_started_on: date | None = None
    certificate_on: date | None = None
    certificate_no: str | None = None
    verification_requested_on: date | None = None
    cell_resolution_on: date | None = None
    committee_resolution_on: date | None = None
    decision_on: date | None = None
    decision_no: str | None = None
    decision_received_on: date | None = None
    ceremony_on: date | None = None
    probation_end: date | None = None
    theory_class_on: date | None = None
    self_review_on: date | None = None
    helper_comment_on: date | None = None
    confirmation_cell_resolution_on: date | None = None
    official_on: date | None = None
    closed_on: date | None = None
    union_resolution_ref: str | None = None  # a union stood in for a sponsor
    failed_confirm_votes: int = 0
    escalated: bool = False
    member_id: int | None = Field(default=None, foreign_key="member.id")
    extensions: str = "{}"  # JSON {deadline id: working days granted}
    next_due: date | None = Field(default=None, index=True)
    imported: bool = False
    updated_at: NaiveDatetime | None = None


class Sponsorship(SQLModel, table=True):
    """An official member vouching for the candidate (form 3-KNĐ)."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    alongside_since: date


class HelperAssignment(SQLModel, table=True):
    """An official member who guides a probationary member (form 11-KNĐ)."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)


class CaseDeadline(SQLModel, table=True):
    """A live deadline of a case, recomputed by the engine at every transition."""

    __table_args__ = (
        UniqueConstraint("case_id", "deadline"),
        Index("ix_casedeadline_due", "due"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id")
    deadline: str
    due: date


class Course(SQLModel, table=True):
    """A class: the party awareness class, or the new members' theory class."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str  # awareness | theory
    name: str
    issuer: str = ""
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    starts_on: date
    ends_on: date | None = None


class Attendance(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("course_id", "case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)


class HistoryEvent(SQLModel, table=True):
    """One accepted event (or recorded failed vote). Never updated, never deleted."""

    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id")
    seq: int
    event: str
    outcome: str = "accepted"  # accepted | failed_vote | imported
    from_state: str | None = None
    to_state: str
    on: date
    recorded_at: NaiveDatetime  # UTC
    actor: str
    data: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON, hashed as stored
    note: str | None = None
    prev_hash: str
    hash: str
    # Where the act was recorded from when not the web: "cli:<operating-system user>".
    # Hashed only when set, so rows written before the column existed still verify.
    via: str | None = None


class CaseStay(SQLModel, table=True):
    """One stay of a case in a state it has since left: from the act that brought it in
    to the act that moved it on — the step durations and the forecast read these
    (workflow/reports), not the history.

    Derived from the history: written beside the history row that ends the stay by both
    write paths (Engine.advance, Engine.replay) through workflow/stays.py, which can
    also rebuild them from the history alone (migration 0011). The state a case is in
    now is its open stay: Case.state since Case.state_since."""

    __tablename__ = "case_stay"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    org_path: str  # the case's cell when it left: the cell that held it
    state: str
    entered_on: date
    left_on: date
    left_by: str  # the event that ended the stay
    next_state: str
    days: int
    working_days: int  # as deadlines count them: Vietnam's holidays and weekends off


# Stays that ended in a period — the step durations' histograms and the forecast's
# estimates, read from an index alone: by day for the whole tree (or a wide one), by
# path first for a subtree (its stays of ten years, not every cell's of the period).
_STAY_COLUMNS = (col(CaseStay.state), col(CaseStay.next_state), col(CaseStay.days))
Index(
    "ix_case_stay_left",
    col(CaseStay.left_on),
    col(CaseStay.org_path),
    *_STAY_COLUMNS,
    col(CaseStay.working_days),
)
Index(
    "ix_case_stay_path",
    col(CaseStay.org_path),
    col(CaseStay.left_on),
    *_STAY_COLUMNS,
    col(CaseStay.working_days),
    postgresql_ops={"org_path": "text_pattern_ops"},  # served by a LIKE 'path%' prefix
)


class LedgerEntry(SQLModel, table=True):
    """One history row, chained in commit order across every case (workflow.history.ledger).

    A case's own chain cannot show that the case was deleted whole, that its last rows
    were cut off, or that it was rewritten with every hash recomputed: this chain over all
    cases can, and signed checkpoints of its head pin it down. No foreign key to the case:
    the entry must outlive a deleted case to name it. Never updated, never deleted.
    """

    __tablename__ = "ledger"
    __table_args__ = (UniqueConstraint("case_id", "case_seq"),)

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    case_id: int
    case_seq: int
    history_hash: str
    recorded_at: NaiveDatetime  # UTC
    prev_hash: str
    hash: str


class Checkpoint(SQLModel, table=True):
    """A signed ledger head (Certificate Transparency's signed tree head): the Ed25519
    signature of (ledger seq, ledger hash, signing time) by a key kept out of the
    database. Exported and kept elsewhere by auditors. Never updated, never deleted."""

    id: int | None = Field(default=None, primary_key=True)
    ledger_seq: int
    ledger_hash: str
    signed_at: NaiveDatetime  # UTC
    key_id: str  # SHA-256 of the raw public key, hex: which key signed
    signature: str  # base64


class User(SQLModel, table=True):
    """Someone who logs in. Acts for one organisation; sponsors/helpers are members."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True)
    full_name: str = ""
    password_hash: str = ""
    role: str  # secretary | sponsor | officer | auditor | admin
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    member_id: int | None = Field(default=None, foreign_key="member.id")
    email: str | None = None
    daily_digest: bool = False
    locale: str = "vi"
    active: bool = True
    # Every session cookie and bearer token names the generation it was issued in;
    # logout and a password change bump it, so every earlier one stops working.
    session_generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class LoginAttempt(SQLModel, table=True):
    """Sign-in attempts not (yet) successful in the current window of one key: an
    account ("account:<username>"), a client address ("address:<ip>") or an account
    from one address ("pair:<ip> <username>"). One atomic upsert counts an attempt,
    so every worker process shares the counts (workflow/logins.py)."""

    __tablename__ = "login_attempt"

    key: str = Field(primary_key=True, max_length=160)
    window_start: NaiveDatetime = Field(index=True)
    attempts: int = 0


# ── reports: targets, class headcounts, villages (issue 5) ────────────────
class AdmissionTarget(SQLModel, table=True):
    """An admission target (chỉ tiêu kết nạp) an organisation sets for its subtree: for a
    calendar year, for a resolution's period (e.g. 2011–2015, "Nghị quyết 130-NQ/HU"), or
    for a congress term. Report 1 states the share of each one achieved."""

    __table_args__ = (UniqueConstraint("organisation_id", "kind", "period_start", "period_end"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    kind: str  # year | resolution | congress_term
    period_start: date
    period_end: date
    number: int
    ref: str = ""
    set_by: str = ""
    set_at: NaiveDatetime | None = None


class CourseHeadcount(SQLModel, table=True):
    """Attendees of a class as its organiser counted them: classes also teach people who
    have no case in Ketnap, so a recorded headcount replaces the count of enrolled cases."""

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", unique=True)
    attendees: int
    recorded_by: str = ""
    recorded_at: NaiveDatetime | None = None


class Village(SQLModel, table=True):
    """A village or residential group (thôn, bản, tổ dân phố) of an organisation's area.
    Villages merge and split: `established_on`/`dissolved_on` bound when one counts."""

    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    name: str
    established_on: date | None = None
    dissolved_on: date | None = None  # the first day it no longer exists


class VillageCensus(SQLModel, table=True):
    """How many party members live in a village, as counted on a date. Members are filed
    by cell, not by residence, so this count is kept by hand; the newest count on or
    before a date says whether the village had a party member then."""

    __table_args__ = (UniqueConstraint("village_id", "counted_on"),)

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="village.id", index=True)
    counted_on: date
    party_members: int


class VillageOfficial(SQLModel, table=True):
    """A village head or deputy (trưởng / phó thôn) for a term, and since when they are a
    party member (None: not a member), so the share of members is known at any date."""

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="village.id", index=True)
    role: str  # head | deputy
    full_name: str
    starts_on: date
    ends_on: date | None = None  # the last day in office
    party_member_since: date | None = None
    member_id: int | None = Field(default=None, foreign_key="member.id")


# ── the admin log (workflow/directory/admin_log.py) ───────────────────────
class AdminLogEntry(SQLModel, table=True):
    """One change of reference data (an organisation, member, user, village, class
    record or target) by an action of workflow/directory: who, when, which record, and
    each changed field old → new. Appended in the action's own transaction; never
    updated, never deleted. `org_path` is the organisation the record belongs to, so an
    auditor reads the log of their subtree with one prefix query, as cases are read."""

    __tablename__ = "admin_log"
    __table_args__ = (
        Index(
            "ix_admin_log_org_path_recorded_at",
            "org_path",
            "recorded_at",
            postgresql_ops={"org_path": "text_pattern_ops"},
        ),
        Index("ix_admin_log_recorded_at", "recorded_at"),
        Index("ix_admin_log_record", "record_table", "record_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    recorded_at: NaiveDatetime  # UTC, from the engine's clock
    # No foreign key: the log outlives what it describes and must load on its own.
    user_id: int | None = None  # None: an actor without a user row (the command line)
    username: str
    action: str  # the action's name, e.g. change_member
    record_table: str  # the changed row's table, e.g. member
    record_id: int
    org_path: str
    changes: str = Field(sa_column=Column(Text, nullable=False))  # JSON {field: {old, new}}


# ── reminders (workflow/reminders/: the sweep decides, the outbox delivers) ──
class Reminder(SQLModel, table=True):
    """One reminder of one live deadline at one stage, recorded once, ever, BEFORE delivery.

    Two sweeps at once (web workers, the web process and `ketnap scheduler`) both
    INSERT ... ON CONFLICT DO NOTHING on the key; the one whose row went in fans the
    reminder out, the other does nothing. The key holds `due`, so a deadline that
    moves (an extension) is reminded afresh; `warn` — the days before `due` of an
    `upcoming` warning, 0 for the other stages — tells the 90- and 30-day warnings
    apart; `cell_id`, so the receiving cell of a transferred case is told too.
    """

    __table_args__ = (
        UniqueConstraint(
            "case_id", "deadline", "due", "stage", "warn", "cell_id", name="uq_reminder_key"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id")
    deadline: str  # a process.DEADLINES id
    due: date
    stage: str  # a process.REMINDER_STAGES name
    warn: int = 0
    cell_id: int = Field(foreign_key="organisation.id")
    cause: str = "deadline"  # deadline | failed_votes (confirm_vote_attempts reached)
    swept_on: date  # the day (Vietnam) of the sweep that recorded it
    created_at: NaiveDatetime  # UTC


class InboxItem(SQLModel, table=True):
    """A reminder in one user's in-app inbox: open until done, or closed by the sweep
    when the deadline is met, moves, or a later stage of it arrives."""

    __table_args__ = (
        UniqueConstraint("reminder_id", "user_id"),
        Index("ix_inboxitem_user_status", "user_id", "status"),
        Index("ix_inboxitem_case_status", "case_id", "status"),
        Index("ix_inboxitem_status", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reminder_id: int = Field(foreign_key="reminder.id")
    user_id: int = Field(foreign_key="user.id")
    case_id: int = Field(foreign_key="case.id")  # copied so a case page finds its flags
    status: str = "open"  # open | done | closed
    closed_reason: str | None = None  # met | moved | superseded
    created_at: NaiveDatetime
    done_at: NaiveDatetime | None = None


class Delivery(SQLModel, table=True):
    """The outbox: one message to send for (reminder, user, channel), retried with
    back-off while the channel is down. `next_attempt_at` is also the claim: a sender
    moves it forward (a lease) in the same UPDATE that picks the row, so no two
    senders ever take the same delivery."""

    __table_args__ = (
        UniqueConstraint("reminder_id", "user_id", "channel"),
        Index("ix_delivery_status_next", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reminder_id: int = Field(foreign_key="reminder.id")
    user_id: int = Field(foreign_key="user.id")
    channel: str = "email"
    status: str = "pending"  # pending | sent | failed | cancelled
    digest: bool = False  # goes out in the user's daily digest
    attempts: int = 0
    next_attempt_at: NaiveDatetime  # UTC
    sent_at: NaiveDatetime | None = None
    last_error: str | None = None


# The sweep reads live deadlines as one range of `due` per deadline kind, and the
# (rare) cases escalated after failed confirmation votes.
Index("ix_casedeadline_deadline_due", col(CaseDeadline.deadline), col(CaseDeadline.due))
Index("ix_case_escalated", col(Case.escalated))


class SweepDay(SQLModel, table=True):
    """A day (Vietnam) whose reminder sweep completed, and when that sweep started.

    The next day's sweep then reads only the deadlines whose stage changed since — a few
    narrow `due` ranges — plus the deadlines of the cases changed since that start
    (Case.updated_at), instead of every deadline ever overdue."""

    day: date = Field(primary_key=True)
    started_at: NaiveDatetime  # UTC


# Cases changed since the last sweep (their deadlines may be new, moved or transferred).
Index("ix_case_updated_at", col(Case.updated_at))


# Reports: cases opened and closed in a period, per subtree (see ix_case_ceremony_on).
Index("ix_case_nominated_on", col(Case.nominated_on), col(Case.org_path))
Index("ix_case_closed_on", col(Case.closed_on), col(Case.org_path), col(Case.state))
# Probationary members whose probation has ended but who are not yet confirmed.
Index("ix_case_state_probation_end", col(Case.state), col(Case.probation_end), col(Case.org_path))

# Pages at a province's scale (workflow/queries: dashboard, case_list). Each serves an
# ORDER BY … LIMIT read in index order, the scope's path filtered inside the index: the
# dashboard's first cases of each state, soonest due first; the list's due cases, soonest
# first, cut by (next_due, id) cursors.
Index("ix_case_state_due", col(Case.state), col(Case.next_due), col(Case.id), col(Case.org_path))
Index("ix_case_due_id", col(Case.next_due), col(Case.id), col(Case.org_path))
# The cases waiting in each step, by the day they entered it, and whether a deadline is
# past (step durations, forecast): read in this order, nothing sorted, no row visited.
Index(
    "ix_case_state_since",
    col(Case.state),
    col(Case.org_path),
    col(Case.state_since),
    col(Case.next_due),
    col(Case.id),
)


# The tallies the database keeps by triggers (dashboard counts, the reports' months):
# their tables and triggers in workflow/tallies.py, named here with the other tables.
from workflow.tallies import DERIVED_TABLES as DERIVED_TABLES  # noqa: E402
from workflow.tallies import CaseTally as CaseTally  # noqa: E402
from workflow.tallies import CeremonyTally as CeremonyTally  # noqa: E402
from workflow.tallies import OutcomeTally as OutcomeTally  # noqa: E402


# ── imports (workflow/exchange/jobs.py: queued by the upload page, run by the scheduler) ──
class ImportJobRecord(SQLModel, table=True):
    """One uploaded import file and what became of it: queued by the page, claimed by one
    runner (an UPDATE … WHERE state = 'queued' that only one runner's row count sees),
    run outside the web worker, its report kept here. The upload and the rejected rows'
    CSV live in the configured folder, 0600, until `files_removed_at` (a week on)."""

    __tablename__ = "import_job"
    __table_args__ = (
        Index("ix_import_job_state", "state", "id"),
        Index("ix_import_job_owner_state", "owner", "state"),
        Index("ix_import_job_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner: str  # the importing user's username (the job runs as them)
    kind: str | None = None  # None: told from the columns
    mode: str  # import | dry_run | check
    file_name: str  # as uploaded (shown on the page)
    stored_name: str  # the upload's name in the imports folder
    size: int  # bytes uploaded
    state: str = "queued"  # queued | running | done | failed
    runner: str | None = None  # who claimed it (host, process, token)
    done: int = 0  # rows read so far
    total: int = 0  # rows in the file (known before the first row is read)
    rows: int = 0
    accepted: int = 0
    written: int = 0
    rejected: int = 0
    errors_omitted: int = 0  # rejected rows' errors beyond the cap, counted, not kept
    error_vi: str | None = None  # why the whole file failed
    error_en: str | None = None
    errors: str | None = Field(default=None, sa_column=Column(Text))  # JSON: the first rejections
    created_at: NaiveDatetime
    started_at: NaiveDatetime | None = None
    heartbeat_at: NaiveDatetime | None = None  # a running job's last progress
    finished_at: NaiveDatetime | None = None
    files_removed_at: NaiveDatetime | None = None


class IntegrityCheckRecord(SQLModel, table=True):
    """A whole-subtree integrity check an auditor asked for: every case chain of their
    subtree (and, for the whole database, the ledger and the signed checkpoints) checked
    in the background, its progress, and its result kept with its date and who asked
    (workflow/ops/integrity.py). The auditor's page shows the last one, never recomputes."""

    __tablename__ = "integrity_check"
    __table_args__ = (
        Index("ix_integrity_check_scope", "org_path", "id"),
        Index("ix_integrity_check_state", "state", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    requested_by: str  # the username of who asked (the check runs as them)
    org_path: str  # the subtree checked; "" the whole database
    state: str = "queued"  # queued | running | done | failed
    runner: str | None = None
    done: int = 0  # cases checked so far
    total: int = 0  # cases in the subtree when the check began
    rows: int = 0  # history rows checked
    whole: bool = False  # the ledger and the signed checkpoints were checked too
    intact: bool | None = None  # None until done
    problem_count: int = 0
    problems: str | None = Field(default=None, sa_column=Column(Text))  # JSON, the first ones
    notes: str | None = Field(default=None, sa_column=Column(Text))  # JSON [{vi, en}]
    error_vi: str | None = None
    error_en: str | None = None
    created_at: NaiveDatetime
    started_at: NaiveDatetime | None = None
    heartbeat_at: NaiveDatetime | None = None
    finished_at: NaiveDatetime | None = None


# ── a committee's task queue (workflow/directory/claims.py) ───────────────
class TaskClaim(SQLModel, table=True):
    """An officer took a step of a case from their committee's shared queue, so the
    other officers see who has it. A task is derived, never stored (workflow/waiting.py):
    a claim counts only while the case still waits for that step and the officer still
    acts for the organisation that must act — recording the step ends it by itself."""

    __tablename__ = "task_claim"
    __table_args__ = (UniqueConstraint("case_id", "event", name="uq_task_claim_step"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id")
    event: str  # a process.EVENTS name
    organisation_id: int = Field(foreign_key="organisation.id")  # the queue's committee
    user_id: int = Field(foreign_key="user.id")
    claimed_at: NaiveDatetime  # UTC


# The enrolment form's class picker (workflow.directory.classes.pickable): a kind's newest
# classes read in index order and stopped at its limit, not every class sorted.
Index("ix_course_kind_starts_on", col(Course.kind), col(Course.starts_on), col(Course.id))
# The task list's pages (workflow.queries.tasks.task_page): after the cases with a due
# date, the open cases without one, by number — few among the closed cases' million.
Index(
    "ix_case_open_undated",
    col(Case.id),
    col(Case.state),
    col(Case.org_path),
    postgresql_where=col(Case.open).is_(True) & col(Case.next_due).is_(None),
    sqlite_where=col(Case.open).is_(True) & col(Case.next_due).is_(None),
)
