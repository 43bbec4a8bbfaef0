"""Export of cases and members to CSV (UTF-8) or XLSX, scoped by who asks.

The columns are the import's layout (layouts.py), preceded by a few read-only
ones (case id, state, cell name …) that the import ignores: an exported file can be
read back into another Ketnap, or corrected and compared. Rows are read in batches by
id and written as they come, so an export of a million cases never sits in memory.

A file for people to read (`labels="vi"` or `"en"`: the web download, `ketnap export
--labels`) heads its columns with their labels and writes choices as their labels
("Nữ", "Nông dân"), yes/no as có/không and, in a CSV, dates as DD/MM/YYYY; the import
reads every one of these back (choices.py, readers.match_header), so the round trip
holds either way. Without labels the file holds the codes, for scripts.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import date
from typing import IO, Any

from sqlalchemy import ColumnElement
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from workflow import access, hygiene, process
from workflow.access import Actor
from workflow.documents import case_facts
from workflow.documents.case_facts import CaseFacts, Organisations
from workflow.engine import Engine
from workflow.exchange import layouts
from workflow.models import Case, Member, Organisation, Person
from workflow.text import Text

WHAT = ("cases", "members")
FORMATS = ("csv", "xlsx")
MEMBER_READERS = access.MEMBER_LISTERS
BATCH = 1000
FORMULA_START = hygiene.FORMULA_START  # what a spreadsheet would run as a formula


LABELS = ("vi", "en")  # the languages an export with labels is written in
Row = list[Any]


def header(what: str, labels: str | None = None) -> list[str]:
    """The columns' names, or their labels in the language `labels` names."""
    names = list(layouts.INFORMATIONAL[what]) + layouts.columns(what)
    if labels is None:
        return names
    return [layouts.column_label(what, name, labels) for name in names]


def readable(what: str, labels: str | None, fmt: str) -> Callable[[Row], Row]:
    """A row's values as people read them: choices and states as their labels, yes/no in
    the language, dates DD/MM/YYYY in a CSV (an XLSX keeps real dates). Codes unchanged
    when `labels` is None."""
    if labels is None:
        return lambda row: row
    convert = [_shown(what, name, labels) for name in header(what)]
    yes, no = ("có", "không") if labels == "vi" else ("yes", "no")

    def value(convert_one: Callable[[Any], Any], v: Any) -> Any:
        if isinstance(v, bool):
            return yes if v else no
        if isinstance(v, date) and fmt == "csv":
            return f"{v:%d/%m/%Y}"
        return convert_one(v)

    return lambda row: [value(c, v) for c, v in zip(convert, row, strict=True)]


# ── cases ─────────────────────────────────────────────────────────────────
def case_rows(session: Session, actor: Actor) -> Iterator[list[Any]]:
    """Every case the actor may read, oldest first, as values in `header("cases")` order."""
    columns = header("cases")
    organisations = Organisations(session)
    last_id = 0
    while True:
        cases = list(
            session.exec(
                select(Case)
                .where(access.visible_cases(actor), col(Case.id) > last_id)
                .order_by(col(Case.id))
                .limit(BATCH)
            )
        )
        if not cases:
            return
        for facts in case_facts.load_many(session, cases, organisations):
            values = case_values(facts)
            yield [values.get(c) for c in columns]
        last_id = cases[-1].id or last_id
        session.expunge_all()  # a long export must not grow the identity map


def case_values(facts: CaseFacts) -> dict[str, Any]:
    """One case as the import layout's columns (the inverse of plan_cases.plan_case)."""
    case, person = facts.case, facts.person
    values: dict[str, Any] = {
        "case_id": case.id,
        "state": case.state,
        "cell_name": facts.cell.name,
        "imported": case.imported,
        "next_due": case.next_due,
        "full_name": person.full_name,
        "birth_date": person.birth_date,
        "gender": person.gender,
        "ethnicity": person.ethnicity,
        "religion": person.religion,
        "education": person.education,
        "occupation": person.occupation,
        "village": person.village,
        "youth_union_member": person.youth_union_member,
        "trade_union_member": person.trade_union_member,
        "national_id": person.national_id,
        "cell": case.cell_id,
        "nominated_on": case.nominated_on,
        "nominated_by": case.nominated_by,
        "nomination_ref": case.nomination_ref,
        "target_state": case.state,
    }
    steps = (*layouts.MAIN_STEPS, *layouts.PROBATION_STEPS, *layouts.CLOSING_STEPS.values())
    for layout in steps:
        if layout.event not in facts.act_dates:
            continue
        values[layout.date_column] = facts.act_dates[layout.event]
        for name, column in layout.fields:
            value = facts.act(layout.event, name)
            values[column] = _day(value) if column in layouts.DATE_COLUMNS else value
    values.update(_special_values(facts))
    return values


def _special_values(facts: CaseFacts) -> dict[str, Any]:
    """The columns a step's data does not hold one to one."""
    values: dict[str, Any] = {}
    for n, sponsor in enumerate(facts.sponsors[:2], start=1):
        values[f"sponsor{n}"] = sponsor.member.id
        values[f"sponsor{n}_since"] = sponsor.alongside_since
    union = facts.act("assign_sponsors", "union_resolution")
    if isinstance(union, dict):
        values["union_resolution_kind"] = union.get("kind")
        values["union_resolution_ref"] = union.get("ref")
        values["union_resolution_on"] = _day(union.get("dated"))
    for name in ("application_on", "declaration_on", "introductions_on", "comments_on"):
        values[name] = _day(facts.act("submit_dossier", name))
    if facts.act("submit_dossier", "union_resolution_on"):
        values["union_resolution_on"] = _day(facts.act("submit_dossier", "union_resolution_on"))
    requested = facts.act("verify_background", "requests_sent_on")
    values["verification_requested_on"] = _day(requested) or facts.case.verification_requested_on
    if facts.helpers:
        values["helper"] = facts.helpers[0].id
    return values


def _day(value: Any) -> date | None:
    if isinstance(value, date) or value is None:
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


# ── members ───────────────────────────────────────────────────────────────
def member_rows(session: Session, actor: Actor) -> Iterator[list[Any]]:
    """The members the actor may list (access.listed_members, the rule of the API's
    member list too): Forbidden to a sponsor; every member for an admin."""
    visible = access.listed_members(actor)  # raises before the first row is asked for
    return _member_rows(session, visible)


def _member_rows(session: Session, visible: ColumnElement[bool]) -> Iterator[list[Any]]:
    """One query, streamed in batches: the reader rule's subqueries (the links of the
    actor's cases) are evaluated once, not once per batch as a keyset loop would. Plain
    columns, no ORM objects: nothing accumulates in the session however long the list."""
    columns = header("members")
    names = {org.id: org.name for org in session.exec(select(Organisation)) if org.id is not None}
    query = (
        sql_select(
            col(Member.id),
            col(Member.cell_id),
            col(Member.full_name),
            col(Member.status),
            col(Member.joined_on),
            col(Member.official_since),
            col(Person.birth_date),
            col(Person.gender),
            col(Person.national_id),
        )
        .outerjoin(Person, col(Person.id) == Member.person_id)
        .where(visible)
        .order_by(col(Member.id))
        .execution_options(yield_per=BATCH)
    )
    for row in session.execute(query):
        values = {
            "member_id": row.id,
            "cell_name": names.get(row.cell_id),
            "full_name": row.full_name,
            "cell": row.cell_id,
            "status": row.status,
            "joined_on": row.joined_on,
            "official_since": row.official_since,
            "birth_date": row.birth_date,
            "gender": row.gender,
            "national_id": row.national_id,
        }
        yield [values.get(c) for c in columns]


# ── writing ───────────────────────────────────────────────────────────────
def cell_text(value: Any) -> Any:
    """A value for a CSV cell: ISO dates, yes/no, and no text a spreadsheet would run."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return hygiene.formula_safe(value)  # the import strips the apostrophe again


def csv_chunks(columns: list[str], rows: Iterator[list[Any]]) -> Iterator[str]:
    """The CSV as text chunks (UTF-8 with a BOM so spreadsheet programs read Vietnamese)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(columns)
    for n, row in enumerate(rows, start=1):
        writer.writerow([cell_text(v) for v in row])
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(columns: list[str], rows: Iterator[list[Any]], out: IO[bytes], title: str) -> int:
    """An XLSX workbook in openpyxl's streaming (write-only) mode; returns the row count."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    bold = Font(bold=True)
    heading = []
    for name in columns:
        cell = WriteOnlyCell(sheet, value=hygiene.xml_text(name))
        cell.font = bold
        heading.append(cell)
    sheet.append(heading)
    count = 0
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "DD/MM/YYYY"
                cells.append(cell)
            elif isinstance(value, bool):
                cells.append(WriteOnlyCell(sheet, value="yes" if value else "no"))
            else:
                cells.append(WriteOnlyCell(sheet, value=_xlsx_text(value)))
        sheet.append(cells)
        count += 1
    book.save(out)
    return count


def _xlsx_text(value: Any) -> Any:
    """A cell of text or a number: formula-safe, without what XML cannot hold (a control
    character stored before Ketnap refused them)."""
    if value is None:
        return None
    shown = cell_text(value)
    return hygiene.xml_text(shown) if isinstance(shown, str) else shown


def _shown(what: str, name: str, labels: str) -> Callable[[Any], Any]:
    """How a column's value is shown in an export with labels."""
    choices = layouts.CHOICES[what].get(name)
    if choices is not None:
        return lambda v: choices.label(v, labels) if isinstance(v, str) else v
    if name == "state":
        return lambda v: Text(process.state(v).label_vi, process.state(v).label_en).say(labels)
    return lambda v: v


def rows_of(
    session: Session, actor: Actor, what: str, fmt: str, labels: str | None = None
) -> Iterator[Row]:
    """The rows of an export, as `readable` writes them."""
    rows = case_rows(session, actor) if what == "cases" else member_rows(session, actor)
    shown = readable(what, labels, fmt)
    return (shown(row) for row in rows)


def export(
    engine: Engine, actor: Actor, what: str, fmt: str, out: IO[bytes], labels: str | None = None
) -> int:
    """Write the export to a binary stream; returns the number of rows."""
    if what not in WHAT or fmt not in FORMATS or labels not in (None, *LABELS):
        raise ValueError(f"cannot export {what} as {fmt} ({labels})")
    with engine.session() as session:
        rows = rows_of(session, actor, what, fmt, labels)
        columns = header(what, labels)
        if fmt == "xlsx":
            return write_xlsx(columns, rows, out, what)
        count = 0

        def counted() -> Iterator[list[Any]]:
            nonlocal count
            for row in rows:
                count += 1
                yield row

        for chunk in csv_chunks(columns, counted()):
            out.write(chunk.encode("utf-8"))
        return count
