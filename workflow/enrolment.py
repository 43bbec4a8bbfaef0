"""Which class a candidate attends: the one resolution every enrolment goes through.

A class (awareness, or new-member theory) is a record owned by the organisation that
held it — usually the district, whose political centre teaches candidates of every
commune. Enrolling a candidate names the class by its id (the API, the import's
`class_id` column, the form's picker) or by its name: a name is matched to a class of
the same kind held on the cell's line of organisations or anywhere in its district, in
the same period, so candidates of many communes sent to one district class land in
that one class. Only when nothing matches is a class created, at the organisation the
user chose (one above the cell) or, by default, the district.

A core module (no subpackage import: the engine's effects call it); the class records'
own actions live in workflow/directory/classes.py, which re-exports this function.
Written against `execute` alone so a Session and a Connection both serve; or against
a `Classes` source (the bulk replay's classes in memory): the rules are the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import Connection, insert, or_, select
from sqlmodel import Session, col

from workflow.models import Attendance, Course, Organisation
from workflow.schema import InvalidData

# A class "of the same period" as an act dated `on`: it started at most BEFORE after the
# act (an enrolment recorded a little ahead of the first day) and the act falls at most
# AFTER past its last day (a theory class's certificate follows the class).
BEFORE = timedelta(days=31)
AFTER = timedelta(days=120)
KIND_LABELS = {
    "awareness": ("lớp nhận thức", "awareness class"),
    "theory": ("lớp đảng viên mới", "theory class"),
}

Executor = Session | Connection


def name_key(name: str) -> str:
    """The name as classes are matched: spaces collapsed, case folded."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class Line:
    """The cell's organisations: its ancestors (root first, the cell last) and its district."""

    paths: dict[int, str]  # id → path, for the cell and every ancestor
    district_id: int
    district_path: str


def line_of(executor: Executor, cell_id: int) -> Line:
    cell = executor.execute(
        select(col(Organisation.path)).where(col(Organisation.id) == cell_id)
    ).scalar_one_or_none()
    if cell is None:
        raise no_cell(cell_id)
    ids = _path_ids(cell)
    rows = executor.execute(
        select(col(Organisation.id), col(Organisation.path), col(Organisation.kind)).where(
            col(Organisation.id).in_(ids)
        )
    ).all()
    return _line(ids, rows)


def line_from(organisation: Callable[[int], Organisation | None], cell_id: int) -> Line | None:
    """`line_of` from a look-up of the tree (the engine's cache): no statement. None when
    there is no such cell (`line_of` then names the problem)."""
    cell = organisation(cell_id)
    if cell is None:
        return None
    ids = _path_ids(cell.path)
    found = [org for org in map(organisation, ids) if org is not None]
    return _line(ids, [(org.id, org.path, org.kind) for org in found])


def no_cell(cell_id: int) -> InvalidData:
    return InvalidData("cell_id", f"Không có chi bộ {cell_id}", f"There is no cell {cell_id}")


def _path_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


def _line(ids: list[int], rows: Sequence[Any]) -> Line:
    paths = {cast(int, i): str(p) for i, p, _ in rows}
    kinds = {cast(int, i): str(k) for i, _, k in rows}
    committees = [i for i in ids if kinds.get(i) == "committee"]
    district = committees[-1] if committees else ids[0]
    return Line(paths, district, paths[district])


class Classes(Protocol):
    """Where a class is looked up and made: the database (`Stored`), or the bulk
    replay's classes in memory."""

    def line(self, cell_id: int) -> Line: ...
    def kind_and_path(self, class_id: int) -> tuple[str, str] | None:
        """The class's kind and its holder's path; None: no such class."""

    def candidates(
        self, kind: str, on: date, line: Line
    ) -> Iterable[tuple[int, str, date, date | None, str]]:
        """(id, name, starts_on, ends_on, holder's path) of the classes of `kind` that
        started in `on`'s period (`in_period`), held on the line or in the district."""

    def create(self, values: dict[str, Any]) -> int: ...


def period(on: date) -> tuple[date, date]:
    """The first and last start of a class of `on`'s period (what `candidates` keeps
    by date: the stored query's two conditions)."""
    return on - AFTER - timedelta(days=366), on + BEFORE


def in_period(starts_on: date, on: date) -> bool:
    first, last = period(on)
    return first <= starts_on <= last


class Stored:
    """The classes in the database, on `executor`'s transaction."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor

    def line(self, cell_id: int) -> Line:
        return line_of(self.executor, cell_id)

    def kind_and_path(self, class_id: int) -> tuple[str, str] | None:
        row = self.executor.execute(
            select(col(Course.kind), col(Organisation.path))
            .join(Organisation, col(Organisation.id) == Course.organisation_id)
            .where(col(Course.id) == class_id)
        ).first()
        return None if row is None else (str(row[0]), str(row[1]))

    def candidates(
        self, kind: str, on: date, line: Line
    ) -> Iterable[tuple[int, str, date, date | None, str]]:
        return held(self.executor, kind, line, on)

    def create(self, values: dict[str, Any]) -> int:
        created = self.executor.execute(insert(Course).values(**values).returning(col(Course.id)))
        return cast(int, created.scalar_one())


def held(
    executor: Executor, kind: str, line: Line, on: date | None = None
) -> list[tuple[int, str, date, date | None, str]]:
    """(id, name, starts_on, ends_on, holder's path) of the stored classes of `kind` held
    on the line or in the district; with `on`, only those that started in its period."""
    in_scope = or_(
        col(Organisation.path).in_(list(line.paths.values())),
        col(Organisation.path).startswith(line.district_path),
    )
    period = (
        ()
        if on is None
        else (
            col(Course.starts_on) <= on + BEFORE,
            col(Course.starts_on) >= on - AFTER - timedelta(days=366),
        )
    )
    rows = executor.execute(
        select(
            col(Course.id),
            col(Course.name),
            col(Course.starts_on),
            col(Course.ends_on),
            col(Organisation.path),
        )
        .join(Organisation, col(Organisation.id) == Course.organisation_id)
        .where(col(Course.kind) == kind, *period, in_scope)
    ).all()
    return cast(list[tuple[int, str, date, date | None, str]], rows)


def class_for_enrolment(
    executor: Executor | Classes,
    kind: str,
    class_id: int | None,
    name: str | None,
    on: date,
    cell_org: int,
    *,
    issuer: str = "",
    holder_id: int | None = None,
    line: Line | None = None,
) -> int:
    """The id of the class a candidate of cell `cell_org` attends, act dated `on`.

    `class_id` names it outright; else `name` is matched (same kind, same period, held
    on the cell's line or in its district); else a class `name` is created at
    `holder_id` (the cell or an organisation above it; default: the district).
    InvalidData names the field when the choice cannot be accepted.
    """
    source = Stored(executor) if isinstance(executor, Session | Connection) else executor
    line = line or source.line(cell_org)  # `line`: the caller's, from a cached tree
    if class_id is not None:
        return _chosen(source, kind, class_id, line)
    if not name or not name.strip():
        raise InvalidData(
            "class_name",
            "Chọn một lớp đã mở hoặc ghi tên lớp",
            "Pick a recorded class or give the class's name",
        )
    found = _matching(source, kind, name, on, line)
    if found is not None:
        return found
    return _create(source, kind, name, issuer, on, holder_id, line)


def _chosen(classes: Classes, kind: str, class_id: int, line: Line) -> int:
    row = classes.kind_and_path(class_id)
    if row is None:
        raise InvalidData(
            "class_id", f"Không có lớp số {class_id}", f"There is no class {class_id}"
        )
    if row[0] != kind:
        vi, en = KIND_LABELS.get(kind, (kind, kind))
        raise InvalidData(
            "class_id", f"Lớp số {class_id} không phải {vi}", f"Class {class_id} is not an {en}"
        )
    if not reachable(str(row[1]), line):
        raise InvalidData(
            "class_id",
            f"Lớp số {class_id} do một tổ chức ngoài huyện của chi bộ mở",
            f"Class {class_id} was held outside the cell's district",
        )
    return class_id


def reachable(path: str, line: Line) -> bool:
    """A class held on the cell's line (above it) or anywhere in its district."""
    return path in line.paths.values() or path.startswith(line.district_path)


def _matching(classes: Classes, kind: str, name: str, on: date, line: Line) -> int | None:
    rows = classes.candidates(kind, on, line)
    key = name_key(name)
    ranked = sorted(
        (
            (path not in line.paths.values(), abs((starts_on - on).days), -path.count("/"), cid)
            for cid, course_name, starts_on, ends_on, path in rows
            if name_key(course_name) == key and on <= (ends_on or starts_on) + AFTER
        ),
    )
    return ranked[0][3] if ranked else None


def _create(
    classes: Classes,
    kind: str,
    name: str,
    issuer: str,
    on: date,
    holder_id: int | None,
    line: Line,
) -> int:
    holder = line.district_id if holder_id is None else holder_id
    if holder not in line.paths:
        raise InvalidData(
            "class_organisation_id",
            "Tổ chức mở lớp phải là chi bộ hoặc một tổ chức cấp trên của chi bộ",
            "The class must be held by the cell or an organisation above it",
        )
    values: dict[str, Any] = {
        "kind": kind,
        "name": " ".join(name.split()),
        "issuer": issuer or "",
        "organisation_id": holder,
        "starts_on": on,
        "ends_on": None,
    }
    return classes.create(values)


def attend(executor: Executor, course_id: int, case_id: int) -> None:
    """Count the case among the class's attendees (once, however often it is recorded)."""
    already = executor.execute(
        select(col(Attendance.id)).where(
            col(Attendance.course_id) == course_id, col(Attendance.case_id) == case_id
        )
    ).first()
    if already is None:
        executor.execute(insert(Attendance).values(course_id=course_id, case_id=case_id))
