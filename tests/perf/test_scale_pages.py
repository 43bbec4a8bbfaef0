"""The pages at a province's scale read what they show by key, not by numbering or
sorting the whole scope: the dashboard's first cases of each state, the list's pages
cut by cursor (newest first, or the soonest due first under a deadline filter), the
capped counts. Each is checked against the plain answer over every case, on SQLite and
PostgreSQL (generated data: bench/datagen.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import event, func
from sqlmodel import col, select

from tests.perf.conftest import TODAY, Site, make_site
from tests.support.postgres import temporary_database
from workflow import access, process
from workflow.access import Actor
from workflow.models import Case, CaseTally, User
from workflow.queries import case_list, dashboard


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("scale-pages")
    if request.param == "sqlite":
        yield make_site(directory, 400, page_size=7)
        return
    with temporary_database() as url:
        made = make_site(directory, 400, page_size=7, url=url)
        try:
            yield made
        finally:
            made.engine.database.dispose()


def actor(site: Site, username: str) -> Actor:
    with site.engine.session() as session:
        user = session.exec(select(User).where(User.username == username)).one()
        return Actor.of(session, user)


def scoped_cases(site: Site, who: Actor) -> list[Case]:
    with site.engine.session() as session:
        return list(session.exec(select(Case).where(access.visible_cases(who))).all())


@pytest.mark.parametrize("username", ["officer-tinh", "officer", "secretary", "admin"])
def test_the_dashboard_shows_the_first_cases_of_each_state_soonest_due_first(
    site: Site, username: str
) -> None:
    who = actor(site, username)
    everything = scoped_cases(site, who)
    with site.engine.session() as session:
        shown = dashboard.overview(session, who, TODAY)
    for state in process.OPEN_STATES:
        in_state = [c for c in everything if c.state == state]
        in_state.sort(key=lambda c: (c.next_due is None, c.next_due or TODAY, c.id))
        expected = [c.id for c in in_state[: dashboard.PER_STATE_SHOWN]]
        assert [w.id for w in shown.groups.get(state, [])] == expected, state
    counts = {}
    for case in everything:
        counts[case.state] = counts.get(case.state, 0) + 1
    assert shown.counts == counts


def test_cases_without_a_deadline_come_after_those_with_one(site: Site) -> None:
    """A state whose first cases have no live deadline: they are listed last, by id."""
    who = actor(site, "admin")
    with site.engine.session() as session:
        state = "probationary"
        ids = session.exec(
            select(Case.id).where(Case.state == state).order_by(col(Case.id)).limit(3)
        ).all()
        for case in session.exec(select(Case).where(col(Case.id).in_(ids))):
            case.next_due = None
        shown = dashboard.overview(session, who, TODAY)  # not committed: rolled back
        rows = shown.groups[state]
        assert all(r.next_due is not None for r in rows[:-1]) or len(rows) < 6
        undated = [r.id for r in rows if r.next_due is None]
        assert undated == sorted(undated)
        session.rollback()


def walk(site: Site, who: Actor, spec: case_list.CaseFilter, soonest: bool) -> list[int]:
    """Every case of the list, page after page by the `next` cursor."""
    ids: list[int] = []
    after = None
    with site.engine.session() as session:
        for _ in range(1000):
            found = case_list.list_page(
                session, who, spec, TODAY, per_page=9, soonest_first=soonest, after=after
            )
            ids += [item.case.id or 0 for item in found.items]
            if found.next is None:
                return ids
            after = found.next
    raise AssertionError("the list did not end")


@pytest.mark.parametrize(
    ("spec", "soonest"),
    [
        (case_list.CaseFilter(), False),
        (case_list.CaseFilter(state="probationary"), False),
        (case_list.CaseFilter(deadline="overdue"), True),
        (case_list.CaseFilter(deadline="any", state="open"), True),
    ],
)
def test_following_next_reads_every_case_once_in_the_lists_order(
    site: Site, spec: case_list.CaseFilter, soonest: bool
) -> None:
    who = actor(site, "officer-tinh")
    with site.engine.session() as session:
        query = select(Case).where(*spec.conditions(who, TODAY))
        expected = list(session.exec(query).all())
    if soonest:
        expected.sort(key=lambda c: (c.next_due, c.id))
    else:
        expected.sort(key=lambda c: -(c.id or 0))
    assert len(expected) > 20
    assert walk(site, who, spec, soonest) == [c.id for c in expected]


def test_previous_pages_by_cursor_are_the_pages_seen_before(site: Site) -> None:
    who = actor(site, "officer-tinh")
    spec = case_list.CaseFilter(deadline="overdue")
    with site.engine.session() as session:
        pages = [case_list.list_page(session, who, spec, TODAY, per_page=5, soonest_first=True)]
        for _ in range(3):
            pages.append(
                case_list.list_page(
                    session, who, spec, TODAY, per_page=5, soonest_first=True, after=pages[-1].next
                )
            )
        assert pages[0].previous is None and pages[1].previous is not None
        back = pages[3]
        for earlier in reversed(pages[:3]):
            back = case_list.list_page(
                session, who, spec, TODAY, per_page=5, soonest_first=True, before=back.previous
            )
            assert [i.case.id for i in back.items] == [i.case.id for i in earlier.items]
        assert back.previous is None  # the first page again


def test_a_cursor_token_names_its_place_and_nothing_else() -> None:
    due = TODAY - timedelta(days=3)
    for cursor in (case_list.Cursor(42), case_list.Cursor(42, due)):
        assert case_list.Cursor.parse(cursor.token) == cursor
    for bad in ("", "x", "0", "-3", "2026-13-01_4", "4_", "_4", "1" * 41, "٣"):
        assert case_list.Cursor.parse(bad) is None, bad


def test_the_province_list_pages_by_cursor_past_the_count_cap(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the cap the page says "more than", numbers no page and links by cursor; the
    links followed read the list on."""
    monkeypatch.setattr(case_list, "COUNT_CAP", 20)
    client = site.client()
    headers = site.bearer("officer-tinh")
    html = client.get("/cases?deadline=overdue", headers=headers).get_data(as_text=True)
    assert "Tìm thấy hơn 20 hồ sơ" in html
    assert "Trang 1 /" not in html and "Page 1 of" not in html
    seen: list[str] = []
    for _ in range(5):
        seen += re.findall(r'href="/cases/(\d+)"', html)
        link = re.search(r'rel="next" href="([^"]+)"', html)
        assert link is not None and "after=" in link.group(1)
        html = client.get(link.group(1).replace("&amp;", "&"), headers=headers).get_data(
            as_text=True
        )
    assert len(seen) == len(set(seen)) == 5 * 7


def test_the_api_reads_on_by_next(site: Site) -> None:
    client = site.client()
    headers = site.bearer("officer-tinh")
    first = client.get("/api/v1/cases?per_page=10", headers=headers).get_json()
    second = client.get(f"/api/v1/cases?per_page=10&after={first['next']}", headers=headers)
    numbered = client.get("/api/v1/cases?per_page=10&page=2", headers=headers).get_json()
    assert [c["id"] for c in second.get_json()["items"]] == [c["id"] for c in numbered["items"]]
    assert client.get("/api/v1/cases?after=2026-01-01_4", headers=headers).status_code == 400
    assert client.get("/api/v1/cases?after=abc", headers=headers).status_code == 400


def test_the_case_page_loads_only_the_cases_own_organisations(site: Site) -> None:
    """Its cell and the cell's ancestors (the official forms name the committee and the
    admitting authority): no statement reads the province's whole tree."""
    statements: list[str] = []

    def record(_c: object, _cur: object, statement: str, *_rest: object) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(site.engine.database, "before_cursor_execute", record)
    try:
        response = site.client().get(f"/cases/{site.walked_case}", headers=site.bearer("admin"))
    finally:
        event.remove(site.engine.database, "before_cursor_execute", record)
    assert response.status_code == 200
    assert "Form" in response.get_data(as_text=True) or "Mẫu" in response.get_data(as_text=True)
    on_organisations = [s for s in statements if re.search(r"FROM organisation\b", s)]
    assert on_organisations
    assert all(" WHERE " in s for s in on_organisations), on_organisations


def tally(site: Site) -> dict[tuple[str, str], int]:
    with site.engine.session() as session:
        rows = session.exec(select(CaseTally.org_path, CaseTally.state, CaseTally.n)).all()
    return {(path, state): n for path, state, n in rows if n}


def counted(site: Site) -> dict[tuple[str, str], int]:
    with site.engine.session() as session:
        rows = session.exec(
            select(Case.org_path, Case.state, func.count()).group_by(
                col(Case.org_path), col(Case.state)
            )
        ).all()
    return {(path, state): n for path, state, n in rows}


def test_the_case_tally_follows_every_write_of_the_case_table(site: Site) -> None:
    """Kept by the database's triggers: a case moved to another state or cell, one
    added, one removed (each a statement the engine or an import might send)."""
    assert tally(site) == counted(site)
    with site.engine.session() as session:
        first, second = session.exec(select(Case).order_by(col(Case.id)).limit(2)).all()
        other = session.exec(
            select(Case.org_path, Case.cell_id).where(Case.org_path != first.org_path).limit(1)
        ).one()
        first.state = "withdrawn"
        second.org_path, second.cell_id = other
        session.commit()
        assert tally(site) == counted(site)
        copy = Case(**{k: v for k, v in second.model_dump().items() if k != "id"})
        session.add(copy)
        session.commit()
        assert tally(site) == counted(site)
        session.delete(copy)
        session.commit()
    assert tally(site) == counted(site)
