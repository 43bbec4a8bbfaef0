"""The caller's task list: /api/v1/tasks, and claiming or giving back a step of a
committee's shared queue. The same list as the page /tasks (web/tasks.py), as JSON in
the caller's language."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from web.api.blueprint import bp
from web.api.openapi import api_doc, ref, register_schema
from web.api.representation import utc_timestamp
from web.context import actor, engine, locale
from web.tasks import task_page_of_user
from workflow import waiting
from workflow.directory import claims
from workflow.queries.case_list import COUNT_CAP, Cursor
from workflow.queries.tasks import PAGE_CASES, Task
from workflow.schema import InvalidData

_TEXT = {"type": "string"}
_DATE_OR_NULL = {"type": ["string", "null"], "format": "date"}
register_schema(
    "Task",
    {
        "type": "object",
        "description": "A step an open case waits for; texts in the caller's language.",
        "properties": {
            "case_id": {"type": "integer"},
            "version": {"type": "integer", "description": "the case's version, to record"},
            "event": {"type": "string", "description": "the event that records the step"},
            "event_label": _TEXT,
            "form_url": {"type": "string", "format": "uri", "description": "its form"},
            "person": _TEXT,
            "state": {"type": "string"},
            "cell_id": {"type": "integer"},
            "cell": _TEXT,
            "assignee": {"enum": list(waiting.ASSIGNEES)},
            "organisation_id": {"type": ["integer", "null"]},
            "who": {"type": "string", "description": "who must act"},
            "helpers": {"type": "array", "items": _TEXT},
            "deadline": {"type": ["string", "null"], "description": "the live deadline's id"},
            "due": _DATE_OR_NULL,
            "overdue": {"type": "boolean"},
            "mine": {"type": "boolean", "description": "the caller is who must act"},
            "queue": {"type": "boolean", "description": "a committee's shared step"},
            "claimed_by": {
                "type": ["object", "null"],
                "properties": {"username": _TEXT, "full_name": _TEXT},
            },
        },
    },
)
register_schema(
    "Tasks",
    {
        "type": "object",
        "properties": {
            "mine": {"type": "integer", "description": "the caller's own tasks in `items`"},
            "items": {"type": "array", "items": ref("Task")},
            "next": {
                "type": ["string", "null"],
                "description": "where the next page starts: pass it as `after` (null: "
                "the last page)",
            },
            "total": {
                "type": "integer",
                "description": f"the open cases the list runs over, counted up to {COUNT_CAP:,}",
            },
            "total_capped": {"type": "boolean", "description": "more cases than `total`"},
        },
    },
)
_CLAIM = {
    "type": "object",
    "properties": {
        "case_id": {"type": "integer"},
        "event": {"type": "string"},
        "claimed_by": {"type": ["string", "null"], "description": "username, null: nobody"},
        "claimed_at": {"type": ["string", "null"], "format": "date-time"},
    },
}


def task_json(task: Task, today: date, lang: str) -> dict[str, Any]:
    spec = task.spec
    return {
        "case_id": task.case_id,
        "version": task.version,
        "event": task.event,
        "event_label": spec.label_en if lang == "en" else spec.label_vi,
        "form_url": url_for("cases.show", case_id=task.case_id, step=task.event, _external=True),
        "person": task.person,
        "state": task.state,
        "cell_id": task.cell_id,
        "cell": task.cell,
        "assignee": task.assignee,
        "organisation_id": task.organisation_id,
        "who": task.who().say(lang),
        "helpers": list(task.helpers),
        "deadline": task.deadline,
        "due": task.due.isoformat() if task.due else None,
        "overdue": task.overdue(today),
        "mine": task.mine,
        "queue": task.queue,
        "claimed_by": (
            {"username": task.claim.username, "full_name": task.claim.full_name}
            if task.claim
            else None
        ),
    }


def _mine_only(raw: str | None) -> bool:
    if raw in (None, "", "false"):
        return False
    if raw == "true":
        return True
    raise InvalidData("mine", "'mine' phải là true hoặc false", "'mine' must be true or false")


@bp.get("/tasks")
@api_doc(
    "The caller's task list: what the open cases in scope wait for, a page at a time",
    description="Derived from each case's state and the process table, never stored: "
    "every step an open case in the caller's scope waits for, who must act, by when (the "
    "live deadline), and for a committee's shared steps who took it. The caller's own "
    "tasks are `mine`; `mine=true` lists only those. A task ends when its step is "
    "recorded (POST /api/v1/cases/{case_id}/events). A page holds the tasks of "
    f"{PAGE_CASES} cases, taken soonest due first (by the case's earliest live deadline, "
    "then those without one), overdue first within the page; `next` names where the next "
    "page starts: pass it as `after` (null on the last page).",
    query={
        "mine": {"type": "boolean", "default": False},
        "after": {
            "type": "string",
            "maxLength": 40,
            "pattern": "^[0-9_-]+$",
            "description": "The `next` of the previous page",
        },
    },
    response=ref("Tasks"),
    tag="tasks",
)
@login_required
def tasks() -> ResponseReturnValue:
    only_mine = _mine_only(request.args.get("mine"))
    found = task_page_of_user(mine_only=only_mine, after=_after())
    today, lang = engine().clock.today(), locale()
    return jsonify(
        {
            "mine": sum(1 for t in found.tasks if t.mine),
            "items": [task_json(t, today, lang) for t in found.tasks],
            "next": found.next.token if found.next else None,
            "total": found.total,
            "total_capped": found.capped,
        }
    )


def _after() -> Cursor | None:
    """The `after` parameter: the `next` of the previous page (400 if not one)."""
    raw = request.args.get("after")
    if raw is None or raw == "":
        return None
    cursor = Cursor.parse(raw)
    if cursor is None:
        raise InvalidData(
            "after",
            "'after' phải là giá trị 'next' của trang trước",
            "'after' must be the 'next' of the previous page",
        )
    return cursor


def _body_required() -> None:
    """The API is exempt from the form CSRF token: a write takes a bearer token or a
    JSON body — neither of which a cross-site form sends."""
    bearer = request.headers.get("Authorization", "").startswith("Bearer ")
    if not bearer and not request.is_json:
        raise InvalidData(
            "body",
            "Gửi yêu cầu dạng JSON (Content-Type: application/json) hoặc kèm mã Bearer",
            "Send a JSON request (Content-Type: application/json) or a bearer token",
        )


@bp.post("/tasks/<int:case_id>/<event>/claim")
@api_doc(
    "Take a step of a committee's shared queue",
    description="Only an officer of the organisation that must act, while the case waits "
    "for the step (400 otherwise). Taking a step another officer holds hands it over. "
    "Logged in the admin log.",
    response=_CLAIM,
    roles=("officer",),
    tag="tasks",
)
@login_required
def claim_task(case_id: int, event: str) -> ResponseReturnValue:
    _body_required()
    with engine().session() as session:
        row = claims.claim(session, actor(), case_id, event, now=engine().clock.now())
    return jsonify(
        {
            "case_id": case_id,
            "event": event,
            "claimed_by": current_user.record.username,
            "claimed_at": utc_timestamp(row.claimed_at),
        }
    )


@bp.post("/tasks/<int:case_id>/<event>/unclaim")
@api_doc(
    "Give a step back to the committee's shared queue",
    description="Any officer of the organisation that must act may give it back. Logged "
    "in the admin log.",
    response=_CLAIM,
    roles=("officer",),
    tag="tasks",
)
@login_required
def unclaim_task(case_id: int, event: str) -> ResponseReturnValue:
    _body_required()
    with engine().session() as session:
        claims.unclaim(session, actor(), case_id, event, now=engine().clock.now())
    return jsonify({"case_id": case_id, "event": event, "claimed_by": None, "claimed_at": None})
