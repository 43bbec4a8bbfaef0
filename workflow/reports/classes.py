"""Report 4, classes and attendees: awareness and new-member theory classes held in the
subtree in the period, their attendees, and the subtree's own candidates sent to one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, or_, select
from sqlmodel import Session, col

from workflow.directory.classes import KINDS as CLASS_KINDS
from workflow.models import Attendance, Case, Course, CourseHeadcount, Organisation
from workflow.reports.period import Period
from workflow.reports.scope import Subtree
from workflow.reports.sql import between, in_subtree
from workflow.reports.tables import table

CLASS_LIST_LIMIT = 1000


def classes(session: Session, org: Subtree, period: Period) -> dict[str, Any]:
    """Classes held by organisations of the subtree that started in the period.

    A class's attendees are its recorded headcount when the organiser reported one
    (it includes people without a case), else the cases enrolled through the engine.
    """
    per_class = (
        select(
            col(Course.kind).label("kind"),
            func.coalesce(col(CourseHeadcount.attendees), _enrolled()).label("attendees"),
        )
        .join(Organisation, col(Organisation.id) == Course.organisation_id)
        .outerjoin(CourseHeadcount, col(CourseHeadcount.course_id) == Course.id)
        .where(in_subtree(Organisation.path, org), between(Course.starts_on, period))
        .subquery()
    )
    totals = {
        kind: (int(n), int(people or 0))
        for kind, n, people in session.execute(
            select(per_class.c.kind, func.count(), func.sum(per_class.c.attendees)).group_by(
                per_class.c.kind
            )
        ).all()
    }
    candidates = _candidates_in_class(session, org, period)
    kinds = [
        {
            "kind": kind,
            "label": label,
            "classes": totals.get(kind, (0, 0))[0],
            "attendees": totals.get(kind, (0, 0))[1],
            "candidates_of_subtree": int(candidates.get(kind, 0)),
        }
        for kind, label in CLASS_KINDS.items()
    ]
    listed = _class_list(session, org, period)
    result: dict[str, Any] = {"by_kind": kinds, "classes": listed}
    result["tables"] = [
        table(
            "Số lớp và số học viên",
            [
                ("Loại lớp", "text"),
                ("Số lớp", "int"),
                ("Số học viên", "int"),
                ("Trong đó hồ sơ của đơn vị", "int"),
            ],
            [[k["label"], k["classes"], k["attendees"], k["candidates_of_subtree"]] for k in kinds],
        ),
        table(
            "Danh sách lớp",
            [
                ("Loại lớp", "text"),
                ("Tên lớp", "text"),
                ("Đơn vị mở lớp", "text"),
                ("Tổ chức", "text"),
                ("Khai giảng", "text"),
                ("Bế giảng", "text"),
                ("Học viên", "int"),
            ],
            [
                [
                    CLASS_KINDS.get(c["kind"], c["kind"]),
                    c["name"],
                    c["issuer"],
                    c["organisation"],
                    c["starts_on"],
                    c["ends_on"] or "",
                    c["attendees"],
                ]
                for c in listed
            ],
        ),
    ]
    return result


def _candidates_in_class(session: Session, org: Subtree, period: Period) -> dict[str, int]:
    """The subtree's own candidates sent to a class that started in the period — what a
    cell reports, its classes being held by the committee above. Read from the case's
    own dates (set by enrol_in_class / complete_theory_class), one pass over the cases."""
    awareness, theory = (
        between(Case.class_started_on, period),
        between(Case.theory_class_on, period),
    )
    row = session.execute(
        select(
            func.coalesce(func.sum(case((awareness, 1), else_=0)), 0),
            func.coalesce(func.sum(case((theory, 1), else_=0)), 0),
        ).where(in_subtree(Case.org_path, org), or_(awareness, theory))
    ).one()
    return {"awareness": int(row[0]), "theory": int(row[1])}


def _enrolled() -> Any:
    """A class's cases enrolled through the engine: counted per class from the
    attendance index, never by reading every attendance of the period."""
    return (
        select(func.count())
        .select_from(Attendance)
        .where(col(Attendance.course_id) == Course.id)
        .correlate(Course)
        .scalar_subquery()
    )


def _class_list(session: Session, org: Subtree, period: Period) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Course, col(Organisation.name), col(CourseHeadcount.attendees), _enrolled())
        .join(Organisation, col(Organisation.id) == Course.organisation_id)
        .outerjoin(CourseHeadcount, col(CourseHeadcount.course_id) == Course.id)
        .where(in_subtree(Organisation.path, org), between(Course.starts_on, period))
        .order_by(col(Course.starts_on), col(Course.id))
        .limit(CLASS_LIST_LIMIT)
    ).all()
    return [
        {
            "id": course.id,
            "kind": course.kind,
            "name": course.name,
            "issuer": course.issuer,
            "organisation": org_name,
            "starts_on": course.starts_on.isoformat(),
            "ends_on": course.ends_on.isoformat() if course.ends_on else None,
            "headcount": headcount,
            "enrolled": int(n or 0),
            "attendees": headcount if headcount is not None else int(n or 0),
        }
        for course, org_name, headcount, n in rows
    ]
