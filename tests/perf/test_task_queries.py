"""The task list costs the same number of SQL queries with 30 cases as with 300 — and
five in all, whatever the scope: the open cases, their live deadlines, their helpers,
the organisations named and the claims (no query per case, per task or per claim)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.perf.conftest import Site
from tests.perf.test_query_counts import counted, queries
from workflow.access import Actor
from workflow.models import User
from workflow.queries.tasks import task_list

PAGES = ("/tasks", "/api/v1/tasks", "/api/v1/tasks?mine=true", "/")
USERS = ("officer-tinh", "officer", "secretary", "admin")
TASK_LIST_QUERIES = 5


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize("url", PAGES)
def test_the_task_list_runs_as_many_queries_for_300_cases_as_for_30(
    small_site: Site, large_site: Site, username: str, url: str
) -> None:
    few, many = queries(small_site, username, url), queries(large_site, username, url)
    assert len(many) == len(few), "\n".join(many)


@pytest.mark.parametrize("username", USERS)
def test_the_task_list_itself_is_five_queries(large_site: Site, username: str) -> None:
    with large_site.engine.session() as session:
        user = session.exec(select(User).where(User.username == username)).one()
        who = Actor.of(session, user)
        with counted(large_site) as statements:
            found = task_list(session, who)
    assert len(statements) == TASK_LIST_QUERIES, "\n".join(statements)
    assert found.tasks, f"{username} sees no task: the count proves nothing"
