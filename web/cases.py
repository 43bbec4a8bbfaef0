"""Case pages: the dashboard, the list, nomination, and one case with its event forms.

Only HTTP lives here: read the request, ask workflow.queries or the engine, render.
Every change goes through `engine.nominate` / `engine.advance`; every read is scoped
by the actor (a case outside your scope is a 404).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlmodel import Session
from werkzeug.datastructures import MultiDict

from web import diagram, forms
from web.auth import writer_required
from web.context import actor as current_actor
from web.context import engine, label, locale
from workflow import hygiene, particulars, process, waiting
from workflow.access import Actor
from workflow.directory import classes as directory_classes
from workflow.documents import case_facts
from workflow.documents import forms as official
from workflow.engine import Conflict
from workflow.models import HistoryEvent, Member
from workflow.queries import case_list
from workflow.queries.case_page import CasePage, actor_names, load_case
from workflow.queries.dashboard import overview, sponsor_tasks
from workflow.queries.recordable import may_record, recordable_events
from workflow.queries.tasks import Task, tasks_of_case
from workflow.refusal import Refusal
from workflow.schema import InvalidData
from workflow.text import Explained

bp = Blueprint("cases", __name__)
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
# What a sponsor or helper is expected to do (workflow.queries.dashboard.EXPECTATIONS).
EXPECTED: dict[str, Any] = {
    "write_comment": _l("Write your comment on the probationary member (form 11-KNĐ)"),
    "keep_guiding": _l("Keep guiding the probationary member until the end of probation"),
    "follow_candidate": _l("Follow the candidate and report to the cell before its vote"),
    "nothing": _l("Nothing is expected of you now"),
}
# The list's deadline filters the page offers (the API asks overdue=true/false).
PAGE_DEADLINES = ("overdue", "soon", "any")


# ── the dashboard ────────────────────────────────────────────────────────
@bp.route("/")
@login_required
def dashboard() -> ResponseReturnValue:
    who = current_actor()
    today = engine().clock.today()
    with engine().session() as session:
        if who.role == "sponsor":
            tasks = sponsor_tasks(session, who)
            shown = [dict(vars(t), expected=EXPECTED[t.expectation]) for t in tasks]
            return render_template("dashboard_sponsor.html", tasks=shown)
        summary = overview(session, who, today)
    return render_template(
        "dashboard.html",
        counts=summary.counts,
        open_total=summary.open_total,
        urgent=summary.urgent,
        overdue=summary.overdue,
        soon=summary.soon,
        groups=summary.groups,
        states=process.STATES,
        soon_days=case_list.SOON_DAYS,
    )


# ── the list ─────────────────────────────────────────────────────────────
def _list_filter(args: MultiDict[str, str]) -> case_list.CaseFilter:
    """The list's query string as a filter: a value the page does not offer is ignored."""
    state, deadline = args.get("state", ""), args.get("deadline", "")
    return case_list.CaseFilter(
        q=args.get("q", "").strip()[:100],
        state=state if state in case_list.STATE_FILTERS else "",
        deadline=deadline if deadline in PAGE_DEADLINES else "",
        year=_int_arg(args.get("year"), 1945, 2200),
        cell=_int_arg(args.get("cell"), 1, 2**31 - 1),
    )


def _list_args(spec: case_list.CaseFilter, **where: Any) -> dict[str, Any]:
    """The query string of a page of the list under the same filter: `page=n`, or
    `after=` / `before=` a cursor's token."""
    values = {
        "q": spec.q,
        "state": spec.state,
        "deadline": spec.deadline,
        "year": spec.year,
        "cell": spec.cell,
        **where,
    }
    if values.get("page") == 1:
        values["page"] = None
    return {k: v for k, v in values.items() if v not in (None, "")}


def _page_links(spec: case_list.CaseFilter, found: case_list.CaseListPage) -> dict[str, str]:
    """The list's previous and next links: by page number while every case is counted
    (a cheap OFFSET within COUNT_CAP), else by cursor — stable links whose cost does not
    grow with how far the reader has gone."""
    links = {}
    if found.numbered:
        if found.page > 1:
            links["previous"] = url_for("cases.index", **_list_args(spec, page=found.page - 1))
        if found.next is not None:
            links["next"] = url_for("cases.index", **_list_args(spec, page=found.page + 1))
        return links
    if found.previous is not None:
        links["previous"] = url_for("cases.index", **_list_args(spec, before=found.previous.token))
    if found.next is not None:
        links["next"] = url_for("cases.index", **_list_args(spec, after=found.next.token))
    return links


def _int_arg(raw: str | None, low: int, high: int) -> int | None:
    value = None if raw is None else hygiene.whole_number(raw)
    return value if value is not None and low <= value <= high else None


@bp.route("/cases")
@login_required
def index() -> ResponseReturnValue:
    who = current_actor()
    spec = _list_filter(request.args)
    page = _int_arg(request.args.get("page"), 1, 100000) or 1
    after = case_list.Cursor.parse(request.args.get("after"))
    before = case_list.Cursor.parse(request.args.get("before"))
    per_page = int(current_app.config["KETNAP_PAGE_SIZE"])
    today = engine().clock.today()
    with engine().session() as session:
        found = case_list.list_page(
            session,
            who,
            spec,
            today,
            page=page,
            per_page=per_page,
            soonest_first=bool(spec.deadline),
            after=after,
            before=before,
        )
        cells = case_list.cells_in_scope(session, who, limit=case_list.CELL_CHOICES + 1)
        years = case_list.nomination_years(session, who)
    return render_template(
        "cases/index.html",
        cell_choices=len(cells) <= case_list.CELL_CHOICES,
        found=found,
        total_shown=format_decimal(found.total),
        filters=spec,
        links=_page_links(spec, found),
        cells=cells,
        years=years,
        states=process.STATES,
        soon_days=case_list.SOON_DAYS,
    )


# ── nominating ───────────────────────────────────────────────────────────
@bp.route("/cases/new", methods=["GET", "POST"])
@writer_required
def new() -> ResponseReturnValue:
    who = current_actor()
    spec = process.NOMINATE
    if not may_record(who, spec):
        abort(403)
    today = engine().clock.today()
    with engine().session() as session:
        choices = forms.Choices(cells=case_list.cells_in_scope(session, who))
    defaults: dict[str, Any] = {}
    if len(choices.cells) == 1:
        defaults["cell_id"] = choices.cells[0].id
    if request.method == "GET":
        form = forms.build_form(spec, choices, defaults=defaults, today=today)
        return render_template("cases/new.html", form=form)
    try:
        data, on = forms.read_event(spec, request.form, forms.member_resolver(who))
        outcome = engine().nominate(data, who, on=on, note=request.form.get("note"))
    except (Refusal, InvalidData) as problem:
        form = forms.build_form(spec, choices, request.form, today=today, problems=problem.every())
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


# ── one case ─────────────────────────────────────────────────────────────
def _defaults(spec: process.Event, who: Actor) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    if who.member_id is not None:
        for f in spec.fields:
            if f.type == "member" and f.name == "helper_id":
                defaults[f.name] = who.member_id
    return defaults


def _asked(spec: process.Event, step: str | None, args: Mapping[str, str] | None) -> dict[str, Any]:
    """The asked step's choices preselected from the link that opened it (the
    verification's "does not meet the standards" links `?step=reject&ground=…`)."""
    if args is None or spec.name != step:
        return {}
    return {
        f.name: args[f.name]
        for f in spec.fields
        if f.type == "choice" and args.get(f.name) in f.choices
    }


@dataclass
class Step:
    """One step the reader may record on the case page: its event and, for the step the
    reader acts on (or a form sent back with its errors), its form. The other steps'
    forms are fetched when opened (GET /cases/<id>/events/<event>, `event_form`)."""

    event: process.Event
    form: forms.EventForm | None = None

    @property
    def has_errors(self) -> bool:
        return self.form is not None and self.form.has_errors


def render_case(
    page: CasePage,
    who: Actor,
    *,
    failed: tuple[str, forms.EventForm] | None = None,
    notice: str | None = None,
    status: int = 200,
    step: str | None = None,
    asked_choices: Mapping[str, str] | None = None,
    session: Session | None = None,
) -> ResponseReturnValue:
    """The case page. `session`: the one `page` was read in, else one of its own."""
    today = engine().clock.today()
    recordable = recordable_events(page.case, who)
    names = {spec.name for spec in recordable}
    problem = None
    if failed and failed[0] not in names:  # e.g. an event not allowed from this state
        problem = failed[1].form_error or next(
            (w.error for top in failed[1].widgets for w in top.walk() if w.error), None
        )
    asked = failed[0] if failed else step  # a form sent back with its errors, alone open
    with _session(session) as session:  # one connection for the page's remaining reads
        # from what the page has read: a closed case waits for no step
        case_tasks = tasks_of_case(session, who, page)
        next_steps, other_steps, open_step = _arranged(recordable, case_tasks, asked)
        built = next((s for s in (*next_steps, *other_steps) if s.event.name == open_step), None)
        if failed and failed[0] in names:
            built = next(s for s in (*next_steps, *other_steps) if s.event.name == failed[0])
            built.form = failed[1]
        elif built is not None:
            spec = built.event
            built.form = forms.build_form(
                spec,
                _choices(page, who, session, (spec,)),
                defaults=_defaults(spec, who) | _asked(spec, step, asked_choices),
                today=today,
                version=page.case.version,
            )
        actors = actor_names(session, {row.actor for row in page.rows})
    return render_template(
        "cases/show.html",
        page=page,
        case=page.case,
        person=page.person,
        recordable=names,
        next_steps=next_steps,
        other_steps=other_steps,
        open_step=open_step,
        waiting_tasks=[t for t in case_tasks if not t.mine],
        lang=locale(),
        closing=CLOSING,
        notice=notice,
        problem=problem,
        case_dates=milestones(page),
        progress=diagram.progress(page.case.state, page.rows),
        actor_names=actors,
        timeline=show_corrections(
            [
                timeline_entry(row, page.member_names, page.org_names)
                for row in sorted(page.rows, key=lambda r: (r.on, r.seq))
            ]
        ),
        read_only=who.role in ("auditor", "admin") or not recordable,
        confirmation=confirmation,
        official_forms=official_forms(page),
    ), status


@contextmanager
def _session(session: Session | None) -> Iterator[Session]:
    if session is not None:
        yield session
        return
    with engine().session() as own:
        yield own


def official_forms(page: CasePage) -> list[dict[str, Any]]:
    """The official forms of the steps the case has reached (documents/_case_forms.html),
    from what the page has read: its person, sponsors, helpers, history and the
    organisations above its cell (web/documents.py `case_form_links` reads them again)."""
    case, orgs = page.case, page.organisations
    cell = orgs.get(case.cell_id)
    if cell is None:
        return []
    above = [int(i) for i in cell.path.strip("/").split("/")[:-1] if i.isdigit()]
    authority = next((orgs[i] for i in reversed(above) if i in orgs and orgs[i].may_admit), None)
    acts: dict[str, dict[str, Any]] = {}
    dates: dict[str, date] = {}
    for row in sorted(page.rows, key=lambda r: r.seq):  # the latest act wins
        if row.outcome in case_facts.RECORDED:
            acts[row.event] = json.loads(row.data) if row.data else {}
            dates[row.event] = row.on
    facts = case_facts.CaseFacts(
        case=case,
        person=page.person,
        cell=cell,
        committee=orgs.get(cell.parent_id) if cell.parent_id is not None else None,
        authority=authority,
        sponsors=[case_facts.Sponsor(m, s.alongside_since) for s, m in page.sponsors],
        helpers=list(page.helpers),
        acts=acts,
        act_dates=dates,
    )
    english = locale() == "en"
    links = []
    for link in official.relevant(facts):
        arguments: dict[str, Any] = {"case_id": case.id, "form_name": link.slug}
        if link.sponsor_id is not None:
            arguments["sponsor"] = link.sponsor_id
        links.append(
            {
                "code": link.code,
                "title": link.title_en if english else link.title_vi,
                "sponsor": link.sponsor_name,
                "url": url_for("documents.form_docx", **arguments),
            }
        )
    return links


def _arranged(
    recordable: list[process.Event], case_tasks: list[Task], step: str | None
) -> tuple[list[Step], list[Step], str | None]:
    """The steps the case waits for, the other actions (behind one toggle), and the step
    whose form is open: the one asked for (`?step=`, as a task links it), else the
    reader's own next step, else the first next step — never an other action unasked."""
    waited = {t.event for t in case_tasks}
    next_steps = [Step(spec) for spec in recordable if spec.name in waited]
    other_steps = [Step(spec) for spec in recordable if spec.name not in waited]
    names = {spec.name for spec in recordable}
    if step in names:
        return next_steps, other_steps, step
    mine = [t.event for t in case_tasks if t.mine and t.event in names]
    if mine:
        return next_steps, other_steps, mine[0]
    return next_steps, other_steps, next_steps[0].event.name if next_steps else None


def milestones(page: CasePage) -> list[tuple[str, date]]:
    """The case's dates that are set, in the order they fell (an imported or corrected
    history may set them out of the procedure's order); ties keep the procedure's."""
    dates = [(str(text), getattr(page.case, name)) for name, text in CASE_DATES]
    return sorted(((t, d) for t, d in dates if d), key=lambda pair: pair[1])


@bp.route("/cases/<int:case_id>")
@login_required
def show(case_id: int) -> ResponseReturnValue:
    who = current_actor()
    with engine().session() as session:  # one connection for the whole page
        page = load_case(session, case_id, who)
        return render_case(
            page, who, step=request.args.get("step"), asked_choices=request.args, session=session
        )


@bp.get("/cases/<int:case_id>/events/<event_name>")
@login_required
def event_form(case_id: int, event_name: str) -> ResponseReturnValue:
    """One step's form alone, as the case page shows it: what the page's toggle fetches
    when a step other than the reader's next is opened (web/static/js/forms.js). The
    same checks as the page (a case outside the reader's scope, or a step the reader may
    not record now, is a 404); without JavaScript the page's link `?step=` opens it."""
    who = current_actor()
    spec = process.event(event_name)
    with engine().session() as session:
        page = load_case(session, case_id, who)  # 404 before anything else
        if spec is None or spec not in recordable_events(page.case, who):
            abort(404)
        form = forms.build_form(
            spec,
            _choices(page, who, session, (spec,)),
            defaults=_defaults(spec, who),
            today=engine().clock.today(),
            version=page.case.version,
        )
    waited = {e.name for e in waiting.waited_events(page.case)}
    return render_template(
        "cases/_event_form.html",
        case=page.case,
        form=form,
        recordable={e.name for e in recordable_events(page.case, who)},
        confirm=None if spec.name in waited else confirmation(spec),
    )


def confirmation(spec: process.Event) -> str:
    """What an other action asks before it is sent."""
    if spec.target in CLOSING:
        return str(_("This closes the case. Continue?"))
    return str(_("Record “%(step)s” for this case?", step=label(spec)))


@bp.route("/cases/<int:case_id>/events/<event_name>", methods=["POST"])
@writer_required
def record(case_id: int, event_name: str) -> ResponseReturnValue:
    who = current_actor()
    spec = process.event(event_name)
    with engine().session() as session:
        page = load_case(session, case_id, who)  # 404 before anything else
    if spec is None or spec is process.NOMINATE:
        abort(404)
    if not may_record(who, spec):
        abort(403)
    version = _int_arg(request.form.get("version"), 0, 2**31 - 1)
    if version is None:
        abort(400)
    try:
        resolve = forms.member_resolver(who, page.case.cell_id)
        data, on = forms.read_event(spec, request.form, resolve, forms.organisation_resolver(who))
        outcome = engine().advance(
            case_id, spec.name, data, who, version, on=on, note=request.form.get("note")
        )
    except (Refusal, InvalidData) as problem:
        status = 422 if isinstance(problem, Refusal) else 400
        return _rerender(page, who, spec, problem, status)
    except Conflict as conflict:
        with engine().session() as session:
            page = load_case(session, case_id, who)
        message = conflict.message(locale())
        still_allowed = spec in recordable_events(page.case, who)
        failed = None
        if still_allowed:
            form = _posted_form(page, who, spec, ())
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
    # to the top, where the message is (web/static/js/forms.js brings it into view)
    return redirect(url_for("cases.show", case_id=case_id))


def _posted_form(
    page: CasePage,
    who: Actor,
    spec: process.Event,
    problems: tuple[Explained, ...] | list[Explained],
) -> forms.EventForm:
    with engine().session() as session:
        choices = _choices(page, who, session, (spec,))
    choices.member_names.update(
        forms.member_names(who, forms.member_ids(spec.fields, request.form))
    )
    return forms.build_form(
        spec, choices, request.form, version=page.case.version, problems=problems
    )


def _field_types(specs: tuple[process.FieldSpec, ...]) -> set[str]:
    """Every field type of these specs, parts of objects and lists included; a field
    naming where a new class is held counts as "holder" (the class picker's)."""
    found: set[str] = set()
    for spec in specs:
        found.add("holder" if spec.name == "class_organisation_id" else spec.type)
        found |= _field_types(spec.parts)
    return found


def _choices(
    page: CasePage, who: Actor, session: Session, events: tuple[process.Event, ...]
) -> forms.Choices:
    """What the forms of `events` offer, read only when one of them asks: the class
    picker (classes and the organisations that may hold one) for a class field, the
    acting member's own name for a helper's comment. A receiving cell is found by name
    (the transfer's picker asks /api/v1/organisations?q=), members by name too (their
    pickers): neither is listed."""
    types = _field_types(tuple(f for e in events for f in e.fields))
    names: dict[int, str] = {}
    if who.member_id is not None and "member" in types:
        me = session.get(Member, who.member_id)
        if me is not None and me.id is not None:
            names[me.id] = me.full_name
    picker = directory_classes.Picker()
    kinds = tuple(sorted({f.choices[0] for e in events for f in e.fields if f.type == "class"}))
    if kinds:
        picker = directory_classes.pickable(session, page.case.cell_id, kinds)
    return forms.Choices(
        member_names=names,
        cell_id=page.case.cell_id,
        classes=picker.classes,
        holders=picker.holders,
        cell_search=True,
    )


def _rerender(
    page: CasePage,
    who: Actor,
    spec: process.Event,
    problem: Explained,
    status: int,
) -> ResponseReturnValue:
    form = _posted_form(page, who, spec, problem.every())
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


def show_corrections(entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """A correction of particulars shows each field it changed as old → new."""
    changes = particulars.corrections(sorted((e.row for e in entries), key=lambda r: r.seq))
    parts = {p.name: p for p in process.CORRECTED.parts}
    order = {name: i for i, name in enumerate(parts)}
    for entry in entries:
        if entry.row.seq not in changes:
            continue
        changed = [
            (label(parts[name]), f"{_was(parts[name], old)} → {_was(parts[name], new)}")
            for name, old, new in sorted(changes[entry.row.seq], key=lambda c: order.get(c[0], 99))
            if name in parts
        ]
        entry.facts = changed + [f for f in entry.facts if f[0] != label(process.CORRECTED)]
    return entries


def _was(spec: process.FieldSpec, value: Any) -> str:
    return "—" if value in (None, "") else _shown(spec, value, {}, {})


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
        return str(_("yes") if value else _("no"))
    if kind == "choice":
        return forms.choice_label(str(value))
    number = hygiene.whole_number(str(value))
    if kind == "member":
        return names.get(number, f"#{value}") if number is not None else str(value)
    if kind == "organisation":
        return orgs.get(number, f"#{value}") if number is not None else str(value)
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
