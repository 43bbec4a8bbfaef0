"""Case pages: the dashboard, the list, nomination, and one case with its event forms.

Every change goes through `engine.nominate` / `engine.advance`; scoping comes from
`access.visible_cases` / `engine.case_for` (a case outside your scope is a 404).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import and_, extract, func, or_
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from web import forms
from web.auth import writer_required
from web.context import actor as current_actor
from web.context import engine, label, locale
from web.security import allow_inline_styles
from workflow import access, history, process
from workflow.access import RECORDERS, Actor
from workflow.engine import Conflict
from workflow.guards import Refusal
from workflow.models import (
    Case,
    CaseDeadline,
    HelperAssignment,
    HistoryEvent,
    Member,
    Organisation,
    Person,
    Sponsorship,
)
from workflow.queries import search
from workflow.schema import InvalidData

bp = Blueprint("cases", __name__)
SOON_DAYS = 30  # "soon due" on the dashboard and in the list filter
CELL_KINDS = ("cell", "grassroots_cell")
BEFORE_CELL_VOTE = process.STATE_NAMES[: process.STATE_NAMES.index("cell_resolved")]
CLOSING = tuple(s.name for s in process.STATES if s.terminal and s.name != "official")
# The case's dates, in the order the procedure sets them.
CASE_DATES: tuple[tuple[str, Any], ...] = (
    ("nominated_on", _l("Nominated")),
    ("class_started_on", _l("Awareness class started")),
    ("certificate_on", _l("Class certificate issued")),
    ("verification_requested_on", _l("Background verification requested")),
    ("cell_resolution_on", _l("Cell resolution")),
    ("committee_resolution_on", _l("Committee resolution")),
    ("decision_on", _l("Admission decision")),
    ("decision_received_on", _l("Decision received by the cell")),
    ("ceremony_on", _l("Admission ceremony")),
    ("probation_end", _l("End of probation")),
    ("theory_class_on", _l("New-member class completed")),
    ("self_review_on", _l("Self-review")),
    ("helper_comment_on", _l("Helper's comment")),
    ("confirmation_cell_resolution_on", _l("Cell confirmation resolution")),
    ("official_on", _l("Official member since")),
    ("closed_on", _l("Closed")),
)


# ── the dashboard ────────────────────────────────────────────────────────
@bp.route("/")
@login_required
def dashboard() -> ResponseReturnValue:
    who = current_actor()
    today = engine().clock.today()
    with engine().session() as session:
        if who.role == "sponsor":
            return render_template("dashboard_sponsor.html", tasks=sponsor_tasks(session, who))
        counts = dict(
            session.exec(
                select(Case.state, func.count())
                .where(access.visible_cases(who))
                .group_by(Case.state)
            ).all()
        )
        urgent = _urgent(session, who, today)
        groups = _first_by_state(session, who, per_state=6)
    open_total = sum(n for state, n in counts.items() if state in process.OPEN_STATES)
    overdue = sum(1 for row in urgent if row.due < today)
    return render_template(
        "dashboard.html",
        counts=counts,
        open_total=open_total,
        urgent=urgent,
        overdue=overdue,
        soon=len(urgent) - overdue,
        groups=groups,
        states=process.STATES,
        soon_days=SOON_DAYS,
    )


@dataclass
class DeadlineRow:
    case_id: int
    full_name: str
    state: str
    deadline: str
    due: date
    cell: str


def _urgent(session: Session, who: Actor, today: date, limit: int = 60) -> list[DeadlineRow]:
    """Live deadlines overdue or due within SOON_DAYS, most urgent first (one query)."""
    query = (
        select(CaseDeadline, Case.state, Person.full_name, Organisation.name)
        .join(Case, col(Case.id) == CaseDeadline.case_id)
        .join(Person, col(Person.id) == Case.person_id)
        .join(Organisation, col(Organisation.id) == Case.cell_id)
        .where(access.visible_cases(who), CaseDeadline.due <= today + timedelta(days=SOON_DAYS))
        .order_by(col(CaseDeadline.due), col(CaseDeadline.case_id))
        .limit(limit)
    )
    return [
        DeadlineRow(d.case_id, name, state, d.deadline, d.due, cell)
        for d, state, name, cell in session.exec(query)
    ]


@dataclass
class CaseRow:
    id: int
    full_name: str
    state: str
    next_due: date | None
    nominated_on: date
    cell: str
    birth_date: date | None = None
    deadline: str | None = None


def _first_by_state(session: Session, who: Actor, per_state: int) -> dict[str, list[CaseRow]]:
    """The most pressing open cases of each state (one windowed query)."""
    rank = (
        func.row_number()
        .over(
            partition_by=Case.state,
            order_by=(col(Case.next_due).is_(None), col(Case.next_due), col(Case.id)),
        )
        .label("rank")
    )
    inner = (
        sql_select(
            col(Case.id).label("id"),
            col(Case.state).label("state"),
            col(Case.next_due).label("next_due"),
            col(Case.nominated_on).label("nominated_on"),
            col(Person.full_name).label("full_name"),
            col(Organisation.name).label("cell"),
            rank,
        )
        .join(Person, col(Person.id) == Case.person_id)
        .join(Organisation, col(Organisation.id) == Case.cell_id)
        .where(access.visible_cases(who), col(Case.open).is_(True))
        .subquery()
    )
    rows = session.execute(sql_select(inner).where(inner.c.rank <= per_state)).all()
    groups: dict[str, list[CaseRow]] = {}
    for row in rows:
        groups.setdefault(row.state, []).append(
            CaseRow(row.id, row.full_name, row.state, row.next_due, row.nominated_on, row.cell)
        )
    return groups


@dataclass
class SponsorTask:
    case_id: int
    full_name: str
    state: str
    role: str  # sponsor | helper
    expected: str
    due: date | None
    event: str | None = None  # the event form that records it


def sponsor_tasks(session: Session, who: Actor) -> list[SponsorTask]:
    """What a sponsor/helper is expected to do for each candidate, soonest first."""
    if who.member_id is None:
        return []
    helped = select(HelperAssignment.case_id).where(HelperAssignment.member_id == who.member_id)
    sponsored = select(Sponsorship.case_id).where(Sponsorship.member_id == who.member_id)
    query = (
        select(Case, Person.full_name)
        .join(Person, col(Person.id) == Case.person_id)
        .where(or_(col(Case.id).in_(helped), col(Case.id).in_(sponsored)))
        .order_by(col(Case.next_due).is_(None), col(Case.next_due), col(Case.id))
    )
    helped_ids = set(session.exec(helped).all())
    tasks = []
    for case, name in session.exec(query):
        assert case.id is not None
        tasks.append(_task_for(case, name, case.id in helped_ids))
    # What asks for an action first, then what still needs following, then the rest.
    return sorted(tasks, key=lambda t: (t.event is None, t.due is None, t.due or date.max))


def _task_for(case: Case, name: str, helper: bool) -> SponsorTask:
    assert case.id is not None
    if helper and case.state == "probationary" and case.helper_comment_on is None:
        return SponsorTask(
            case.id,
            name,
            case.state,
            "helper",
            _("Write your comment on the probationary member (form 11-KNĐ)"),
            case.probation_end,
            "record_helper_comment",
        )
    if helper and case.state == "probationary":
        return SponsorTask(
            case.id,
            name,
            case.state,
            "helper",
            _("Keep guiding the probationary member until the end of probation"),
            case.probation_end,
        )
    if case.open and case.state in BEFORE_CELL_VOTE:
        return SponsorTask(
            case.id,
            name,
            case.state,
            "helper" if helper else "sponsor",
            _("Follow the candidate and report to the cell before its vote"),
            None,  # no deadline of the process table belongs to a sponsor
        )
    return SponsorTask(
        case.id,
        name,
        case.state,
        "helper" if helper else "sponsor",
        _("Nothing is expected of you now"),
        None,
    )


# ── the list ─────────────────────────────────────────────────────────────
@dataclass
class Filters:
    q: str = ""
    state: str = ""
    deadline: str = ""  # overdue | soon | any
    year: int | None = None
    cell: int | None = None
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        state = args.get("state", "")
        deadline = args.get("deadline", "")
        return cls(
            q=args.get("q", "").strip()[:100],
            state=state if state in (*process.STATE_NAMES, "open", "closed") else "",
            deadline=deadline if deadline in ("overdue", "soon", "any") else "",
            year=_int_arg(args.get("year"), 1945, 2200),
            cell=_int_arg(args.get("cell"), 1, 2**31 - 1),
            page=_int_arg(args.get("page"), 1, 100000) or 1,
        )

    def args(self, **changes: Any) -> dict[str, Any]:
        values = {
            "q": self.q,
            "state": self.state,
            "deadline": self.deadline,
            "year": self.year,
            "cell": self.cell,
            "page": self.page,
        }
        values.update(changes)
        if values["page"] == 1:
            del values["page"]
        return {k: v for k, v in values.items() if v not in (None, "")}


def _int_arg(raw: str | None, low: int, high: int) -> int | None:
    if raw is None or not raw.strip().isdigit():
        return None
    value = int(raw.strip())
    return value if low <= value <= high else None


def _filtered(who: Actor, filters: Filters, today: date) -> list[Any]:
    where: list[Any] = [access.visible_cases(who)]
    if filters.q:
        where.append(search.person_matches(filters.q))
    if filters.state == "open":
        where.append(col(Case.open).is_(True))
    elif filters.state == "closed":
        where.append(col(Case.open).is_(False))
    elif filters.state:
        where.append(Case.state == filters.state)
    if filters.deadline == "overdue":
        where.append(col(Case.next_due) < today)
    elif filters.deadline == "soon":
        where.append(
            and_(col(Case.next_due) >= today, col(Case.next_due) <= today + timedelta(SOON_DAYS))
        )
    elif filters.deadline == "any":
        where.append(col(Case.next_due).is_not(None))
    if filters.year:
        where.append(extract("year", col(Case.nominated_on)) == filters.year)
    if filters.cell:
        where.append(Case.cell_id == filters.cell)
    return where


@bp.route("/cases")
@login_required
def index() -> ResponseReturnValue:
    who = current_actor()
    today = engine().clock.today()
    filters = Filters.from_args(request.args)
    per_page = int(current_app.config["KETNAP_PAGE_SIZE"])
    where = _filtered(who, filters, today)
    with engine().session() as session:
        total = _count_capped(session, where, searching=bool(filters.q))
        order = (
            (col(Case.next_due).is_(None), col(Case.next_due), col(Case.id))
            if filters.deadline
            else (col(Case.id).desc(),)
        )
        query = (
            select(Case, Person, Organisation.name)
            .join(Person, col(Person.id) == Case.person_id)
            .join(Organisation, col(Organisation.id) == Case.cell_id)
            .where(*where)
            .order_by(*order)
            .limit(per_page)
            .offset((filters.page - 1) * per_page)
        )
        rows = []
        for case, person, cell in session.exec(query):
            assert case.id is not None
            rows.append(
                CaseRow(
                    case.id,
                    person.full_name,
                    case.state,
                    case.next_due,
                    case.nominated_on,
                    cell,
                    person.birth_date,
                )
            )
        _attach_deadlines(session, rows)
        cells = _cells_in_scope(session, who)
        years = _years(session, who)
    pages = max(1, -(-min(total, COUNT_CAP) // per_page))
    return render_template(
        "cases/index.html",
        rows=rows,
        total=total,
        count_cap=COUNT_CAP,
        filters=filters,
        page=filters.page,
        pages=pages,
        cells=cells,
        years=years,
        states=process.STATES,
        soon_days=SOON_DAYS,
    )


# Counting a province's million cases exactly costs seconds and tells a reader nothing
# a filter would not: past the cap the page says "more than" and pages stop there.
COUNT_CAP = 10_000


def _count_capped(session: Session, where: list[Any], searching: bool) -> int:
    """How many cases match, up to COUNT_CAP + 1 (Person is joined only for a search)."""
    matching = select(col(Case.id)).where(*where)
    if searching:
        matching = matching.join(Person, col(Person.id) == Case.person_id)
    capped = matching.limit(COUNT_CAP + 1).subquery()
    return int(session.exec(select(func.count()).select_from(capped)).one())


def _attach_deadlines(session: Session, rows: list[CaseRow]) -> None:
    """Name each row's next deadline: one query for the whole page."""
    wanted = {(r.id, r.next_due) for r in rows if r.next_due}
    if not wanted:
        return
    query = select(CaseDeadline).where(col(CaseDeadline.case_id).in_([i for i, _ in wanted]))
    names: dict[int, str] = {}
    for d in session.exec(query):
        if (d.case_id, d.due) in wanted:
            names.setdefault(d.case_id, d.deadline)
    for row in rows:
        row.deadline = names.get(row.id)


def _cells_in_scope(session: Session, who: Actor) -> list[Organisation]:
    query = select(Organisation).where(col(Organisation.kind).in_(CELL_KINDS))
    if who.role != "admin":
        if not who.org_path:
            return []
        query = query.where(col(Organisation.path).startswith(who.org_path))
    return list(session.exec(query.order_by(col(Organisation.name))))


def _years(session: Session, who: Actor) -> list[int]:
    """The nomination years to filter by, newest first: from the first to the last
    nomination in scope (two index look-ups, not a DISTINCT over every case)."""
    first, last = session.exec(
        select(func.min(Case.nominated_on), func.max(Case.nominated_on)).where(
            access.visible_cases(who)
        )
    ).one()
    if first is None or last is None:
        return []
    return list(range(last.year, first.year - 1, -1))


# ── nominating ───────────────────────────────────────────────────────────
@bp.route("/cases/new", methods=["GET", "POST"])
@writer_required
def new() -> ResponseReturnValue:
    who = current_actor()
    spec = process.NOMINATE
    if who.role not in RECORDERS[spec.acted_by]:
        abort(403)
    today = engine().clock.today()
    with engine().session() as session:
        choices = forms.Choices(cells=_cells_in_scope(session, who))
    defaults: dict[str, Any] = {}
    if len(choices.cells) == 1:
        defaults["cell_id"] = choices.cells[0].id
    if request.method == "GET":
        form = forms.build_form(spec, choices, defaults=defaults, today=today)
        return render_template("cases/new.html", form=form)
    try:
        data = forms.data_from_form(spec.fields, request.form)
        on = _on(request.form.get("on", ""), spec)
        outcome = engine().nominate(data, who, on=on, note=request.form.get("note"))
    except (Refusal, InvalidData) as problem:
        error, where = forms.error_of(problem, locale())
        form = forms.build_form(spec, choices, request.form, error, where, today=today)
        status = 422 if isinstance(problem, Refusal) else 400
        return render_template("cases/new.html", form=form), status
    flash(
        _(
            "Case no. %(id)s opened for %(name)s.",
            id=outcome.case.id,
            name=data["person"]["full_name"],
        ),
        "success",
    )
    return redirect(url_for("cases.show", case_id=outcome.case.id))


def _on(raw: str, spec: process.Event) -> str:
    if not raw.strip():
        raise InvalidData("on", f"Thiếu '{spec.on_label_vi}'", f"'{spec.on_label_en}' is required")
    return forms.iso_date(raw, "on", spec.on_label_vi, spec.on_label_en)


# ── one case ─────────────────────────────────────────────────────────────
@dataclass
class CasePage:
    case: Case
    person: Person
    cell: Organisation | None
    sponsors: list[tuple[Sponsorship, Member]]
    helpers: list[Member]
    deadlines: list[CaseDeadline]
    rows: list[HistoryEvent]
    members: list[Member]
    chain: history.ChainCheck
    member_names: dict[int, str] = field(default_factory=dict)
    org_names: dict[int, str] = field(default_factory=dict)


def load_case(session: Session, case_id: int, who: Actor) -> CasePage:
    """Everything the case page shows, in a handful of queries (404 outside scope)."""
    case = engine().case_for(session, case_id, who)
    person = session.get(Person, case.person_id)
    assert person is not None
    sponsors = list(
        session.exec(
            select(Sponsorship, Member)
            .join(Member, col(Member.id) == Sponsorship.member_id)
            .where(Sponsorship.case_id == case_id)
        ).all()
    )
    helpers = list(
        session.exec(
            select(Member)
            .join(HelperAssignment, col(HelperAssignment.member_id) == Member.id)
            .where(HelperAssignment.case_id == case_id)
        ).all()
    )
    deadlines = list(
        session.exec(
            select(CaseDeadline)
            .where(CaseDeadline.case_id == case_id)
            .order_by(col(CaseDeadline.due))
        ).all()
    )
    rows = history.rows_of(session, case_id)
    members = list(
        session.exec(
            select(Member).where(Member.cell_id == case.cell_id).order_by(col(Member.full_name))
        ).all()
    )
    names = {m.id: m.full_name for m in members if m.id is not None}
    for _s, m in sponsors:
        names.setdefault(m.id or 0, m.full_name)
    for m in helpers:
        names.setdefault(m.id or 0, m.full_name)
    chain = history.verify_rows(case_id, rows, case.head_hash, case.state)
    org_names = _organisations_named(session, rows, case.cell_id)
    return CasePage(
        case,
        person,
        session.get(Organisation, case.cell_id),
        sponsors,
        helpers,
        deadlines,
        rows,
        members,
        chain,
        names,
        org_names,
    )


def _organisations_named(
    session: Session, rows: list[HistoryEvent], cell_id: int
) -> dict[int, str]:
    """Names of the case's cell and of the organisations its timeline mentions
    (transfers): one query for those few, not the whole tree."""
    ids = {cell_id}
    for row in rows:
        spec = process.event(row.event)
        data = json.loads(row.data)
        for field_spec in spec.fields if spec else ():
            value = data.get(field_spec.name)
            if field_spec.type == "organisation" and isinstance(value, int):
                ids.add(value)
    query = select(Organisation.id, Organisation.name).where(col(Organisation.id).in_(ids))
    return {org_id: name for org_id, name in session.exec(query) if org_id is not None}


def recordable_events(case: Case, who: Actor) -> list[process.Event]:
    """Events allowed from the case's state AND recordable by the user's role."""
    return [e for e in process.allowed_events(case.state) if who.role in RECORDERS[e.acted_by]]


def _defaults(spec: process.Event, who: Actor) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    if who.member_id is not None:
        for f in spec.fields:
            if f.type == "member" and f.name == "helper_id":
                defaults[f.name] = who.member_id
    return defaults


def render_case(
    page: CasePage,
    who: Actor,
    *,
    failed: tuple[str, forms.EventForm] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    today = engine().clock.today()
    with engine().session() as session:
        cells = _all_cells(session)
    choices = forms.Choices(members=page.members, cells=cells)
    event_forms = []
    for spec in recordable_events(page.case, who):
        if failed and failed[0] == spec.name:
            event_forms.append(failed[1])
            continue
        event_forms.append(
            forms.build_form(
                spec,
                choices,
                defaults=_defaults(spec, who),
                today=today,
                version=page.case.version,
            )
        )
    shown = {f.event.name for f in event_forms}
    problem = None
    if failed and failed[0] not in shown:  # e.g. an event not allowed from this state
        problem = failed[1].form_error or next(
            (w.error for top in failed[1].widgets for w in top.walk() if w.error), None
        )
    primary = next(
        (f.event.name for f in event_forms if f.event.target and f.event.target not in CLOSING),
        event_forms[0].event.name if event_forms else None,
    )
    allow_inline_styles()
    return render_template(
        "cases/show.html",
        page=page,
        case=page.case,
        person=page.person,
        event_forms=event_forms,
        primary=primary,
        closing=CLOSING,
        notice=notice,
        problem=problem,
        case_dates=[(str(text), getattr(page.case, name)) for name, text in CASE_DATES],
        diagram=process.mermaid(highlight=page.case.state, locale=locale()),
        timeline=[timeline_entry(row, page.member_names, page.org_names) for row in page.rows],
        read_only=who.role in ("auditor", "admin") or not event_forms,
    ), status


def _all_cells(session: Session) -> list[Organisation]:
    query = select(Organisation).where(col(Organisation.kind).in_(CELL_KINDS))
    return list(session.exec(query.order_by(col(Organisation.name))))


@bp.route("/cases/<int:case_id>")
@login_required
def show(case_id: int) -> ResponseReturnValue:
    who = current_actor()
    with engine().session() as session:
        page = load_case(session, case_id, who)
    return render_case(page, who)


@bp.route("/cases/<int:case_id>/events/<event_name>", methods=["POST"])
@writer_required
def record(case_id: int, event_name: str) -> ResponseReturnValue:
    who = current_actor()
    spec = process.event(event_name)
    with engine().session() as session:
        page = load_case(session, case_id, who)  # 404 before anything else
    if spec is None or spec is process.NOMINATE:
        abort(404)
    if who.role not in RECORDERS[spec.acted_by]:
        abort(403)
    version = _int_arg(request.form.get("version"), 0, 2**31 - 1)
    if version is None:
        abort(400)
    try:
        data = forms.data_from_form(spec.fields, request.form)
        on = _on(request.form.get("on", ""), spec)
        outcome = engine().advance(
            case_id, spec.name, data, who, version, on=on, note=request.form.get("note")
        )
    except (Refusal, InvalidData) as problem:
        error, where = forms.error_of(problem, locale())
        status = 422 if isinstance(problem, Refusal) else 400
        return _rerender(page, who, spec, error, where, status)
    except Conflict as conflict:
        with engine().session() as session:
            page = load_case(session, case_id, who)
        message = conflict.message_en if locale() == "en" else conflict.message_vi
        still_allowed = spec in recordable_events(page.case, who)
        failed = None
        if still_allowed:
            form = _posted_form(page, spec, None, None)
            failed = (spec.name, form)
        return render_case(page, who, failed=failed, notice=message, status=409)
    if outcome.failed_vote is not None:
        flash(
            _(
                "The vote was recorded but did not pass: %(why)s",
                why=outcome.failed_vote.message(locale()),
            ),
            "warning",
        )
    else:
        flash(_("Recorded: %(event)s.", event=label(spec)), "success")
    return redirect(url_for("cases.show", case_id=case_id) + "#timeline")


def _posted_form(
    page: CasePage, spec: process.Event, error: forms.FieldError | None, where: str | None
) -> forms.EventForm:
    with engine().session() as session:
        cells = _all_cells(session)
    choices = forms.Choices(members=page.members, cells=cells)
    return forms.build_form(spec, choices, request.form, error, where, version=page.case.version)


def _rerender(
    page: CasePage,
    who: Actor,
    spec: process.Event,
    error: forms.FieldError,
    where: str | None,
    status: int,
) -> ResponseReturnValue:
    form = _posted_form(page, spec, error, where)
    return render_case(page, who, failed=(spec.name, form), status=status)


# ── the timeline ─────────────────────────────────────────────────────────
@dataclass
class TimelineEntry:
    row: HistoryEvent
    title: str
    facts: list[tuple[str, str]]


def timeline_entry(
    row: HistoryEvent, member_names: dict[int, str], org_names: dict[int, str] | None = None
) -> TimelineEntry:
    spec = process.event(row.event)
    try:
        data = json.loads(row.data or "{}")
    except ValueError:
        data = {}
    facts = describe(spec.fields if spec else (), data, member_names, org_names or {})
    return TimelineEntry(row, label(spec) if spec else row.event, facts)


def describe(
    specs: tuple[process.FieldSpec, ...],
    data: dict[str, Any],
    names: dict[int, str],
    orgs: dict[int, str] | None = None,
) -> list[tuple[str, str]]:
    """(label, shown value) for each datum of an event, as its field specs say."""
    facts = []
    for spec in specs:
        value = data.get(spec.name)
        if value in (None, "", [], {}):
            continue
        facts.append((label(spec), _shown(spec, value, names, orgs or {})))
    return facts


def _shown(spec: process.FieldSpec, value: Any, names: dict[int, str], orgs: dict[int, str]) -> str:
    kind = spec.type
    if kind == "date":
        try:
            return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
        except ValueError:
            return str(value)
    if kind == "bool":
        return _("yes") if value else _("no")
    if kind == "choice":
        return forms.choice_label(str(value))
    if kind == "member":
        return names.get(int(value), f"#{value}") if str(value).isdigit() else str(value)
    if kind == "organisation":
        return orgs.get(int(value), f"#{value}") if str(value).isdigit() else str(value)
    if kind == "members":
        member = process.FieldSpec("", "member", "", "")
        return ", ".join(_shown(member, v, names, orgs) for v in value)
    if kind == "object" and isinstance(value, dict):
        return "; ".join(f"{a}: {b}" for a, b in describe(spec.parts, value, names, orgs))
    if kind == "list" and isinstance(value, list):
        return " | ".join(
            "; ".join(f"{a}: {b}" for a, b in describe(spec.parts, item, names, orgs))
            for item in value
            if isinstance(item, dict)
        )
    return str(value)


@bp.app_context_processor
def _form_helpers() -> dict[str, Any]:
    return {"choice_label": forms.choice_label, "status_label": forms.status_label}


bp.add_app_template_filter(forms.status_label, "status_label")
