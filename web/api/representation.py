"""Rows as the API's JSON. Lists load their related rows in one query each, never
one query per row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from web.api.schemas import CASE_DATES, PERSON_FIELDS, field_json
from workflow import access, process, rules
from workflow.access import Actor
from workflow.config import RuleParameters
from workflow.deadlines import stage_of
from workflow.directory import admin_log
from workflow.models import (
    AdminLogEntry,
    Case,
    CaseDeadline,
    HistoryEvent,
    Member,
    Organisation,
    Person,
    User,
)
from workflow.queries.case_list import ListedCase, live_deadlines
from workflow.queries.recordable import recordable_events
from workflow.refusal import Refusal
from workflow.schema import json_schema


def iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def person_json(person: Person) -> dict[str, Any]:
    values: dict[str, Any] = {"id": person.id}
    for name in PERSON_FIELDS:
        value = getattr(person, name)
        values[name] = iso(value) if isinstance(value, date) else value
    return values


def _dates(case: Case) -> dict[str, str | None]:
    seniority = rules.seniority_start(case.decision_on) if case.decision_on else None
    values = {name: iso(getattr(case, name, None)) for name in CASE_DATES}
    values["seniority_from"] = iso(seniority)
    return values


class CaseWriter:
    """Cases as JSON for one actor on one day."""

    def __init__(self, actor: Actor, today: date, params: RuleParameters) -> None:
        self.actor, self.today, self.params = actor, today, params

    def one(self, session: Session, case: Case) -> dict[str, Any]:
        person = session.get(Person, case.person_id)
        assert person is not None and case.id is not None
        return self._case(case, person, live_deadlines(session, [case.id])[case.id])

    def many(self, items: Sequence[ListedCase]) -> list[dict[str, Any]]:
        """A list's cases, with the deadlines the list query loaded."""
        return [self._case(item.case, item.person, item.deadlines) for item in items]

    def _case(self, case: Case, person: Person, deadlines: list[CaseDeadline]) -> dict[str, Any]:
        return {
            "id": case.id,
            "state": case.state,
            "version": case.version,
            "open": case.open,
            "cell_id": case.cell_id,
            "nominated_by": case.nominated_by,
            "nomination_ref": case.nomination_ref,
            "escalated": case.escalated,
            "person": person_json(person),
            "dates": _dates(case),
            "deadlines": [
                {
                    "id": d.deadline,
                    "due": d.due.isoformat(),
                    "stage": stage_of(d.deadline, d.due, self.today, self.params),
                }
                for d in deadlines
            ],
            "allowed_events": [e.name for e in recordable_events(case, self.actor)],
        }


def refusal_json(refusal: Refusal, locale: str) -> dict[str, Any]:
    return {
        "rule": refusal.rule,
        "message": refusal.message(locale),
        "source": refusal.source,
        "field": refusal.field,
    }


def history_row_json(row: HistoryEvent) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "event": row.event,
        "outcome": row.outcome,
        "from_state": row.from_state,
        "to_state": row.to_state,
        "on": row.on.isoformat(),
        "recorded_at": utc_timestamp(row.recorded_at),
        "actor": row.actor,
        "data": json.loads(row.data or "{}"),
        "note": row.note,
        "hash": row.hash,
        "prev_hash": row.prev_hash,
    }


def utc_timestamp(moment: datetime) -> str:
    """Stored naive UTC → RFC 3339 with its zone, so clients need not guess."""
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def organisation_json(org: Organisation) -> dict[str, Any]:
    return {
        "id": org.id,
        "name": org.name,
        "kind": org.kind,
        "parent_id": org.parent_id,
        "may_admit": org.may_admit,
        "path": org.path,
    }


def member_json(member: Member) -> dict[str, Any]:
    return {
        "id": member.id,
        "full_name": member.full_name,
        "cell_id": member.cell_id,
        "status": member.status,
        "official_since": iso(member.official_since),
        "joined_on": iso(member.joined_on),
    }


def me_json(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "role": user.role,
        "organisation_id": user.organisation_id,
        "member_id": user.member_id,
        "full_name": user.full_name,
    }


def process_json(params: RuleParameters) -> dict[str, Any]:
    return {
        "states": [
            {"name": s.name, "label_vi": s.label_vi, "label_en": s.label_en, "terminal": s.terminal}
            for s in process.STATES
        ],
        "events": [
            {
                "name": e.name,
                "label_vi": e.label_vi,
                "label_en": e.label_en,
                "sources": list(e.sources),
                "target": e.target,
                "acted_by": e.acted_by,
                "roles": list(access.RECORDERS[e.acted_by]),
                "guards": [{"id": g.id, "source": g.source} for g in e.guards],
                "vote_guard": e.vote_guard,
                "on_label_vi": e.on_label_vi,
                "on_label_en": e.on_label_en,
                "fields": [field_json(f) for f in e.fields],
                "data_schema": json_schema(e.fields),
            }
            for e in process.EVENTS
        ],
        "deadlines": [
            {
                "id": d.id,
                "label_vi": d.label_vi,
                "label_en": d.label_en,
                "anchor": d.anchor,
                "unit": d.unit,
                "length": d.length(params),
                "states": list(d.states),
                "owners": list(d.owners),
                "source": d.source,
                "warn_days": list(d.warn_days(params)),
                "max_extension": d.max_extension(params) if d.max_extension else 0,
            }
            for d in process.DEADLINES
        ],
        "stages": list(process.REMINDER_STAGES),
    }


def admin_log_json(entry: AdminLogEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "recorded_at": utc_timestamp(entry.recorded_at),
        "user_id": entry.user_id,
        "username": entry.username,
        "action": entry.action,
        "record_table": entry.record_table,
        "record_id": entry.record_id,
        "org_path": entry.org_path,
        "changes": admin_log.changed_fields(entry),
    }
