"""GET /api/v1/cases: scoped, filtered, paged, and a constant number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from tests.api.support import TODAY, Walker
from workflow.engine import Engine
from workflow.queries import case_list
from workflow.text import fold


def _all(walker: Walker, user: str, query: str = "") -> list[dict[str, Any]]:
    answer = walker.api.get(f"/api/v1/cases?per_page=100&{query}", as_=user)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["total"] == len(body["items"])
    return body["items"]  # type: ignore[no-any-return]


def _cells(walker: Walker, *indexes: int) -> set[int]:
    return {walker.world.cell_ids[i] for i in indexes}


@pytest.mark.parametrize(
    ("user", "cells"),
    [
        ("secretary", (0,)),
        ("secretary-2", (1,)),
        ("officer", (0, 1, 2)),
        ("officer-bang-lung", (3, 4)),
        ("officer-tinh", (0, 1, 2, 3, 4)),
        ("auditor", (0, 1, 2, 3, 4)),
        ("admin", (0, 1, 2, 3, 4)),
    ],
)
def test_each_user_lists_the_cases_of_their_own_cells_only(
    walker: Walker, user: str, cells: tuple[int, ...]
) -> None:
    listed = _all(walker, user)
    assert {c["cell_id"] for c in listed} == _cells(walker, *cells)


def test_filters_by_state_cell_overdue_and_name(walker: Walker) -> None:
    everything = _all(walker, "officer")
    verified = _all(walker, "officer", "state=verified")
    assert verified and {c["state"] for c in verified} == {"verified"}
    assert len(verified) == sum(c["state"] == "verified" for c in everything)
    cell = walker.world.cell_ids[1]
    assert {c["cell_id"] for c in _all(walker, "officer", f"cell={cell}")} == {cell}
    overdue = _all(walker, "officer", "overdue=true")
    on_time = _all(walker, "officer", "overdue=false")
    assert len(overdue) + len(on_time) == len(everything)
    for case in overdue:
        assert min(d["due"] for d in case["deadlines"]) < TODAY.isoformat()
        assert {d["stage"] for d in case["deadlines"]} & {"overdue", "escalated"}
    for case in on_time:
        assert all(d["due"] >= TODAY.isoformat() for d in case["deadlines"])
    someone = everything[3]["person"]
    family_name = someone["full_name"].split()[0]
    named = _all(walker, "officer", f"q={family_name.lower()}")
    assert someone["full_name"] in {c["person"]["full_name"] for c in named}
    assert all(fold(family_name) in fold(c["person"]["full_name"]) for c in named) or any(
        c["person"]["national_id"] == family_name for c in named
    )
    by_id = _all(walker, "officer", f"q={someone['national_id']}")
    assert [c["person"]["national_id"] for c in by_id] == [someone["national_id"]]
    assert _all(walker, "officer", "q=100%25_") == []  # LIKE wildcards are literal


def test_pages_split_the_list_newest_first(walker: Walker) -> None:
    everything = _all(walker, "admin")
    pages = [
        walker.api.get(f"/api/v1/cases?per_page=7&page={n}", as_="admin").get_json()
        for n in range(1, 9)
    ]
    assert all(p["total"] == len(everything) and p["per_page"] == 7 for p in pages)
    ids = [c["id"] for p in pages for c in p["items"]]
    assert ids == [c["id"] for c in everything] == sorted(ids, reverse=True)


@contextmanager
def _counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine.database, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine.database, "before_cursor_execute", count)


def test_a_page_costs_the_same_queries_whatever_its_size(walker: Walker) -> None:
    engine = walker.api.client.application.extensions["ketnap.engine"]
    walker.api.token("officer")
    counts = []
    for size in (2, 40):
        with _counting(engine) as statements:
            answer = walker.api.get(f"/api/v1/cases?per_page={size}", as_="officer")
        assert len(answer.get_json()["items"]) == min(size, answer.get_json()["total"])
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_past_the_count_cap_the_total_stops_and_says_so(
    walker: Walker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Like the /cases page, the API counts a province's cases only up to the cap."""
    everything = _all(walker, "admin")
    monkeypatch.setattr(case_list, "COUNT_CAP", 5)
    capped = walker.api.get("/api/v1/cases?per_page=7", as_="admin").get_json()
    assert len(everything) > 7
    assert capped["total"] == 5 and capped["total_capped"] is True
    assert len(capped["items"]) == 7  # the page itself is not cut
    national_id = everything[0]["person"]["national_id"]
    one = walker.api.get(f"/api/v1/cases?q={national_id}", as_="admin").get_json()
    assert one["total"] == 1 and one["total_capped"] is False
