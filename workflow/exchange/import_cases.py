"""The import of historical cases: a chunk's rows planned (plan_cases.py), the same
person twice in the file or already in Ketnap rejected, then the chunk replayed by the
engine's bulk replay (`Engine.replay`): a row any step of which is refused is rejected
and writes nothing, the others are written together. Should the batch's write fail, its
rows are replayed one by one, each inside its own SAVEPOINT (replay.py)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import or_, tuple_
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from workflow import hygiene
from workflow.exchange.job import BATCH_SECONDS, ImportJob
from workflow.exchange.plan_cases import CasePlan, plan_case
from workflow.exchange.replay import (
    CellActors,
    StepFailed,
    cell_actors,
    failure_of,
    history_of,
    replay_case,
    replay_error,
)
from workflow.exchange.report import RowError, RowRejected
from workflow.exchange.rows import Row
from workflow.models import Case, Person
from workflow.replay import CaseHistory
from workflow.text import Text


class CaseImport(ImportJob):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.actors: dict[int, CellActors] = {}

    def plan(self, rows: list[Row]) -> list[CasePlan]:
        self._load_members(rows)
        plans: list[CasePlan] = []
        for row in rows:
            try:
                plan = plan_case(row, self.directory)
            except RowRejected as rejected:
                self.reject(rejected.errors)
                continue
            if self.duplicate_in_file(row, plan.person_keys, ("người", "person")):
                self.reject(row.errors)
                continue
            for key in plan.person_keys:
                self.seen[key] = row.line
            plans.append(plan)
        existing = self._existing_people(plans)
        kept = []
        for plan in plans:
            case_id = next((existing[k] for k in plan.person_keys if k in existing), None)
            if case_id is None:
                kept.append(plan)
                continue
            self.reject(
                [
                    RowError(
                        plan.line,
                        None,
                        Text(
                            f"Người này đã có trong Ketnap (hồ sơ số {case_id})",
                            f"This person is already in Ketnap (case {case_id})",
                        ),
                        "duplicate",
                    )
                ]
            )
        return kept

    def _load_members(self, rows: list[Row]) -> None:
        """Sponsors and helpers of this chunk, by id or by name in their cell, in bulk."""
        ids: set[int] = set()
        cells: set[int] = set()
        for row in rows:
            for column in ("sponsor1", "sponsor2", "helper"):
                ref = row.values.get(column)
                if not isinstance(ref, str):
                    continue
                number = hygiene.whole_number(ref)
                if number is not None:
                    ids.add(number)
                elif isinstance(row.values.get("cell"), str):
                    found = self.directory.find(str(row.values["cell"]), cells_only=True)
                    cells |= {o.id for o in found if o.id is not None}
        self.directory.load_members(cells, ids)

    def _existing_people(self, plans: list[CasePlan]) -> dict[tuple[Any, ...], int]:
        names = [(k[1], k[2]) for p in plans for k in p.person_keys if k[0] == "name"]
        ids = [k[1] for p in plans for k in p.person_keys if k[0] == "id"]
        if not names and not ids:
            return {}
        query = (
            select(
                col(Person.full_name),
                col(Person.birth_date),
                col(Person.national_id),
                col(Case.id),
            )
            .join(Case, col(Case.person_id) == Person.id)
            .where(
                or_(
                    tuple_(col(Person.full_name), col(Person.birth_date)).in_(names),
                    col(Person.national_id).in_(ids),
                )
            )
        )
        found: dict[tuple[Any, ...], int] = {}
        for full_name, birth, national_id, case_id in self.session.exec(query):
            assert case_id is not None
            found.setdefault(("name", full_name, birth), case_id)
            if national_id:
                found.setdefault(("id", national_id), case_id)
        return found

    def write(self, plans: list[CasePlan]) -> None:
        """The chunk's cases replayed by the engine in bulk (Engine.replay: each case in
        memory, the accepted ones written together), in one batch. Should writing the
        batch fail (a constraint the rules do not check), its rows are replayed one by
        one, each in its SAVEPOINT, so that only the offending row is rejected."""
        self.begin_batch()
        histories = [self._history(plan) for plan in plans]
        savepoint = self.session.begin_nested()
        try:
            results = self.engine.replay(histories, session=self.session)
            savepoint.commit()
        except SQLAlchemyError:
            savepoint.rollback()
            self._one_by_one(plans)
            return
        pending: list[int] = []
        for plan, replayed in zip(plans, results, strict=True):
            if replayed.case_id is None:
                self.reject([replay_error(plan.line, failure_of(plan, replayed))])
                continue
            self.report.accepted += 1
            pending.append(replayed.case_id)
        self._commit(pending)

    def _history(self, plan: CasePlan) -> CaseHistory:
        assert plan.cell.id is not None
        actors = self.actors.get(plan.cell.id)
        if actors is None:
            actors = self.actors[plan.cell.id] = cell_actors(self.actor, plan.cell, self.directory)
        return history_of(plan, actors, self._note(plan))

    def _note(self, plan: CasePlan) -> str:
        return f"Nhập từ dữ liệu cũ: {self.report.file_name}, dòng {plan.line}"

    def _one_by_one(self, plans: list[CasePlan]) -> None:
        started = time.monotonic()
        pending: list[int] = []
        for plan in plans:
            actors = self.actors[plan.cell.id or 0]
            savepoint = self.session.begin_nested()
            try:
                case_id = replay_case(self.engine, self.session, plan, actors, self._note(plan))
                savepoint.commit()
            except (StepFailed, SQLAlchemyError) as failure:
                savepoint.rollback()
                self.reject([replay_error(plan.line, failure)])
                continue
            self.report.accepted += 1
            pending.append(case_id)
            if time.monotonic() - started > BATCH_SECONDS:  # keep the write lock short
                self._commit(pending)
                pending, started = [], time.monotonic()
                self.begin_batch()
        self._commit(pending)

    def _commit(self, case_ids: list[int]) -> None:
        self.finish_batch()
        if not self.report.dry_run:
            self.report.written += len(case_ids)
            self.report.created_ids += case_ids
