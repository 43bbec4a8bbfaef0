"""Reports: the pages under /reports (six reports with charts, the narrative summary,
targets, village and class records). Their JSON, CSV and XLSX answers under /api/v1 are
web/api/reports.py, which reads the request with the same `asked`, `figures_for` and
`narrative_for`.

The figures come from workflow.reports; this module only reads the request, checks who
asks (`scope.organisation_for`: an organisation outside the user's subtree is a 404,
a sponsor may not read figures) and renders. Bad query parameters are a 400 with the
field named, in Vietnamese.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from sqlmodel import Session, col, select

from web import charts, forms
from web.context import actor, dmy, engine, locale, today
from workflow import hygiene
from workflow.access import Actor, Forbidden
from workflow.directory import classes, targets, villages
from workflow.engine import NotFound
from workflow.models import Organisation
from workflow.reports import catalogue, narrative, scope
from workflow.reports.files import cell_text
from workflow.schema import InvalidData

bp = Blueprint("reports", __name__)
READERS = scope.READERS


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"cell_text": _cell_text, "iso_dmy": iso_dmy, "report_specs": catalogue.REPORTS}


def _cell_text(value: Any, kind: str) -> str:
    """A table cell at the precision the page was asked for (a bad one: the default)."""
    try:
        precision = scope.parse_precision(request.args)
    except InvalidData:
        precision = 1
    return cell_text(value, kind, precision)


def iso_dmy(value: str | None) -> str:
    """ "2025-08-31" → "31/08/2025"."""
    if not value:
        return ""
    year, month, day = value.split("-")
    return f"{day}/{month}/{year}"


# ── dates as people type them ─────────────────────────────────────────────
DATE_LABELS = {
    "from": ("Từ ngày", "From date"),
    "to": ("Đến ngày", "To date"),
    "period_start": ("Từ ngày", "From date"),
    "period_end": ("Đến ngày", "To date"),
    "starts_on": ("Ngày bắt đầu", "Starts"),
    "ends_on": ("Ngày kết thúc", "Ends"),
    "established_on": ("Ngày thành lập", "Established"),
    "dissolved_on": ("Ngày giải thể", "Dissolved on"),
    "counted_on": ("Ngày thống kê", "Counted on"),
    "party_member_since": ("Ngày vào Đảng", "Joined the Party on"),
}


def iso_dates(values: dict[str, str]) -> dict[str, str]:
    """The date fields of a posted form, typed dd/mm/yyyy (or ISO), as ISO for the
    directory actions; a date that is none is refused naming its field."""
    return {
        name: forms.iso_date(text, name, *DATE_LABELS[name])
        if name in DATE_LABELS and text
        else text
        for name, text in values.items()
    }


def _query_dates(args: Any) -> dict[str, str]:
    """The query string with `from` and `to` typed dd/mm/yyyy read as ISO; any other
    value is left for `scope.parse_query` to judge (and refuse with its own words)."""
    query = {key: args.get(key) for key in args}
    for name in ("from", "to"):
        with contextlib.suppress(InvalidData):
            query[name] = iso_dates({name: query.get(name) or ""})[name]
    return query


# ── what the request asks for (the pages and the API alike) ───────────────
def asked(who: Actor) -> tuple[Organisation, date, date]:
    """The organisation and period of the query string (400/403/404 when unacceptable);
    dates as dd/mm/yyyy (the picker) or ISO."""
    org_id, start, end = scope.parse_query(_query_dates(request.args), today())
    with engine().session() as session:
        org = scope.organisation_for(session, who, org_id)
    return org, start, end


def figures_for(name: str, who: Actor) -> dict[str, Any]:
    """Report `name` for what the query string asks; overdue is judged as of today."""
    if catalogue.report(name) is None:
        raise NotFound(name)
    org, start, end = asked(who)
    precision = scope.parse_precision(request.args)
    assert org.id is not None
    with engine().session() as session:
        return catalogue.compute(
            session, name, org.id, start, end, as_of=today(), precision=precision
        )


def narrative_for(who: Actor) -> dict[str, Any]:
    """The narrative summary of what the query string asks."""
    org, start, end = asked(who)
    precision = scope.parse_precision(request.args)
    assert org.id is not None
    with engine().session() as session:
        return narrative.narrative(session, org.id, start, end, today=today(), precision=precision)


# ── pages ─────────────────────────────────────────────────────────────────
def _organisations(session: Session, who: Actor) -> list[dict[str, Any]]:
    """The organisations the user may pick, as a tree (root first, children indented)."""
    query = select(Organisation)
    if who.role != "admin":
        query = query.where(col(Organisation.path).startswith(who.org_path or "/none/"))
    rows = list(session.exec(query).all())
    rows.sort(key=lambda o: [int(part) for part in o.path.strip("/").split("/") if part])
    return [
        {"id": o.id, "name": o.name, "depth": o.path.strip("/").count("/"), "kind": o.kind}
        for o in rows
    ]


def _picker(who: Actor, org: Organisation | None, start: date, end: date) -> dict[str, Any]:
    with engine().session() as session:
        choices = _organisations(session, who)
    base = choices[0]["depth"] if choices else 0
    for choice in choices:
        choice["indent"] = "\u2003" * (choice["depth"] - base)
    precision = request.args.get("precision", "")
    args = {"org": org.id if org else "", "from": start.isoformat(), "to": end.isoformat()}
    return {
        "organisations": choices,
        "org": org,
        "from": dmy(start),
        "to": dmy(end),
        "precision": precision if precision in ("1", "2") else "1",
        "args": args | ({"precision": "2"} if precision == "2" else {}),
    }


def _page_query(who: Actor) -> tuple[Organisation | None, date, date, str | None]:
    """Like `asked`, but a bad value is shown on the page (with a 400) instead."""
    day = today()
    try:
        org, start, end = asked(who)
        scope.parse_precision(request.args)
    except InvalidData as error:
        with engine().session() as session:
            org = scope.organisation_for(session, who, None)
        return org, date(day.year, 1, 1), day, error.message(locale())
    return org, start, end, None


@bp.get("/reports")
@login_required
def index() -> ResponseReturnValue:
    who = actor()
    org, start, end, problem = _page_query(who)
    return render_template(
        "reports/index.html",
        picker=_picker(who, org, start, end),
        problem=problem,
        may_keep=who.role in villages.KEEPERS,
    ), (400 if problem else 200)


@bp.get("/reports/summary")
@login_required
def summary() -> ResponseReturnValue:
    who = actor()
    org, start, end, problem = _page_query(who)
    told = None
    if problem is None:
        told = narrative_for(who)
    return render_template(
        "reports/summary.html", picker=_picker(who, org, start, end), problem=problem, told=told
    ), (400 if problem else 200)


@bp.get("/reports/<name>")
@login_required
def show(name: str) -> ResponseReturnValue:
    who = actor()
    spec = catalogue.report(name)
    if spec is None:
        raise NotFound(name)
    org, start, end, problem = _page_query(who)
    result = None if problem else figures_for(name, who)
    return render_template(
        "reports/report.html",
        spec=spec,
        picker=_picker(who, org, start, end),
        problem=problem,
        result=result,
        charts=_charts(result) if result else [],
    ), (400 if problem else 200)


def _charts(result: dict[str, Any]) -> list[charts.Chart]:
    name = result["name"]
    if name == "admissions":
        return _admission_charts(result)
    if name == "breakdown":
        return [
            charts.bar_chart(title, charts.share_bars(rows), key)
            for title, rows, key in (
                (
                    "Nữ, đoàn viên, dân tộc ít người",
                    [
                        {"label": "Nữ", **result["women"]},
                        {"label": "Đoàn viên TNCS Hồ Chí Minh", **result["youth_union"]},
                        {"label": "Dân tộc ít người", **result["ethnic_minorities"]},
                    ],
                    "groups",
                ),
                ("Theo lĩnh vực, nghề nghiệp", result["by_occupation"], "occupation"),
                ("Theo độ tuổi khi kết nạp", result["by_age_band"], "age"),
            )
        ]
    if name == "confirmations":
        return [
            charts.monthly_chart(
                "Công nhận đảng viên chính thức theo tháng",
                result["by_month"],
                "confirmed",
                [],
                "m",
            )
        ]
    if name == "classes":
        kinds = result["by_kind"]
        return [
            charts.bar_chart(
                "Số học viên", charts.count_bars([(k["label"], k["attendees"]) for k in kinds]), "c"
            )
        ]
    if name == "forecast":
        return [_forecast_chart(result)]
    if name == "pipeline":
        return [
            charts.bar_chart(
                "Hồ sơ theo bước",
                charts.count_bars([(r["label"], r["cases"]) for r in result["by_state"]]),
                "states",
            ),
            charts.bar_chart(
                "Quá hạn theo thời hạn",
                charts.count_bars(
                    [(d["label"], d["overdue"]) for d in result["overdue_by_deadline"]]
                ),
                "overdue",
            ),
        ]
    if name == "step_durations":
        return _duration_charts(result)
    return _village_charts(result)


def _duration_charts(result: dict[str, Any]) -> list[charts.Chart]:
    steps = result["steps"]
    return [
        charts.duration_chart(
            "Trung vị và P90 theo bước (ngày)",
            [(s["label"], s["left"]["days"]["median"], s["left"]["days"]["p90"]) for s in steps],
            "durations",
        ),
        charts.bar_chart(
            f"Hồ sơ đang chờ theo bước đến ngày {iso_dmy(result['as_of'])}",
            charts.count_bars([(s["label"], s["waiting"]["count"]) for s in steps]),
            "waiting",
        ),
    ]


def _admission_charts(result: dict[str, Any]) -> list[charts.Chart]:
    one_year = len(result["by_year"]) == 1
    lines = [
        charts.TargetLine(f"{row['label']}: {row['number']}", row["number"])
        for row in result["targets"]
        if row["number"] is not None and (row["kind"] != "year" or one_year)
    ]
    shown = [
        charts.monthly_chart(
            "Kết nạp theo tháng và lũy kế so với chỉ tiêu",
            result["by_month"],
            "admitted",
            lines,
            "a",
        )
    ]
    if result["by_unit"]:
        units = [(u["name"], u["admitted"]) for u in result["by_unit"]]
        shown.append(charts.bar_chart("Theo đơn vị", charts.count_bars(units), "units"))
    return shown


def _forecast_chart(result: dict[str, Any]) -> charts.Chart:
    rows = [
        charts.Projection(
            r["title"], r["number"], r["recorded"], r["expected"], r["low"], r["high"]
        )
        for r in result["targets"]
    ]
    return charts.forecast_chart("Dự kiến kết nạp so với chỉ tiêu", rows, "forecast")


def _village_charts(result: dict[str, Any]) -> list[charts.Chart]:
    bars = []
    for moment in result["at"]:
        for key, title in (("heads", "Trưởng thôn"), ("deputies", "Phó thôn")):
            share = moment[key]
            bars.append(
                charts.Bar(
                    f"{title} là đảng viên ({moment['label']})",
                    share["percent"] or 0,
                    f"{share['members']}/{share['total']} ({share['text']})",
                )
            )
    return [charts.bar_chart("Trưởng, phó thôn là đảng viên", bars, "v")]


# ── targets page ──────────────────────────────────────────────────────────
TARGET_FIELDS = ("organisation_id", "kind", "year", "period_start", "period_end", "number", "ref")


@dataclass
class Posted:
    """What a record page's POST left: the typed values, and the problem to show next
    to its field (with status 400) when it was refused."""

    form: dict[str, str]
    problem: tuple[str | None, str] | None = None
    status: int = 200


def _save_posted(
    fields: tuple[str, ...], save: Callable[[Session, dict[str, str]], object]
) -> Posted:
    """Read `fields` from the form and save them in one session; a bad value writes
    nothing and comes back as the problem, keeping what was typed."""
    form = {k: request.form.get(k, "").strip() for k in fields}
    try:
        typed = iso_dates(form)
        with engine().session() as session:
            save(session, typed)
    except InvalidData as error:
        return Posted(form, (error.field, error.message(locale())), 400)
    return Posted(form)


@bp.route("/reports/targets", methods=["GET", "POST"])
@login_required
def targets_page() -> ResponseReturnValue:
    who = actor()
    if who.role not in READERS:
        raise Forbidden(who.role)
    posted = Posted({})
    if request.method == "POST":
        targets.check_may_set(who)
        posted = _save_posted(
            TARGET_FIELDS,
            lambda session, form: targets.set_target(
                session, who, targets.parse(form), engine().clock.now()
            ),
        )
        if posted.problem is None:
            flash(_("Target saved."), "success")
            return redirect(url_for("reports.targets_page"))
    with engine().session() as session:
        rows = [targets.as_dict(t, o) for t, o in targets.visible(session, who)]
        choices = _organisations(session, who)
    return render_template(
        "reports/targets.html",
        rows=rows,
        organisations=choices,
        kinds=targets.KINDS,
        may_set=who.role in targets.SETTERS,
        form=posted.form,
        problem=posted.problem,
    ), posted.status


@bp.post("/reports/targets/<int:target_id>/delete")
@login_required
def delete_target_page(target_id: int) -> ResponseReturnValue:
    who = actor()
    with engine().session() as session:
        targets.delete_target(session, who, target_id, now=engine().clock.now())
    flash(_("Target deleted."), "success")
    return redirect(url_for("reports.targets_page"))


# ── village records ───────────────────────────────────────────────────────
VILLAGE_ACTIONS = {
    "add_village": ("organisation_id", "name", "established_on", "dissolved_on"),
    "dissolve": ("dissolved_on",),
    "census": ("counted_on", "party_members"),
    "add_official": ("role", "full_name", "starts_on", "ends_on", "party_member_since"),
    "update_official": ("ends_on", "party_member_since"),
}


@bp.route("/reports/village-records", methods=["GET", "POST"])
@login_required
def village_records() -> ResponseReturnValue:
    who = actor()
    if who.role not in READERS:
        raise Forbidden(who.role)
    problem, status = None, 200
    if request.method == "POST":
        if who.role not in villages.KEEPERS:
            raise Forbidden(who.role)
        try:
            _village_action(who, request.form)
            flash(_("Saved."), "success")
            return redirect(request.url)
        except InvalidData as error:
            problem, status = (error.field, error.message(locale())), 400
    org, start, end, query_problem = _page_query(who)
    on = end
    assert org is not None and org.id is not None
    with engine().session() as session:
        listed = villages.villages_of(session, who, org.id, on)
    return render_template(
        "reports/villages.html",
        picker=_picker(who, org, start, end),
        villages=listed,
        on=on,
        roles=villages.ROLES,
        may_keep=who.role in villages.KEEPERS,
        problem=problem or ((None, query_problem) if query_problem else None),
    ), (400 if query_problem else status)


def _village_action(who: Actor, form: Any) -> None:
    action = form.get("action", "")
    if action not in VILLAGE_ACTIONS:
        raise InvalidData("action", "Thao tác không hợp lệ", "Unknown action")
    data = iso_dates({k: form.get(k, "").strip() for k in VILLAGE_ACTIONS[action]})
    target = _form_id(form, "official_id" if action == "update_official" else "village_id")
    now = engine().clock.now()
    with engine().session() as session:
        if action == "add_village":
            villages.add_village(session, who, data, now=now)
        elif action == "dissolve":
            villages.dissolve(session, who, target or 0, data, now=now)
        elif action == "census":
            villages.record_census(session, who, target or 0, data, now=now)
        elif action == "add_official":
            villages.add_official(session, who, target or 0, data, now=now)
        else:
            villages.update_official(session, who, target or 0, data, now=now)


def _form_id(form: Any, field: str) -> int | None:
    text = (form.get(field) or "").strip()
    if not text:
        return None
    number = hygiene.whole_number(text)
    if number is None or number > 2**31 - 1:
        raise InvalidData(
            field,
            f"Mã '{text[:20]}' không hợp lệ (chỉ dùng chữ số 0–9)",
            f"'{text[:20]}' is not a valid id (the digits 0–9 only)",
        )
    return number


# ── class records ─────────────────────────────────────────────────────────
CLASS_FIELDS = ("kind", "name", "issuer", "organisation_id", "starts_on", "ends_on", "attendees")


@bp.route("/reports/class-records", methods=["GET", "POST"])
@login_required
def class_records() -> ResponseReturnValue:
    who = actor()
    if who.role not in READERS:
        raise Forbidden(who.role)
    posted = Posted({})
    if request.method == "POST":
        if who.role not in classes.RECORDERS:
            raise Forbidden(who.role)
        posted = _save_posted(
            CLASS_FIELDS,
            lambda session, form: classes.record_class(
                session, who, classes.parse(form), engine().clock.now()
            ),
        )
        if posted.problem is None:
            flash(_("Class recorded."), "success")
            return redirect(url_for("reports.class_records"))
    with engine().session() as session:
        org = scope.organisation_for(session, who, None)
        assert org.id is not None
        listed = classes.classes_of(session, who, org.id)
        choices = _organisations(session, who)
    return render_template(
        "reports/classes.html",
        classes=listed,
        kinds=classes.KINDS,
        organisations=choices,
        may_record=who.role in classes.RECORDERS,
        form=posted.form,
        problem=posted.problem,
    ), posted.status
