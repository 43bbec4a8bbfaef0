"""The replay of a planned case through the engine. Cases are never written directly:
each accepted row becomes `engine.nominate` and one `engine.advance` per step, on the
row's dates, so the case, its deadlines, sponsors, members and hash-chained history are
exactly what the engine makes. The engine's guards still run: a step a rule refuses
rejects the row with the rule's message (`replay_error`). History rows are marked
`outcome="imported"` and the case `imported=True`; the note names the file and line."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from workflow import process
from workflow.access import Actor, Forbidden
from workflow.engine import Conflict, Engine, NotFound
from workflow.exchange.layouts import MAIN_STEPS, PROBATION_STEPS
from workflow.exchange.lookups import Directory
from workflow.exchange.plan_cases import CasePlan, Step
from workflow.exchange.report import RowError
from workflow.models import Organisation
from workflow.refusal import Refusal
from workflow.replay import CaseHistory, ReplayAct, Replayed
from workflow.schema import InvalidData
from workflow.text import Text


@dataclass(frozen=True)
class CellActors:
    """Who recorded each kind of step, historically: the importing user acting for the
    cell, its committee, and the competent authority. History names the importer."""

    cell: Actor
    committee: Actor
    authority: Actor

    def acting(self, acted_by: str) -> Actor:
        if acted_by == "committee":
            return self.committee
        if acted_by == "authority":
            return self.authority
        return self.cell


def cell_actors(actor: Actor, cell: Organisation, directory: Directory) -> CellActors:
    def officer(acted_by: str) -> Actor:
        org = directory.acting_for(cell, acted_by)
        return Actor(actor.username, "officer", org.id, org.path, on_behalf_of=actor)

    return CellActors(
        Actor(actor.username, "secretary", cell.id, cell.path, on_behalf_of=actor),
        officer("committee"),
        officer("authority"),
    )


ROW_FAILURES = (Refusal, InvalidData, Conflict, NotFound, Forbidden, SQLAlchemyError)


class StepFailed(Exception):
    """A replayed step was refused; `step` is None for the nomination."""

    def __init__(self, step: Step | None, error: Exception) -> None:
        super().__init__(str(error))
        self.step, self.error = step, error


def replay_case(
    engine: Engine, session: Session, plan: CasePlan, actors: CellActors, note: str
) -> int:
    """Nominate and advance inside the caller's transaction; returns the case id."""
    try:
        outcome = engine.nominate(
            plan.nomination,
            actors.cell,
            on=plan.nominated_on,
            note=note,
            session=session,
            imported=True,
        )
    except ROW_FAILURES as error:
        raise StepFailed(None, error) from error
    case = outcome.case
    assert case.id is not None
    version = case.version
    for step in plan.steps:
        spec = process.event(step.event)
        assert spec is not None
        try:
            moved = engine.advance(
                case.id,
                step.event,
                step.data,
                actors.acting(spec.acted_by),
                version,
                on=step.on,
                note=note,
                session=session,
                imported=True,
            )
        except ROW_FAILURES as error:
            raise StepFailed(step, error) from error
        if moved.failed_vote is not None:  # the old records say it passed: the rule says not
            raise StepFailed(step, moved.failed_vote)
        version = moved.case.version
    return case.id


def history_of(plan: CasePlan, actors: CellActors, note: str) -> CaseHistory:
    """A planned row as the engine's bulk replay takes it: the same calls, in memory."""
    acts = []
    for step in plan.steps:
        spec = process.event(step.event)
        assert spec is not None
        acts.append(ReplayAct(step.event, step.on, step.data, actors.acting(spec.acted_by)))
    return CaseHistory(plan.nomination, plan.nominated_on, actors.cell, acts, note)


def failure_of(plan: CasePlan, replayed: Replayed) -> StepFailed:
    """A case the bulk replay refused, as `replay_case` would have raised it."""
    assert replayed.error is not None
    step = plan.steps[replayed.step] if replayed.step is not None else None
    return StepFailed(step, replayed.error)


def replay_error(line: int, failure: StepFailed | SQLAlchemyError) -> RowError:
    """A refused replay as a row error: the step, the rule and the column it points at."""
    error = failure.error if isinstance(failure, StepFailed) else failure
    step = failure.step if isinstance(failure, StepFailed) else None
    spec = process.event(step.event if step else "nominate")
    where_vi = f"Bước '{spec.label_vi}'" if spec else "Ghi dữ liệu"
    where_en = f"Step '{spec.label_en}'" if spec else "Writing"
    column = None
    field_name = getattr(error, "field", None)
    if step is not None and field_name:
        column = step.columns.get(field_name.split(".")[0].split("[")[0])
        if column is None and field_name == "on":
            column = next(
                (s.date_column for s in (*MAIN_STEPS, *PROBATION_STEPS) if s.event == step.event),
                None,
            )
    if isinstance(error, Refusal):
        vi, en, rule = error.message_vi, error.message_en, error.rule
    elif isinstance(error, InvalidData):
        vi, en, rule = error.message_vi, error.message_en, "invalid_data"
    elif isinstance(error, Conflict):
        vi, en, rule = error.message_vi, error.message_en, "version_conflict"
    elif isinstance(error, NotFound | Forbidden):
        vi, en, rule = (
            "ngoài phạm vi của người nhập dữ liệu",
            "outside the importing user's scope",
            "forbidden",
        )
    else:
        vi, en, rule = f"lỗi cơ sở dữ liệu: {error}", f"database error: {error}", "database"
    return RowError(line, column, Text(f"{where_vi}: {vi}", f"{where_en}: {en}"), rule)
