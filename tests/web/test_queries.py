"""Lists cost a fixed number of queries, however many rows they show."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event

from tests.web.support import DemoTemplate, copy_engine, login, make_app


@contextmanager
def counted(app: Flask) -> Iterator[list[str]]:
    database = app.extensions["ketnap.engine"].database
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(database, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(database, "before_cursor_execute", record)


def queries_for(app: Flask, url: str) -> int:
    client = login(app, "admin")
    client.get(url)  # warm the user's session
    with counted(app) as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_the_case_list_does_not_query_per_row(demo_template: DemoTemplate, tmp_path) -> None:  # type: ignore[no-untyped-def]
    small = make_app(copy_engine(demo_template, tmp_path), KETNAP_PAGE_SIZE=3)
    large_dir = tmp_path / "large"
    large_dir.mkdir()
    large = make_app(copy_engine(demo_template, large_dir), KETNAP_PAGE_SIZE=40)
    url = "/cases?deadline=any"  # every row has a deadline to name
    assert queries_for(small, url) == queries_for(large, url)


def test_the_dashboard_costs_a_handful_of_queries(shared_app: Flask) -> None:
    assert queries_for(shared_app, "/") <= 10
