"""The task list /tasks: what every open case in the user's scope waits for, the user's
own tasks first (overdue first, then by due date), each opening its step's form on the
case page; a committee's shared queue with claim and unclaim. Only HTTP lives here:
the list is workflow.queries.tasks, a claim workflow.directory.claims. The JSON twin is
web/api/tasks.py.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from web.auth import writer_required
from web.context import actor, engine, locale
from workflow.directory import claims
from workflow.queries.tasks import Task, TaskList, task_list

bp = Blueprint("tasks", __name__)
OTHERS_SHOWN = 100  # cases whose others' tasks are listed at most (the case list has all)


def tasks_of_user(*, mine_only: bool = False, most_urgent: int | None = None) -> TaskList:
    with engine().session() as session:
        return task_list(session, actor(), mine_only=mine_only, most_urgent=most_urgent)


def step_url(task: Task) -> str:
    """Where a task opens: its step's form on the case page."""
    return url_for("cases.show", case_id=task.case_id, step=task.event) + f"#event-{task.event}"


@bp.get("/tasks")
@login_required
def index() -> ResponseReturnValue:
    mine = tasks_of_user(mine_only=True).mine
    # the others' most urgent: the cases whose earliest deadline comes first
    others = tasks_of_user(most_urgent=OTHERS_SHOWN).others
    return render_template(
        "tasks/index.html",
        mine=mine,
        others=others,
        step_url=step_url,
        me=int(current_user.record.id),
        lang=locale(),
    )


@bp.post("/tasks/<int:case_id>/<event>/claim")
@writer_required
def claim(case_id: int, event: str) -> ResponseReturnValue:
    """Take a step from the committee's queue (the form carries the CSRF token)."""
    with engine().session() as session:
        claims.claim(session, actor(), case_id, event, now=engine().clock.now())
    return redirect(url_for("tasks.index") + f"#task-{case_id}-{event}")


@bp.post("/tasks/<int:case_id>/<event>/unclaim")
@writer_required
def unclaim(case_id: int, event: str) -> ResponseReturnValue:
    with engine().session() as session:
        claims.unclaim(session, actor(), case_id, event, now=engine().clock.now())
    return redirect(url_for("tasks.index") + f"#task-{case_id}-{event}")


@bp.app_template_global()
def my_tasks() -> list[Task]:
    """The logged-in user's own tasks, most urgent first: for the home page."""
    if not current_user.is_authenticated:
        return []
    return tasks_of_user(mine_only=True).mine


@bp.app_context_processor
def _task_helpers() -> dict[str, object]:
    return {"step_url": step_url}
