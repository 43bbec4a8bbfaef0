"""Dates on the report pages as people write them: the period picker, the target,
class and village forms are text inputs showing dd/mm/yyyy (no browser date picker,
which shows mm/dd/yyyy in an English browser), and the server reads dd/mm/yyyy and ISO."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import select

from tests.reports.conftest import new_engine
from web.app import create_app
from workflow.config import Config
from workflow.engine import Engine
from workflow.models import AdmissionTarget, Course, Organisation, Village, VillageOfficial
from workflow.ops import demo

PAGES = {
    "officer-tinh": ["/reports/admissions", "/reports/targets", "/reports/summary"],
    "officer": ["/reports/class-records"],
    "admin": ["/reports/village-records"],
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    built = new_engine(f"sqlite:///{tmp_path_factory.mktemp('dmy') / 'ketnap.db'}")
    with built.session() as session:
        demo.build_world(session, random.Random(3))
    yield built
    built.database.dispose()


@pytest.fixture(scope="module")
def app(engine: Engine) -> Flask:
    settings = {"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
    return create_app(engine, Config(), SECRET_KEY="test", **settings)


def login(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    answer = client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD})
    assert answer.status_code == 302, username
    return client


def dong_lo(engine: Engine) -> int:
    with engine.session() as session:
        org = session.exec(select(Organisation).where(Organisation.name == "Đảng ủy xã Đông Lỗ"))
        found = org.one().id
    assert found is not None
    return found


@pytest.mark.parametrize(("user", "page"), [(u, p) for u, ps in PAGES.items() for p in ps])
def test_no_report_page_uses_the_browser_s_date_picker(app: Flask, user: str, page: str) -> None:
    html = login(app, user).get(page).get_data(as_text=True)
    assert 'type="date"' not in html
    assert 'class="date-input"' in html


def test_the_picker_reads_and_shows_dd_mm_yyyy(app: Flask) -> None:
    client = login(app, "officer-tinh")
    html = client.get("/reports/admissions?from=01/10/2025&to=31/12/2025").get_data(as_text=True)
    assert re.search(r'id="from" name="from" value="01/10/2025"', html)
    assert re.search(r'id="to" name="to" value="31/12/2025"', html)
    iso = client.get("/api/v1/reports/admissions?from=2025-10-01&to=2025-12-31").get_json()
    dmy = client.get("/api/v1/reports/admissions?from=01/10/2025&to=31/12/2025").get_json()
    assert dmy == iso and iso["from"] == "2025-10-01"
    bad = client.get("/reports/admissions?from=31/02/2025")
    assert bad.status_code == 400 and "Từ ngày" in bad.get_data(as_text=True)


def test_a_target_s_period_is_typed_dd_mm_yyyy(app: Flask, engine: Engine) -> None:
    client = login(app, "officer-tinh")
    form = {
        "organisation_id": "1",
        "kind": "resolution",
        "period_start": "01/10/2025",
        "period_end": "30/09/2030",
        "number": "120",
        "ref": "Nghị quyết 130-NQ/HU",
    }
    assert client.post("/reports/targets", data=form).status_code == 302
    with engine.session() as session:
        target = session.exec(select(AdmissionTarget).where(AdmissionTarget.number == 120)).one()
    assert (target.period_start.isoformat(), target.period_end.isoformat()) == (
        "2025-10-01",
        "2030-09-30",
    )
    listed = client.get("/reports/targets").get_data(as_text=True)
    assert "01/10/2025 – 30/09/2030" in listed
    bad = client.post("/reports/targets", data=form | {"period_end": "31/13/2030"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "dd/mm/yyyy" in text
    assert 'value="31/13/2030"' in text  # what was typed stays


def test_a_class_is_recorded_with_dd_mm_yyyy(app: Flask, engine: Engine) -> None:
    client = login(app, "officer")
    form = {
        "kind": "awareness",
        "name": "Lớp nhận thức khóa III/2025",
        "issuer": "",
        "organisation_id": str(dong_lo(engine)),
        "starts_on": "08/09/2025",
        "ends_on": "12/09/2025",
        "attendees": "40",
    }
    assert client.post("/reports/class-records", data=form).status_code == 302
    with engine.session() as session:
        course = session.exec(select(Course).where(Course.name == form["name"])).one()
    assert course.starts_on.isoformat() == "2025-09-08"
    assert course.ends_on is not None and course.ends_on.isoformat() == "2025-09-12"
    assert "08/09/2025" in client.get("/reports/class-records").get_data(as_text=True)


def test_village_records_take_and_show_dd_mm_yyyy(app: Flask, engine: Engine) -> None:
    client = login(app, "admin")
    org = str(dong_lo(engine))
    page = "/reports/village-records?org=" + org
    add = {
        "action": "add_village",
        "organisation_id": org,
        "name": "Thôn Khuổi Tát",
        "established_on": "15/03/2001",
    }
    assert client.post(page, data=add).status_code == 302
    with engine.session() as session:
        village = session.exec(select(Village).where(Village.name == "Thôn Khuổi Tát")).one()
    assert village.established_on is not None
    assert village.established_on.isoformat() == "2001-03-15"
    official = {
        "action": "add_official",
        "village_id": village.id,
        "role": "head",
        "full_name": "Ma Văn Tăng",
        "starts_on": "01/01/2024",
        "party_member_since": "02/09/2010",
    }
    assert client.post(page, data=official).status_code == 302
    with engine.session() as session:
        kept = session.exec(
            select(VillageOfficial).where(VillageOfficial.full_name == "Ma Văn Tăng")
        ).one()
    assert kept.starts_on.isoformat() == "2024-01-01"
    html = client.get(page).get_data(as_text=True)
    assert f'id="joined-{kept.id}" name="party_member_since" value="02/09/2010"' in html
