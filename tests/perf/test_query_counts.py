"""The busiest pages cost the same number of SQL queries with 30 cases as with 300:
no query per case, per row, per history entry or per deadline (no N+1) — the province
officer's dashboard and lists included, first pages and pages read on by cursor."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlmodel import select

from tests.perf.conftest import Site
from workflow.models import Case

PAGES = (
    "/",
    "/cases",
    "/cases?state=probationary",
    "/cases?deadline=overdue",
    "/cases?state=open&page=2",
    # pages read on by cursor (the Next links past the count cap): a place before any case
    "/cases?state=open&after=999999999",
    "/cases?deadline=overdue&after=2000-01-01_1",
    "/cases?deadline=any&before=2999-01-01_1",
    "/api/v1/cases",
    "/api/v1/cases?state=probationary&per_page=50",
    "/api/v1/cases?overdue=true&after=999999999",
)
CASE_PAGES = ("/cases/{id}", "/api/v1/cases/{id}", "/api/v1/cases/{id}/history")
USERS = ("officer-tinh", "officer", "secretary", "auditor", "admin")


@contextmanager
def counted(site: Site) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    event.listen(site.engine.database, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(site.engine.database, "before_cursor_execute", record)


def queries(site: Site, username: str, url: str) -> list[str]:
    headers = site.bearer(username)
    client = site.client()
    assert client.get(url, headers=headers).status_code == 200  # warm every lazy cache
    with counted(site) as statements:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, f"{url} as {username}: HTTP {response.status_code}"
    # An empty page would skip its per-page look-ups: compare pages that list cases.
    if url.startswith("/api/v1/cases") and "items" in (response.get_json() or {}):
        assert response.get_json()["items"], f"{url} as {username} lists no case"
    elif url.startswith("/cases?") or url == "/cases":
        assert re.search(r'href="/cases/\d+"', response.get_data(as_text=True)), url
    return statements


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize("url", PAGES)
def test_list_pages_run_as_many_queries_for_300_cases_as_for_30(
    small_site: Site, large_site: Site, username: str, url: str
) -> None:
    few, many = queries(small_site, username, url), queries(large_site, username, url)
    assert len(many) == len(few), "\n".join(many)


@pytest.mark.parametrize("username", ("officer-tinh", "admin"))
@pytest.mark.parametrize("page", CASE_PAGES)
def test_a_case_page_runs_as_many_queries_whatever_the_number_of_cases(
    small_site: Site, large_site: Site, username: str, page: str
) -> None:
    few = queries(small_site, username, page.format(id=small_site.walked_case))
    many = queries(large_site, username, page.format(id=large_site.walked_case))
    assert len(many) == len(few), "\n".join(many)


@pytest.mark.parametrize("page", CASE_PAGES)
def test_a_long_history_costs_no_more_queries_than_a_short_one(large_site: Site, page: str) -> None:
    """The walked case has 12 history rows, two sponsors, a helper, deadlines; a
    generated case in the same state has two rows: the page must not query per row."""
    short = _generated_case_in_state(large_site, "probationary")
    walked = queries(large_site, "admin", page.format(id=large_site.walked_case))
    generated = queries(large_site, "admin", page.format(id=short))
    assert len(walked) == len(generated), "\n".join(walked)


def _generated_case_in_state(site: Site, state: str) -> int:
    with site.engine.session() as session:
        case_id = session.exec(
            select(Case.id).where(Case.state == state, Case.id != site.walked_case).limit(1)
        ).first()
    assert case_id is not None
    return case_id
