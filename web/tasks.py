"""The task list /tasks: what every open case in the user's scope waits for, the user's
own tasks first (overdue first, then by due date), each opening its step's form on the
case page; a committee's shared queue with claim and unclaim. Only HTTP lives here:
the list is workflow.queries.tasks, a claim workflow.directory.claims. The JSON twin is
web/api/tasks.py.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from web.auth import writer_required
from web.context import actor, engine, locale
from workflow.directory import claims
from workflow.queries.case_list import Cursor
from workflow.queries.tasks import PAGE_CASES, Task, TaskPage, task_page

bp = Blueprint("tasks", __name__)
OTHERS_SHOWN = 100  # cases whose others' tasks are listed at most (the case list has all)


def task_page_of_user(
    *, mine_only: bool = False, after: Cursor | None = None, per_page: int | None = None
) -> TaskPage:
    """A page of the user's task list (workflow.queries.tasks.task_page; PAGE_CASES
    cases): bounded, whatever the number of cases in scope."""
    size = per_page or PAGE_CASES
    with engine().session() as session:
        return task_page(session, actor(), mine_only=mine_only, after=after, per_page=size)


def step_url(task: Task) -> str:
    """Where a task opens: its step's form on the case page."""
    return url_for("cases.show", case_id=task.case_id, step=task.event) + f"#event-{task.event}"


@bp.get("/tasks")
@login_required
def index() -> ResponseReturnValue:
    after = Cursor.parse(request.args.get("after"))
    page = task_page_of_user(mine_only=True, after=after)
    # the others' most urgent: the cases whose earliest deadline comes first
    others = task_page_of_user(per_page=OTHERS_SHOWN).tasks if after is None else []
    return render_template(
        "tasks/index.html",
        mine=page.tasks,
        more=url_for("tasks.index", after=page.next.token) if page.next else None,
        later=after is not None,
        others=[t for t in others if not t.mine],
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
def my_tasks() -> TaskPage:
    """The logged-in user's own tasks of the first page, most urgent first: for the home
    page (its `next`: more of them on /tasks)."""
    if not current_user.is_authenticated:
        return TaskPage([], None, 0)
    return task_page_of_user(mine_only=True)


@bp.app_context_processor
def _task_helpers() -> dict[str, object]:
    return {"step_url": step_url}
