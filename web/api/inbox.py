"""The caller's reminders: /api/v1/inbox, notifications about tasks (/api/v1/tasks). The
same inbox as the page /inbox (web/inbox.py), as JSON in the caller's language. Nothing
is marked done: a reminder ends when its step is recorded."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from web.api.blueprint import bp
from web.api.openapi import api_doc, ref, register_schema
from web.api.representation import utc_timestamp
from web.context import engine, locale
from web.inbox import SHOWN, entries, step_url
from workflow.reminders.inbox import InboxEntry
from workflow.schema import InvalidData

_TEXT = {"type": "string"}
register_schema(
    "InboxItem",
    {
        "type": "object",
        "description": "A reminder in the caller's inbox; texts in the caller's language.",
        "properties": {
            "id": {"type": "integer"},
            "status": {"enum": ["open", "done", "closed"]},
            "closed_reason": {"enum": ["met", "moved", "superseded", None]},
            "case_id": {"type": "integer"},
            "case_url": {"type": "string", "format": "uri"},
            "form_url": {"type": "string", "format": "uri", "description": "the step's form"},
            "person": _TEXT,
            "cell": _TEXT,
            "deadline": {"type": "string", "description": "a deadline id of the process"},
            "deadline_label": _TEXT,
            "stage": {"enum": ["upcoming", "due", "overdue", "escalated"]},
            "stage_label": _TEXT,
            "warn_days": {"type": "integer", "description": "days before `due` (upcoming)"},
            "cause": {"enum": ["deadline", "failed_votes"]},
            "due": {"type": "string", "format": "date"},
            "what": {"type": "string", "description": "what to do"},
            "when": {"type": "string", "description": "the due date and the days left"},
            "source": {"type": "string", "description": "the rule's text"},
            "created_at": {"type": "string", "format": "date-time"},
            "done_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
)
register_schema(
    "Inbox",
    {
        "type": "object",
        "properties": {
            "open": {"type": "integer", "description": "open items in all"},
            "items": {"type": "array", "items": ref("InboxItem")},
        },
    },
)


def _shown(raw: str | None) -> str:
    shown = raw or "open"
    if shown not in SHOWN:
        raise InvalidData(
            "status",
            f"Trạng thái phải là một trong: {', '.join(SHOWN)}",
            f"status must be one of: {', '.join(SHOWN)}",
        )
    return shown


def _external(path: str) -> str:
    """A path of this site as the absolute address links use ([web] base_url)."""
    root = url_for("cases.dashboard", _external=True)
    return root.rstrip("/") + path


def _entry_json(entry: InboxEntry, today: date, lang: str) -> dict[str, Any]:
    view = entry.view
    return {
        "id": entry.item_id,
        "status": entry.status,
        "closed_reason": entry.closed_reason,
        "case_id": view.case_id,
        "case_url": url_for("cases.show", case_id=view.case_id, _external=True),
        "form_url": _external(step_url(view.case_id, view.deadline)),
        "person": view.person,
        "cell": view.cell,
        "deadline": view.deadline,
        "deadline_label": view.spec.label_en if lang == "en" else view.spec.label_vi,
        "stage": view.stage,
        "stage_label": view.stage_label(lang),
        "warn_days": view.warn,
        "cause": view.cause,
        "due": view.due.isoformat(),
        "what": view.what(lang),
        "when": view.when(today, lang),
        "source": view.spec.source,
        "created_at": utc_timestamp(entry.created_at),
        "done_at": utc_timestamp(entry.done_at) if entry.done_at else None,
    }


@bp.get("/inbox")
@api_doc(
    "The caller's reminders (the inbox), most urgent first",
    description="Reminders of deadlines the caller must act on or was told of "
    "(upcoming, due, overdue, escalated). `status` chooses open (default), done, closed "
    "(the deadline was met or moved, or a newer reminder replaced it) or all.",
    query={"status": {"enum": list(SHOWN), "default": "open"}},
    response=ref("Inbox"),
    tag="inbox",
)
@login_required
def inbox() -> ResponseReturnValue:
    """The caller's reminders as JSON (`?status=open|done|closed|all`, default open)."""
    found, still_open = entries(_shown(request.args.get("status")))
    today, lang = engine().clock.today(), locale()
    return jsonify({"open": still_open, "items": [_entry_json(e, today, lang) for e in found]})
