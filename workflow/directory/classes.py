"""Classes as records: the party awareness class (lớp bồi dưỡng nhận thức về Đảng) and the
new members' political theory class (lớp bồi dưỡng lý luận chính trị cho đảng viên mới).

A class belongs to the organisation that held it (a district, a commune …), with its
dates and, when its organiser reported one, its headcount: a class teaches people who
have no case in Ketnap, and report 4 counts them all. An officer records a class here;
a case enrolling in one (effects.enrol_in_class / complete_theory_class) names it by id
or by name through `class_for_enrolment` (workflow/enrolment.py, the one resolution:
a name is matched within the cell's district and period, never duplicated per commune),
and `pickable` lists what the enrolment form's picker offers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, func, select

from workflow.access import Actor, Forbidden
from workflow.directory import admin_log, fields
from workflow.engine import NotFound
from workflow.enrolment import attend, class_for_enrolment
from workflow.models import Attendance, Course, CourseHeadcount, Organisation

KINDS = {
    "awareness": "Lớp bồi dưỡng nhận thức về Đảng",
    "theory": "Lớp bồi dưỡng lý luận chính trị cho đảng viên mới",
}
__all__ = ["attend", "class_for_enrolment"]  # the enrolment's resolution, re-exported
RECORDERS = ("officer", "admin")
PICKER_LIMIT = 200
LOGGED = ("kind", "name", "issuer", "organisation_id", "starts_on", "ends_on")


@dataclass(frozen=True)
class ClassSpec:
    kind: str
    name: str
    issuer: str
    organisation_id: int
    starts_on: date
    ends_on: date | None
    attendees: int | None


def parse(data: Any) -> ClassSpec:
    data = fields.record(
        data,
        {"kind", "name", "issuer", "organisation_id", "starts_on", "ends_on", "attendees"},
    )
    starts_on = fields.day(data, "starts_on", "Ngày khai giảng")
    ends_on = fields.day(data, "ends_on", "Ngày bế giảng", required=False)
    fields.not_before(starts_on, ends_on, "ends_on")
    assert starts_on is not None
    return ClassSpec(
        fields.choice(data, "kind", "Loại lớp", tuple(KINDS)),
        fields.text(data, "name", "Tên lớp"),
        fields.text(data, "issuer", "Đơn vị mở lớp", required=False),
        fields.identifier(data, "organisation_id", "Tổ chức"),
        starts_on,
        ends_on,
        fields.whole_number(data, "attendees", "Số học viên", maximum=100_000, required=False),
    )


def record_class(session: Session, actor: Actor, spec: ClassSpec, now: datetime) -> Course:
    """Record a class (or complete the one the engine created under the same name)."""
    check_may_record(actor)
    org = session.get(Organisation, spec.organisation_id)
    if org is None or not actor.acts_for(org.path):
        raise NotFound(spec.organisation_id)
    course = record(session, actor, spec, org.path, at=now)
    session.commit()
    session.refresh(course)
    return course


def check_may_record(actor: Actor) -> None:
    if actor.role not in RECORDERS:
        raise Forbidden(f"role {actor.role} may not record classes")


def find(session: Session, spec: ClassSpec) -> Course | None:
    """The class of the same kind, name and organisation (one the engine created from a
    case, or one recorded before), if there is one."""
    return session.exec(
        select(Course).where(
            Course.kind == spec.kind,
            Course.name == spec.name,
            Course.organisation_id == spec.organisation_id,
        )
    ).first()


def record(
    session: Session,
    actor: Actor,
    spec: ClassSpec,
    org_path: str,
    *,
    at: datetime,
    action: str = "record_class",
) -> Course:
    """Find or create the class, set its dates, issuer and headcount, and log the change
    in the caller's transaction (no commit): the one action and the import (action
    "import_class") share this path. The caller has checked the role and the scope."""
    course = find(session, spec)
    before = _logged(session, course) if course else {}
    course = course or Course(
        kind=spec.kind,
        name=spec.name,
        organisation_id=spec.organisation_id,
        starts_on=spec.starts_on,
    )
    course.issuer = spec.issuer or course.issuer
    course.starts_on, course.ends_on = spec.starts_on, spec.ends_on
    session.add(course)
    session.flush()
    assert course.id is not None
    if spec.attendees is not None:
        headcount = session.exec(
            select(CourseHeadcount).where(CourseHeadcount.course_id == course.id)
        ).first() or CourseHeadcount(course_id=course.id, attendees=spec.attendees)
        headcount.attendees = spec.attendees
        headcount.recorded_by, headcount.recorded_at = actor.username, at
        session.add(headcount)
        session.flush()
    admin_log.append(
        session,
        actor,
        action=action,
        record=course,
        org_path=org_path,
        before=before,
        after=_logged(session, course),
        at=at,
    )
    return course


def _logged(session: Session, course: Course) -> admin_log.Values:
    """The class as the admin log shows it: its fields and the recorded headcount."""
    attendees = session.exec(
        select(CourseHeadcount.attendees).where(CourseHeadcount.course_id == course.id)
    ).first()
    return admin_log.snapshot(course, LOGGED) | {"attendees": attendees}


def enrolled(session: Session, course_id: int) -> int:
    """Cases enrolled in the class through the engine."""
    query = select(func.count()).select_from(Attendance).where(Attendance.course_id == course_id)
    return int(session.exec(query).one())


def classes_of(session: Session, actor: Actor, organisation_id: int) -> list[dict[str, Any]]:
    """The classes held by organisations of a subtree, newest first, with their counts."""
    org = session.get(Organisation, organisation_id)
    if org is None or not actor.acts_for(org.path):
        raise NotFound(organisation_id)
    attendance = (
        select(col(Attendance.course_id), func.count().label("n"))
        .group_by(col(Attendance.course_id))
        .subquery()
    )
    rows = session.exec(
        select(Course, Organisation.name, CourseHeadcount.attendees, attendance.c.n)
        .join(Organisation, col(Organisation.id) == Course.organisation_id)
        .outerjoin(CourseHeadcount, col(CourseHeadcount.course_id) == Course.id)
        .outerjoin(attendance, attendance.c.course_id == Course.id)
        .where(col(Organisation.path).startswith(org.path))
        .order_by(col(Course.starts_on).desc(), col(Course.id).desc())
        .limit(500)
    ).all()
    return [
        {
            "id": course.id,
            "kind": course.kind,
            "name": course.name,
            "issuer": course.issuer,
            "organisation": org_name,
            "starts_on": course.starts_on,
            "ends_on": course.ends_on,
            "headcount": headcount,
            "enrolled": enrolled_cases or 0,
        }
        for course, org_name, headcount, enrolled_cases in rows
    ]


@dataclass(frozen=True)
class ClassChoice:
    """One class the enrolment picker offers: its name and first day tell it apart."""

    id: int
    kind: str
    name: str
    starts_on: date
    organisation: str


@dataclass(frozen=True)
class Picker:
    classes: list[ClassChoice] = field(default_factory=list)
    holders: list[Organisation] = field(default_factory=list)


def pickable(session: Session, cell_id: int, kinds: tuple[str, ...] = tuple(KINDS)) -> Picker:
    """What a case of `cell_id` may enrol in: the classes of `kinds` held on the cell's
    line or in its district, newest first (of each kind the PICKER_LIMIT newest; an older
    one is named by its number or its name), and the organisations that may hold a new
    one (the cell and those above it, top first).

    Three statements whatever the number of classes: the cell's line (which is also the
    holders), then per kind the newest classes, read in the order of the index on
    (kind, starts_on, id) and stopped at PICKER_LIMIT — not every class of the district
    sorted (a province's tree without a district level makes the province the district:
    tens of thousands of classes)."""
    path = session.exec(select(Organisation.path).where(col(Organisation.id) == cell_id)).first()
    if path is None:
        return Picker()
    ids = [int(part) for part in path.strip("/").split("/") if part]
    holders = sorted(
        session.exec(select(Organisation).where(col(Organisation.id).in_(ids))).all(),
        key=lambda o: o.path.count("/"),
    )
    committees = [o for o in holders if o.kind == "committee"]
    district = committees[-1] if committees else holders[0]
    # the line above the district, and the district's subtree (the line below included)
    above = [o.id for o in holders if not o.path.startswith(district.path)]
    in_district = select(col(Organisation.id)).where(
        col(Organisation.path).startswith(district.path)
    )
    classes: list[ClassChoice] = []
    for kind in kinds:
        rows = session.exec(
            select(Course, Organisation.name)
            .join(Organisation, col(Organisation.id) == Course.organisation_id)
            .where(
                Course.kind == kind,
                or_(
                    col(Course.organisation_id).in_(in_district),
                    col(Course.organisation_id).in_(above),
                ),
            )
            .order_by(col(Course.starts_on).desc(), col(Course.id).desc())
            .limit(PICKER_LIMIT)
        ).all()
        classes += [
            ClassChoice(course.id or 0, course.kind, course.name, course.starts_on, org_name)
            for course, org_name in rows
        ]
    return Picker(classes, list(holders))
