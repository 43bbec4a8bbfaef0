# The test client types `response.json` as `Any | None`; these tests index it freely.
# mypy: disable-error-code="index, union-attr"
"""A district's classes loaded as a committee loads them — a third commune, its cell and
members through the API, the district's class record and the candidates' histories
through the public import, later enrolments through the API — then report 4 read back
through the API and compared with figures worked out by hand: the district's one class,
attended by candidates of three communes, is counted once, with its recorded headcount
(never headcount plus enrolments). SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import select

from tests.reports.conftest import new_engine
from web.app import create_app
from workflow.access import Actor
from workflow.config import Config
from workflow.engine import Engine
from workflow.exchange import layouts, run
from workflow.models import Attendance, Course, Member, Organisation, User
from workflow.ops import demo

TODAY = date(2026, 6, 30)
START = date(2024, 1, 8)  # every imported candidate was nominated that day
HEADCOUNT = 120  # the district's political centre counted 120 people in its class
PERIOD = {"from": "2024-01-01", "to": "2025-12-31"}


@dataclass
class District:
    engine: Engine
    app: Flask
    province: int
    communes: list[int]
    cells: list[int]  # one cell per commune
    awareness_day: date

    secretaries: list[str]  # the username of each cell's secretary

    def client(self, username: str = "admin") -> FlaskClient:
        client = self.app.test_client()
        answer = client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD})
        assert answer.status_code == 302
        return client

    def classes(self, org: int, **query: str) -> dict[str, Any]:
        answer = self.client().get(
            "/api/v1/reports/classes", query_string={"org": org, **PERIOD, **query}
        )
        assert answer.status_code == 200, answer.json
        return answer.json


def _write(path: Path, kind: str, rows: list[dict[str, Any]]) -> Path:
    header = layouts.columns(kind)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else str(row.get(c)) for c in header])
    return path


def _third_commune(client: FlaskClient, province: int) -> tuple[int, int, list[int]]:
    """Đảng ủy xã Hoàng Vân, its cell and three official members, through the API."""
    commune = client.post(
        "/api/v1/organisations",
        json={
            "name": "Đảng ủy xã Hoàng Vân",
            "kind": "grassroots_committee",
            "parent_id": province,
            "may_admit": True,
        },
    )
    assert commune.status_code == 201, commune.json
    cell = client.post(
        "/api/v1/organisations",
        json={"name": "Chi bộ thôn Hoàng Vân", "kind": "cell", "parent_id": commune.json["id"]},
    )
    assert cell.status_code == 201, cell.json
    members = []
    for name in ("Ngô Văn Hải", "Lê Thị Hoa", "Đỗ Văn Tâm"):
        member = client.post(
            "/api/v1/members",
            json={
                "full_name": name,
                "cell_id": cell.json["id"],
                "status": "official",
                "joined_on": "2008-05-19",
                "official_since": "2009-05-19",
            },
        )
        assert member.status_code == 201, member.json
        members.append(member.json["id"])
    return commune.json["id"], cell.json["id"], members


@pytest.fixture(scope="module")
def district(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[District]:
    engine = new_engine(database_url, TODAY)
    with engine.session() as session:
        world = demo.build_world(session, random.Random(5))
        session.commit()
        admin = session.exec(select(User).where(User.username == "admin")).one()
        actor = Actor.of(session, admin)
        named = {o.name: o.id for o in session.exec(select(Organisation)).all()}
    settings = {"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
    app = create_app(engine, Config(), SECRET_KEY="test", **settings)
    client = app.test_client()
    assert client.post("/login", data={"username": "admin", "password": demo.DEMO_PASSWORD})
    province = named["Đảng bộ tỉnh Bắc Giang"]
    commune3, cell3, members3 = _third_commune(client, province)
    cells = [world.cell_ids[0], world.cell_ids[3], cell3]  # Đông Lỗ, Bằng Lũng, Hoàng Vân
    sponsors = {**world.officials, cell3: members3}
    rows = [
        demo.import_row(
            n,
            cell,
            sponsors[cell],
            START,
            target="probationary",
            committee=cell == world.cell_ids[3],  # Bằng Lũng may not admit: its committee votes
        )
        for n, cell in enumerate(cells, start=1)
    ]
    awareness_day = rows[0]["class_started_on"]
    directory = tmp_path_factory.mktemp("district")
    recorded = _write(
        directory / "classes.csv",
        "classes",
        [
            {
                "kind": "awareness",
                "name": rows[0]["class_name"],
                "organisation": province,
                "starts_on": awareness_day,
                "ends_on": awareness_day,
                "issuer": "Trung tâm Chính trị huyện",
                "attendees": HEADCOUNT,
            }
        ],
    )
    report = run.import_file(engine, recorded, actor)
    assert report.rejected == 0, report
    report = run.import_file(engine, _write(directory / "cases.csv", "cases", rows), actor)
    assert (report.written, report.rejected) == (3, 0), report
    communes = [named["Đảng ủy xã Đông Lỗ"], named["Đảng ủy thị trấn Bằng Lũng"], commune3]
    with engine.session() as session:
        cell = session.get(Organisation, cell3)
        demo.add_user(session, "secretary-hoang-van", "secretary", cell, "Bí thư chi bộ Hoàng Vân")
        session.commit()
    secretaries = [world.secretary[c].username for c in cells[:2]] + ["secretary-hoang-van"]
    yield District(engine, app, province, communes, cells, awareness_day, secretaries)
    engine.database.dispose()


def _kinds(result: dict[str, Any]) -> dict[str, tuple[int, int, int]]:
    return {
        k["kind"]: (k["classes"], k["attendees"], k["candidates_of_subtree"])
        for k in result["by_kind"]
    }


def test_a_district_class_attended_from_three_communes_is_counted_once(
    district: District,
) -> None:
    result = district.classes(district.province)
    # awareness: the district's one class, its recorded 120 (the three enrolled among
    # them, not added); theory: one class created at the district for the three
    assert _kinds(result) == {"awareness": (1, HEADCOUNT, 3), "theory": (1, 3, 3)}
    awareness = next(c for c in result["classes"] if c["kind"] == "awareness")
    assert (awareness["headcount"], awareness["enrolled"]) == (HEADCOUNT, 3)
    assert awareness["organisation"] == "Đảng bộ tỉnh Bắc Giang"
    for commune in district.communes:  # no commune holds a copy of the district's class
        assert _kinds(district.classes(commune)) == {
            "awareness": (0, 0, 1),
            "theory": (0, 0, 1),
        }


def _nominate(client: FlaskClient, cell: int, on: date, seed: int) -> dict[str, Any]:
    data = demo.nomination(random.Random(seed), cell, on)
    answer = client.post("/api/v1/cases", json={**data, "on": on.isoformat()})
    assert answer.status_code == 201, answer.json
    return answer.json


def _enrol(client: FlaskClient, case: dict[str, Any], on: date, data: dict[str, Any]) -> Any:
    return client.post(
        f"/api/v1/cases/{case['id']}/events",
        json={
            "event": "enrol_in_class",
            "version": case["version"],
            "on": on.isoformat(),
            "data": data,
        },
    )


def test_enrolments_through_the_api_pick_the_class_by_id_or_by_its_name(
    district: District,
) -> None:
    """A fourth candidate picked by class id, a fifth named the class (spaces and case
    as typed by hand): both land in the district's class; its headcount stands."""
    with district.engine.session() as session:
        course = session.exec(select(Course).where(Course.kind == "awareness")).one()
    day = district.awareness_day
    nominated = day.replace(day=1) if day.day > 1 else day
    client = district.client(district.secretaries[2])
    by_id = _nominate(client, district.cells[2], nominated, 41)
    answer = _enrol(client, by_id, day, {"class_id": course.id})
    assert answer.status_code == 200, answer.json
    client = district.client(district.secretaries[1])
    by_name = _nominate(client, district.cells[1], nominated, 42)
    typed = "  " + course.name.upper().replace(" ", "  ") + " "
    answer = _enrol(client, by_name, day, {"class_name": typed, "issuer": "Huyện"})
    assert answer.status_code == 200, answer.json
    result = district.classes(district.province)
    assert _kinds(result)["awareness"] == (1, HEADCOUNT, 5)
    awareness = next(c for c in result["classes"] if c["kind"] == "awareness")
    assert awareness["enrolled"] == 5


def test_an_enrolment_naming_a_class_of_the_wrong_kind_is_refused_naming_the_field(
    district: District,
) -> None:
    client = district.client(district.secretaries[0])
    with district.engine.session() as session:
        theory = session.exec(select(Course).where(Course.kind == "theory")).one()
    day = district.awareness_day
    case = _nominate(client, district.cells[0], day, 43)
    answer = _enrol(client, case, day, {"class_id": theory.id})
    assert answer.status_code == 400
    assert answer.json["error"]["field"] == "class_id"
    answer = _enrol(client, case, day, {"issuer": "Huyện"})
    assert answer.status_code == 400
    assert answer.json["error"]["field"] == "class_name"
    with district.engine.session() as session:
        assert len(session.exec(select(Course)).all()) == 2  # nothing written


def test_the_enrolment_form_offers_the_district_class_by_name_and_first_day(
    district: District,
) -> None:
    """The picker lists the classes of the cell's district (the one held by the district
    above this commune included) by name and first day, and where a new one may be held."""
    client = district.client(district.secretaries[2])
    case = _nominate(client, district.cells[2], district.awareness_day, 44)
    page = client.get(f"/cases/{case['id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    with district.engine.session() as session:
        course = session.exec(select(Course).where(Course.kind == "awareness")).one()
        theory = session.exec(select(Course).where(Course.kind == "theory")).one()
    option = f'<option value="{course.id}" >{course.name} — {course.starts_on:%d/%m/%Y}'
    assert option in html.replace("selected", "")
    assert f'value="{theory.id}" >{theory.name}' not in html  # the theory picker is not here
    holders = html.split("class_organisation_id", 1)[1].split("</select>", 1)[0]
    assert "Đảng bộ tỉnh Bắc Giang" in holders and "Chi bộ thôn Hoàng Vân" in holders


def test_an_imported_case_names_its_class_by_number(district: District, tmp_path: Path) -> None:
    """The import's class_id column: the class numbered wins over a name written
    differently (a typing slip in the file), so the candidate joins the district class."""
    with district.engine.session() as session:
        course = session.exec(select(Course).where(Course.kind == "awareness")).one()
        admin = Actor.of(session, session.exec(select(User).where(User.username == "admin")).one())
        members = [
            m.id for m in session.exec(select(Member).where(Member.cell_id == district.cells[2]))
        ]
        before = len(
            session.exec(select(Attendance).where(Attendance.course_id == course.id)).all()
        )
    row = demo.import_row(90, district.cells[2], members, START, target="class_passed")
    row |= {"class_id": course.id, "class_name": "Lớp nhận thức (gõ sai)"}
    report = run.import_file(district.engine, _write(tmp_path / "one.csv", "cases", [row]), admin)
    assert (report.written, report.rejected) == (1, 0), report
    with district.engine.session() as session:
        assert len(session.exec(select(Course)).all()) == 2  # no class "gõ sai" created
        attending = session.exec(select(Attendance).where(Attendance.course_id == course.id)).all()
    assert len(attending) == before + 1
