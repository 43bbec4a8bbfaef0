"""An API client that sends the same act twice (a retry after a timeout) gets the first
one's answer, not a 409 — on SQLite and PostgreSQL; any other act from a stale version
is still a conflict. And a malformed body names every problem at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.support import Api, make_app
from tests.engine.conftest import (  # noqa: F401 — the engine tests' database fixtures
    BOTH,
    TODAY,
    Setup,
    postgres_template,
    setup_on,
    sqlite_template,
)


@pytest.fixture(params=BOTH)
def api_on(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Setup, Api]]:
    with setup_on(request.param, request, tmp_path) as setup:
        yield setup, Api(make_app(setup.engine, RATELIMIT_ENABLED=False).test_client())


def test_the_same_event_sent_twice_is_answered_twice_and_recorded_once(
    api_on: tuple[Setup, Api],
) -> None:
    setup, api = api_on
    case_id = setup.case_in("nominated", setup.dong_lo_cell)
    version = setup.case(case_id).version
    secretary = setup.secretary(setup.dong_lo_cell).username
    data = {"class_name": "Lớp nhận thức 2/2026", "issuer": "Trung tâm Chính trị huyện"}
    first = api.record(case_id, "enrol_in_class", data, TODAY, secretary, version)
    again = api.record(case_id, "enrol_in_class", data, TODAY, secretary, version)
    assert first.status_code == again.status_code == 200, again.get_json()
    assert first.get_json()["version"] == again.get_json()["version"] == version + 1
    assert again.get_json()["state"] == "in_class"
    assert [r.event for r in setup.history(case_id)].count("enrol_in_class") == 1
    other = api.record(case_id, "withdraw", {"reason": "Chuyển đi"}, TODAY, secretary, version)
    assert other.status_code == 409
    changed = {**data, "issuer": "Trường Chính trị tỉnh"}
    assert (
        api.record(case_id, "enrol_in_class", changed, TODAY, secretary, version).status_code == 409
    )


def test_a_malformed_nomination_names_every_problem(api_on: tuple[Setup, Api]) -> None:
    setup, api = api_on
    secretary = setup.secretary(setup.dong_lo_cell).username
    body = {
        "on": TODAY.isoformat(),
        "person": {"full_name": "Lê Thị Lan", "birth_date": "31/02/1999", "gender": "x"},
        "cell_id": setup.dong_lo_cell,
    }
    answer = api.post("/api/v1/cases", as_=secretary, json=body)
    assert answer.status_code == 400
    fields = [e["field"] for e in answer.get_json()["errors"]]
    assert answer.get_json()["error"]["field"] == fields[0]
    assert set(fields) >= {
        "person.birth_date",
        "person.gender",
        "person.occupation",
        "nominated_by",
        "nomination_ref",
    }
