"""The import of classes (awareness and theory) with their headcounts: each row judged
by the directory's class rules (workflow/directory/classes.py); a class the engine
already created from a case (same kind, name and organisation) is completed with the
file's dates and headcount, one already counted is a duplicate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from workflow.access import Forbidden
from workflow.directory import classes
from workflow.exchange.job import ImportJob
from workflow.exchange.report import RowError
from workflow.exchange.rows import Row
from workflow.models import Course, CourseHeadcount
from workflow.schema import InvalidData
from workflow.text import Text


@dataclass
class ClassPlan:
    line: int
    spec: classes.ClassSpec
    existing: Course | None = None


class ClassImport(ImportJob):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        if self.actor.role not in classes.RECORDERS:
            raise Forbidden(f"role {self.actor.role} may not record classes")

    def plan(self, rows: list[Row]) -> list[ClassPlan]:
        plans = []
        for row in rows:
            plan = self._plan(row)
            if plan is None:
                self.reject(row.errors)
                continue
            key = ("class", plan.spec.kind, plan.spec.name.casefold(), plan.spec.organisation_id)
            if self.duplicate_in_file(row, [key], ("lớp", "class")):
                self.reject(row.errors)
                continue
            self.seen[key] = row.line
            plans.append(plan)
        return self._against_database(plans)

    def _plan(self, row: Row) -> ClassPlan | None:
        org = self.directory.organisation(row, "organisation", cells_only=False)
        starts, ends = row.day("starts_on", required=True), row.day("ends_on")
        attendees = row.number("attendees")
        if row.errors:
            return None
        assert org is not None
        data = {
            "kind": row.text("kind"),
            "name": row.text("name"),
            "issuer": row.text("issuer"),
            "organisation_id": org.id,
            "starts_on": starts.isoformat() if starts else None,
            "ends_on": ends.isoformat() if ends else None,
            "attendees": attendees,
        }
        try:
            spec = classes.parse({k: v for k, v in data.items() if v is not None})
        except InvalidData as problem:
            row.problem(
                problem.field.replace("organisation_id", "organisation"),
                problem.message_vi,
                problem.message_en,
            )
            return None
        return ClassPlan(row.line, spec)

    def _against_database(self, plans: list[ClassPlan]) -> list[ClassPlan]:
        """A class the engine already created (same kind, name, organisation) is completed
        with the file's data; one already recorded with a headcount is a duplicate."""
        kept = []
        for plan in plans:
            spec = plan.spec
            course = self.session.exec(
                select(Course).where(
                    Course.kind == spec.kind,
                    Course.name == spec.name,
                    Course.organisation_id == spec.organisation_id,
                )
            ).first()
            counted = (
                course is not None
                and self.session.exec(
                    select(CourseHeadcount.id).where(CourseHeadcount.course_id == course.id)
                ).first()
                is not None
            )
            if counted:
                assert course is not None
                self.reject(
                    [
                        RowError(
                            plan.line,
                            None,
                            Text(
                                f"Lớp này đã có trong Ketnap (số {course.id})",
                                f"This class is already in Ketnap (class {course.id})",
                            ),
                            "duplicate",
                        )
                    ]
                )
                continue
            plan.existing = course
            kept.append(plan)
        return kept

    def write(self, plans: list[ClassPlan]) -> None:
        self.begin_batch()
        now = self.engine.clock.now()
        courses = []
        for plan in plans:
            spec = plan.spec
            course = plan.existing or Course(
                kind=spec.kind,
                name=spec.name,
                organisation_id=spec.organisation_id,
                starts_on=spec.starts_on,
            )
            course.issuer = spec.issuer or course.issuer
            course.starts_on, course.ends_on = spec.starts_on, spec.ends_on
            self.session.add(course)
            courses.append((plan, course))
        self.session.flush()
        for plan, course in courses:
            if plan.spec.attendees is not None:
                assert course.id is not None
                self.session.add(
                    CourseHeadcount(
                        course_id=course.id,
                        attendees=plan.spec.attendees,
                        recorded_by=self.actor.username,
                        recorded_at=now,
                    )
                )
        self.session.flush()
        self.report.accepted += len(plans)
        if not self.report.dry_run:
            self.report.created_ids += [c.id for _, c in courses if c.id is not None]
            self.report.written += len(plans)
        self.finish_batch()
