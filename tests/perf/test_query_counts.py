"""The busiest pages cost the same number of SQL queries with 30 cases as with 300:
no query per case, per row, per history entry or per deadline (no N+1) — the province
officer's dashboard and lists included, first pages and pages read on by cursor."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlmodel import SQLModel, select

from tests.perf.conftest import Site, make_site
from workflow.models import Case, Member, Organisation

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


@contextmanager
def loaded_objects(model: type[SQLModel]) -> Iterator[list[object]]:
    """The ORM objects of `model` built from rows while the block runs."""
    built: list[object] = []

    def record(target: object, _context: object) -> None:
        built.append(target)

    event.listen(model, "load", record)
    try:
        yield built
    finally:
        event.remove(model, "load", record)


def page_reads(site: Site, username: str, url: str) -> tuple[int, int, int]:
    """A page's statements, and the organisations and members built as ORM objects."""
    with loaded_objects(Organisation) as orgs, loaded_objects(Member) as members:
        statements = queries(site, username, url)
    return len(statements), len(orgs), len(members)


def grow_directory(site: Site, cells: int, members: int) -> list[int]:
    """`cells` more cells beside the walked case's, `members` more members in its cell
    (written directly: test data, as the generator writes); the new cells' ids."""
    with site.engine.session() as session:
        case = session.get(Case, site.walked_case)
        assert case is not None
        cell = session.get(Organisation, case.cell_id)
        assert cell is not None and cell.parent_id is not None
        parent = session.get(Organisation, cell.parent_id)
        assert parent is not None
        added = [
            Organisation(name=f"Chi bộ thêm {n:04d}", kind="cell", parent_id=parent.id)
            for n in range(cells)
        ]
        session.add_all(added)
        session.flush()
        for org in added:
            org.path = f"{parent.path}{org.id}/"
        session.add_all(
            Member(full_name=f"Đảng viên thêm {n:04d}", cell_id=case.cell_id)
            for n in range(members)
        )
        session.commit()
        return [org.id or 0 for org in added]


def test_a_case_page_reads_as_much_with_many_cells_and_members_as_with_few(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The case page of every role that may open it sends as many statements and builds
    as many Organisation and Member objects after its cell gained 400 members and the
    province 150 cells: the cell's members are not listed (the pickers search), nor are
    the cells (the transfer's picker searches them), the class picker reads the case's
    line."""
    site = make_site(tmp_path_factory.mktemp("perf-grow"), 30, page_size=2)
    url = f"/cases/{site.walked_case}"
    roles = ("officer-tinh", "officer", "secretary", "auditor", "admin")
    before = {username: page_reads(site, username, url) for username in roles}
    new_cells = grow_directory(site, cells=150, members=400)
    after = {username: page_reads(site, username, url) for username in roles}
    assert after == before
    # the case's own few: its line of organisations, its sponsors, helpers and names
    assert all(orgs < 20 and members < 20 for _n, orgs, members in after.values()), after
    # a transfer may go to any cell: its form, fetched when opened, searches them by name
    # (no option per cell), and the search finds the new ones
    headers = site.bearer("officer-tinh")
    fragment = site.client().get(f"{url}/events/transfer", headers=headers)
    assert "<option" not in fragment.get_data(as_text=True)
    found = site.client().get("/api/v1/organisations?q=chi bo them 0149", headers=headers)
    assert [f["id"] for f in found.get_json()] == [new_cells[-1]]


# The case page's statements for every role (the walked case: probationary, a full
# history, sponsors, a helper): sign-in (2), the case's reads (9: the case, person,
# sponsors, helpers, history, the organisations of its line, deadlines, the chain's two
# ledger reads), the names of who recorded it, the reminders box (2) — and, when the
# case waits for a committee's shared step, its claims; when the reader's next step has
# a class picker, its reads. The province officer's page sent 30 before it reused what
# it had read (tasks, official forms) and built only the next step's form.
CASE_PAGE_STATEMENTS = 14


@pytest.mark.parametrize("username", USERS)
def test_the_case_page_sends_few_statements(large_site: Site, username: str) -> None:
    statements = queries(large_site, username, f"/cases/{large_site.walked_case}")
    assert len(statements) <= CASE_PAGE_STATEMENTS, "\n".join(statements)
