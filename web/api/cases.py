"""Cases: nominate, list, read, advance, and read and verify the history.

Every change goes through engine.nominate / engine.advance; every read is scoped by
access.visible_cases (a case outside the caller's scope answers 404).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for
from flask.typing import ResponseReturnValue

from web.api.blueprint import bp
from web.api.body import (
    MAX_ID,
    json_object,
    query_bool,
    query_choice,
    query_int,
    query_text,
    row_id,
    whole_number,
)
from web.api.openapi import Schema, api_doc, ref
from web.api.representation import CaseWriter, history_row_json, refusal_json
from web.audit import public_key
from web.context import actor, engine
from web.errors import locale
from workflow import access, history, process
from workflow.access import Actor
from workflow.directory import admin_log
from workflow.history import signing
from workflow.queries import case_list
from workflow.rules import in_force
from workflow.schema import InvalidData

MAX_PER_PAGE = 100
EVENT_KEYS = ("event", "on", "data", "version", "note")
LIST_QUERY: dict[str, Schema] = {
    "state": {"type": "string", "enum": list(process.STATE_NAMES)},
    "cell": {"type": "integer", "minimum": 0, "maximum": MAX_ID, "description": "Only this cell"},
    "overdue": {"type": "boolean", "description": "true: a deadline has passed; false: none"},
    "q": {
        "type": "string",
        "maxLength": 200,
        "pattern": "^[^\\x00]*$",
        "description": "Part of the name, or the national ID",
    },
    "page": {
        "type": "integer",
        "minimum": 1,
        "default": 1,
        "description": f"A page by number: numbers reach the first {case_list.COUNT_CAP:,} "
        "cases; read further with `after`",
    },
    "after": {
        "type": "string",
        "maxLength": 40,
        "pattern": "^[0-9]+$",
        "description": "The `next` of the previous page: the page of cases after it "
        "(keyset pagination: as fast on the last page as on the first)",
    },
    "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 20},
}
RECORDERS = tuple(sorted({r for roles in access.RECORDERS.values() for r in roles}))


def _writer(who: Actor) -> CaseWriter:
    current = engine()
    today = current.clock.today()
    return CaseWriter(who, today, in_force(current.params, today))


def _required_date(body: dict[str, Any]) -> Any:
    if body.get("on") in (None, ""):
        raise InvalidData(
            "on", "Thiếu ngày ('on', YYYY-MM-DD)", "'on' (the act's date, YYYY-MM-DD) is required"
        )
    return body["on"]


@bp.post("/cases")
@api_doc(
    "Nominate a candidate: a new case",
    description="The nominate fields of the process table at the top level, with `on` (the "
    "nomination's date) and an optional `note`.",
    request=ref("Nomination"),
    response=ref("Case"),
    status=201,
    roles=access.RECORDERS["cell"],
    tag="cases",
)
def nominate() -> ResponseReturnValue:
    who = actor()
    body = json_object()
    on, note = _required_date(body), body.get("note")
    data = {k: v for k, v in body.items() if k not in ("on", "note")}
    outcome = engine().nominate(data, who, on=on, note=note)
    with engine().session() as session:
        payload = _writer(who).one(session, outcome.case)
    location = url_for("api.case", case_id=outcome.case.id)
    return jsonify(payload), 201, {"Location": location}


@bp.get("/cases")
@api_doc(
    "Cases within the caller's scope, newest first",
    description=f"`total` counts the matching cases up to {case_list.COUNT_CAP:,}: when "
    "`total_capped` is true more cases match (narrow the filters). `next` names where the "
    "next page starts: pass it as `after` (null on the last page). Page numbers reach the "
    f"first {case_list.COUNT_CAP:,} cases; `after` reads on to the end.",
    query=LIST_QUERY,
    response=ref("CaseList"),
    tag="cases",
)
def cases() -> ResponseReturnValue:
    who = actor()
    spec = _list_filter()
    page = query_int("page", 1, minimum=1, maximum=100_000) or 1
    per_page = query_int("per_page", 20, minimum=1, maximum=MAX_PER_PAGE) or 20
    after = _cursor()
    today = engine().clock.today()
    with engine().session() as session:
        found = case_list.list_page(
            session, who, spec, today, page=page, per_page=per_page, after=after
        )
    return jsonify(
        items=_writer(who).many(found.items),
        page=found.page,
        per_page=found.per_page,
        total=found.total,
        total_capped=found.capped,
        next=found.next.token if found.next else None,
    )


def _cursor() -> case_list.Cursor | None:
    """The `after` parameter: a case id the previous page gave as `next` (400 if not)."""
    raw = query_text("after")
    if raw is None:
        return None
    cursor = case_list.Cursor.parse(raw)
    if cursor is None or cursor.due is not None:
        raise InvalidData(
            "after",
            "'after' phải là giá trị 'next' của trang trước",
            "'after' must be the 'next' of the previous page",
        )
    return cursor


def _list_filter() -> case_list.CaseFilter:
    """The list's query parameters as the filter the /cases page also uses (400 when
    one is malformed)."""
    state = query_choice("state", process.STATE_NAMES)
    cell, overdue, q = query_int("cell", None), query_bool("overdue"), query_text("q")
    return case_list.CaseFilter(
        q=q or "",
        state=state or "",
        deadline="" if overdue is None else "overdue" if overdue else "on_time",
        cell=cell,
    )


@bp.get("/cases/<int:case_id>")
@api_doc(
    "One case: its state, version, person, dates, live deadlines and allowed events",
    response=ref("Case"),
    tag="cases",
)
def case(case_id: int) -> ResponseReturnValue:
    who = actor()
    with engine().session() as session:
        found = engine().case_for(session, row_id(case_id), who)
        return jsonify(_writer(who).one(session, found))


@bp.post("/cases/<int:case_id>/events")
@api_doc(
    "Record the next step of a case",
    description="`event` is one of the process's events and `data` its fields (each "
    "event's schema below). `version` is the case's version you saw: a stale one answers "
    "409. A guard's refusal answers 422 with the rule's id. A vote that falls short of "
    "two-thirds is a fact, not an error: 200 with the case, its state unchanged, "
    "`outcome` = `failed_vote` and `failed_vote` telling why.",
    request=ref("NewEvent"),
    response=ref("EventResult"),
    roles=RECORDERS,
    errors=(409,),
    tag="cases",
)
def record_event(case_id: int) -> ResponseReturnValue:
    who = actor()
    body = json_object(EVENT_KEYS)
    event = body.get("event")
    if not isinstance(event, str) or not event:
        raise InvalidData("event", "Thiếu tên sự kiện ('event')", "'event' is required (text)")
    if "version" not in body:
        raise InvalidData("version", "Thiếu phiên bản ('version')", "'version' is required")
    version = whole_number(body["version"], "version")
    outcome = engine().advance(
        row_id(case_id),
        event,
        body.get("data"),
        who,
        version,
        on=_required_date(body),
        note=body.get("note"),
    )
    with engine().session() as session:
        # built from the outcome, not re-read through the scope: after a transfer the
        # case may have left the caller's cells, yet they should see what they did
        payload = _writer(who).one(session, outcome.case)
    failed = outcome.failed_vote
    payload["outcome"] = "failed_vote" if failed else "accepted"
    payload["failed_vote"] = refusal_json(failed, locale()) if failed else None
    return jsonify(payload)


@bp.get("/cases/<int:case_id>/history")
@api_doc(
    "A case's history, oldest first, with each row's hash chain link",
    response=ref("History"),
    tag="history",
)
def case_history(case_id: int) -> ResponseReturnValue:
    who = actor()
    with engine().session() as session:
        found = engine().case_for(session, row_id(case_id), who)
        assert found.id is not None
        rows = history.rows_of(session, found.id)
        return jsonify(case_id=found.id, rows=[history_row_json(r) for r in rows])


@bp.get("/cases/<int:case_id>/history/verify")
@api_doc(
    "Recompute a case's hash chain",
    description="`intact` false names the first row that does not verify in `broken_at`.",
    response=ref("ChainCheck"),
    tag="history",
)
def verify_history(case_id: int) -> ResponseReturnValue:
    who = actor()
    with engine().session() as session:
        found = engine().case_for(session, row_id(case_id), who)
        assert found.id is not None
        check = history.verify_case(session, found.id)
    return jsonify(
        intact=check.intact, broken_at=check.broken_at, rows=check.rows, reason=check.reason
    )


LEDGER_CHECK: Schema = {
    "type": "object",
    "properties": {
        "intact": {"type": "boolean"},
        "problems": {"type": "array", "items": {"type": "string"}},
        "notes": {"type": "array", "items": {"type": "string"}},
        "ledger": {
            "type": "object",
            "properties": {
                "entries": {"type": "integer"},
                "head_seq": {"type": "integer"},
                "head_hash": {"type": "string"},
            },
        },
        "checkpoints_checked": {"type": ["integer", "null"]},
        "latest_signed_seq": {"type": ["integer", "null"]},
    },
}
CHECKPOINTS: Schema = {
    "type": "object",
    "properties": {
        "domain": {"type": "string"},
        "public_key": {"type": ["string", "null"]},
        "checkpoints": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "ledger_seq": {"type": "integer"},
                    "ledger_hash": {"type": "string"},
                    "signed_at": {"type": "string"},
                    "key_id": {"type": "string"},
                    "signature": {"type": "string"},
                },
            },
        },
    },
}


@bp.get("/history/verify")
@api_doc(
    "Verify every case's history, the ledger over all cases and the signed checkpoints",
    description="Names each problem: a row rewritten with its hashes recomputed, a deleted "
    "case, a truncated history, a case or person row that disagrees with its history, a "
    "signed checkpoint the ledger no longer extends. Reads the whole database.",
    response=LEDGER_CHECK,
    roles=admin_log.READERS,
    tag="history",
)
def verify_everything() -> ResponseReturnValue:
    admin_log.check_may_read(actor())
    public, key_problem = public_key()
    with engine().session() as session:
        found = history.audit(session, public)
    signed = found.checkpoints
    return jsonify(
        intact=found.intact and key_problem is None,
        problems=found.problems() + ([key_problem] if key_problem else []),
        notes=[note.say(locale()) for note in found.notes],
        ledger={
            "entries": found.ledger.entries,
            "head_seq": found.ledger.head_seq,
            "head_hash": found.ledger.head_hash,
        },
        checkpoints_checked=signed.checked if signed else None,
        latest_signed_seq=signed.latest_seq if signed else None,
    )


@bp.get("/history/checkpoints")
@api_doc(
    "The signed ledger heads and the public key that verifies them",
    description="Keep a copy elsewhere: `ketnap verify --checkpoints FILE` checks the "
    "database against it.",
    response=CHECKPOINTS,
    roles=admin_log.READERS,
    tag="history",
)
def checkpoints() -> ResponseReturnValue:
    admin_log.check_may_read(actor())
    public, _problem = public_key()
    with engine().session() as session:
        return jsonify(signing.export(signing.stored(session), public))
