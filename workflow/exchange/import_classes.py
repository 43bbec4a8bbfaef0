"""The import of classes (awareness and theory) with their headcounts: each row judged
by the directory's class rules (workflow/directory/classes.py); a class the engine
already created from a case (same kind, name and organisation) is completed with the
file's dates and headcount, one already counted is a duplicate. Each class is written
and logged ("import_class", by the importing user) through the directory's own
find-or-create path, `classes.record`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from workflow.directory import classes
from workflow.exchange.job import ImportJob
from workflow.exchange.report import RowError
from workflow.exchange.rows import Row
from workflow.models import CourseHeadcount
from workflow.schema import InvalidData
from workflow.text import Text


@dataclass
class ClassPlan:
    line: int
    spec: classes.ClassSpec
    org_path: str


class ClassImport(ImportJob):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        classes.check_may_record(self.actor)

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
        return ClassPlan(row.line, spec, org.path)

    def _against_database(self, plans: list[ClassPlan]) -> list[ClassPlan]:
        """A class the engine already created (same kind, name, organisation) is completed
        with the file's data; one already recorded with a headcount is a duplicate."""
        kept = []
        for plan in plans:
            course = classes.find(self.session, plan.spec)
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
            kept.append(plan)
        return kept

    def write(self, plans: list[ClassPlan]) -> None:
        self.begin_batch()
        now = self.engine.clock.now()
        courses = [
            classes.record(
                self.session, self.actor, plan.spec, plan.org_path, at=now, action="import_class"
            )
            for plan in plans
        ]
        self.report.accepted += len(plans)
        if not self.report.dry_run:
            self.report.created_ids += [c.id for c in courses if c.id is not None]
            self.report.written += len(plans)
        self.finish_batch()
