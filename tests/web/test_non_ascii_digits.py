"""Every integer parameter of the API and the pages, given "²" (which str.isdigit()
accepts and int() refuses) or "٣" (which int() reads as 3): a 400 naming the field, a
404 for an id in a path, or the parameter ignored on a page's filter — never a 500,
and never taken for a number. Found by grepping web/ for query_int, _int_arg, _int,
_form_id, _sponsor_arg and the forms' number fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.support import case_in_state, login
from workflow.engine import Engine

DIGITS = ("²", "٣")


@dataclass(frozen=True)
class Probe:
    """One request carrying the odd digit in one integer parameter."""

    role: str
    method: str
    path: str  # "{n}" stands for the odd digit, "{case}" for a case id
    body: Callable[[str, int], dict[str, Any]] | None = None
    json: bool = False
    expect: tuple[int, ...] = (400,)


def form(**fields: str) -> Callable[[str, int], dict[str, Any]]:
    return lambda n, case: {k: v.format(n=n, case=case) for k, v in fields.items()}


PROBES: dict[str, Probe] = {
    # the API: query parameters
    "api cases page": Probe("officer", "GET", "/api/v1/cases?page={n}"),
    "api cases per_page": Probe("officer", "GET", "/api/v1/cases?per_page={n}"),
    "api cases cell": Probe("officer", "GET", "/api/v1/cases?cell={n}"),
    "api members cell": Probe("officer", "GET", "/api/v1/members?cell={n}"),
    "api admin-log limit": Probe("auditor", "GET", "/api/v1/admin-log?limit={n}"),
    "api admin-log before": Probe("auditor", "GET", "/api/v1/admin-log?before={n}"),
    "api admin-log record": Probe("auditor", "GET", "/api/v1/admin-log?record={n}"),
    "api report org": Probe("officer", "GET", "/api/v1/reports/admissions?org={n}"),
    "api report csv org": Probe("officer", "GET", "/api/v1/reports/classes.csv?org={n}"),
    "api report xlsx org": Probe("officer", "GET", "/api/v1/reports/classes.xlsx?org={n}"),
    "api narrative org": Probe("officer", "GET", "/api/v1/narrative?org={n}"),
    "api targets org": Probe("officer", "GET", "/api/v1/targets?org={n}"),
    # the API: ids in paths (a path that names no row)
    "api case id": Probe("officer", "GET", "/api/v1/cases/{n}", expect=(404,)),
    "api history id": Probe("officer", "GET", "/api/v1/cases/{n}/history", expect=(404,)),
    "api inbox id": Probe("officer", "POST", "/api/v1/inbox/{n}/done", expect=(404,)),
    # the API: bodies
    "api event version": Probe(
        "officer",
        "POST",
        "/api/v1/cases/{case}/events",
        lambda n, case: {
            "event": "withdraw",
            "on": "2026-03-01",
            "version": n,
            "data": {"reason": "x"},
        },
        json=True,
        expect=(400, 422),
    ),
    "api event number": Probe(
        "officer",
        "POST",
        "/api/v1/cases/{case}/events",
        lambda n, case: {
            "event": "cell_vote",
            "on": "2026-03-01",
            "version": 1,
            "data": {"voters": n, "votes_for": 2, "resolution_ref": "NQ"},
        },
        json=True,
        expect=(400, 409, 422),
    ),
    "api member cell_id": Probe(
        "admin",
        "POST",
        "/api/v1/members",
        lambda n, case: {"full_name": "Hà Văn Mới", "cell_id": n, "official_since": "2020-01-01"},
        json=True,
    ),
    "api target year": Probe(
        "officer",
        "POST",
        "/api/v1/targets",
        lambda n, case: {"organisation_id": 2, "kind": "year", "year": n, "number": 40},
        json=True,
    ),
    "api target number": Probe(
        "officer",
        "POST",
        "/api/v1/targets",
        lambda n, case: {"organisation_id": 2, "kind": "year", "year": 2026, "number": n},
        json=True,
    ),
    # pages: filters that ignore what is not a number
    "page cases page": Probe("officer", "GET", "/cases?page={n}", expect=(200,)),
    "page cases year": Probe("officer", "GET", "/cases?year={n}", expect=(200,)),
    "page cases cell": Probe("officer", "GET", "/cases?cell={n}", expect=(200,)),
    "page inbox done": Probe("secretary", "GET", "/inbox?done={n}", expect=(200,)),
    "page admin members cell": Probe("admin", "GET", "/admin/members?cell={n}", expect=(200,)),
    # pages: ids and refusals
    "page case id": Probe("officer", "GET", "/cases/{n}", expect=(404,)),
    "page form sponsor": Probe(
        "officer", "GET", "/cases/{case}/forms/3-knd.docx?sponsor={n}", expect=(404,)
    ),
    "page report org": Probe("officer", "GET", "/reports/admissions?org={n}"),
    "page event version": Probe(
        "officer",
        "POST",
        "/cases/{case}/events/withdraw",
        form(version="{n}", on="2026-03-01", reason="x"),
        expect=(200, 400, 409, 422),
    ),
    "page event number": Probe(
        "officer",
        "POST",
        "/cases/{case}/events/cell_vote",
        form(version="1", on="2026-03-01", voters="{n}", votes_for="2", resolution_ref="NQ"),
        expect=(200, 400, 409, 422),
    ),
    "page event list row": Probe(
        "officer",
        "POST",
        "/cases/{case}/events/assign_sponsors",
        form(**{"version": "1", "on": "2026-03-01", "sponsors.{n}.member_id": "1"}),
        expect=(200, 400, 409, 422),
    ),
    "page village census": Probe(
        "officer",
        "POST",
        "/reports/village-records",
        form(action="census", village_id="{n}", counted_on="2026-01-01", party_members="3"),
    ),
    "page village official": Probe(
        "officer",
        "POST",
        "/reports/village-records",
        form(action="update_official", official_id="{n}", ends_on="2026-01-01"),
    ),
    "page target year": Probe(
        "officer",
        "POST",
        "/reports/targets",
        form(organisation_id="2", kind="year", year="{n}", number="40"),
    ),
    "page class attendees": Probe(
        "officer",
        "POST",
        "/reports/class-records",
        form(
            kind="awareness",
            name="Lớp",
            organisation_id="2",
            starts_on="2026-01-05",
            attendees="{n}",
        ),
    ),
    "page admin member cell": Probe(
        "admin",
        "POST",
        "/admin/members",
        form(full_name="Hà Văn Mới", cell_id="{n}", status="official", official_since="2020-01-01"),
    ),
}


@pytest.fixture(scope="module")
def clients(shared_app: Flask) -> dict[str, FlaskClient]:
    return {role: login(shared_app, role) for role in ("secretary", "officer", "auditor", "admin")}


@pytest.fixture(scope="module")
def a_case(shared_app: Flask) -> int:
    engine: Engine = shared_app.extensions["ketnap.engine"]
    case = case_in_state(engine, "verified")
    assert case.id is not None
    return case.id


@pytest.mark.parametrize("digit", DIGITS, ids=("superscript-two", "arabic-indic-three"))
@pytest.mark.parametrize("probe", PROBES.values(), ids=PROBES.keys())
def test_an_odd_digit_is_never_a_server_error_nor_a_number(
    clients: dict[str, FlaskClient], a_case: int, probe: Probe, digit: str
) -> None:
    client = clients[probe.role]
    path = probe.path.format(n=digit, case=a_case)
    kwargs: dict[str, Any] = {}
    if probe.body is not None:
        body = probe.body(digit, a_case)
        kwargs = {"json": body} if probe.json else {"data": body}
    answer = client.open(path, method=probe.method, **kwargs)
    assert answer.status_code < 500, answer.get_data(as_text=True)[:500]
    assert answer.status_code in probe.expect, (
        answer.status_code,
        answer.get_data(as_text=True)[:300],
    )
    if answer.status_code == 400 and answer.is_json:
        error = answer.get_json()["error"]
        assert error["field"], error
