"""Forms that forgive: every problem of a submit at once, each beside its field and in a
summary at the top; a double submit answered as the first; members chosen by name."""

from __future__ import annotations

import re

from flask import Flask
from sqlmodel import select

from tests.web.support import case_in_state, fresh_case, login, members_of, text_of, user
from tests.web.test_cases import dmy, error_inside, secretary_cell, sponsor_form
from workflow.engine import Engine
from workflow.models import HistoryEvent, Member
from workflow.ops.demo import World
from workflow.text import fold


def summary_of(html: str) -> list[str]:
    """The items of the error summary at the top of the form, as text."""
    found = re.search(r'class="notice notice-error error-summary".*?<ul>(.*?)</ul>', html, re.S)
    assert found, "the form shows an error summary"
    return [text_of(item) for item in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)]


def test_a_nomination_missing_several_fields_names_them_all_in_one_submit(
    app: Flask, engine: Engine
) -> None:
    client = login(app, "secretary")
    response = client.post(
        "/cases/new",
        data={
            "f.person.full_name": "Lê Văn Tâm",
            "f.person.birth_date": "31/02/1999",  # no such day
            "f.cell_id": str(secretary_cell(engine)),
            "f.nomination_ref": "3-GT",
            "on": "",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    items = summary_of(html)
    assert len(items) == 5, items  # birth date, gender, occupation, nominated by, date
    assert "dd/mm/yyyy" in error_inside(html, "w-f-person-birth_date")
    assert "Thiếu" in error_inside(html, "w-f-person-gender")
    assert "Thiếu" in error_inside(html, "w-f-person-occupation")
    assert "Thiếu" in error_inside(html, "w-f-nominated_by")
    assert "Thiếu" in error_inside(html, "w-on")
    assert 'href="#w-f-person-gender"' in html  # each item links to its field
    assert 'value="Lê Văn Tâm"' in html  # what was typed is kept


def test_two_bad_sponsors_are_both_refused_each_beside_its_row(
    app: Flask, engine: Engine, world: World
) -> None:
    cell = secretary_cell(engine)
    case = fresh_case(engine, world, cell, "class_passed")
    probationary = members_of(engine, cell, "probationary")[:2]
    client = login(app, "secretary")
    response = client.post(
        f"/cases/{case.id}/events/assign_sponsors",
        data=sponsor_form(engine, case, [m.id or 0 for m in probationary]),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert len(summary_of(html)) == 2
    for row, member in enumerate(probationary):
        message = error_inside(html, f"w-f-sponsors-{row}-member_id")
        assert member.full_name in message and "sponsor_is_official" in message


def test_the_same_step_submitted_twice_is_recorded_once_and_both_answers_say_recorded(
    app: Flask, engine: Engine
) -> None:
    case = case_in_state(engine, "nominated", secretary_cell(engine))
    client = login(app, "secretary")
    form = {
        "version": case.version,
        "f.class_name": "Lớp nhận thức 3/2026",
        "f.issuer": "Trung tâm Chính trị huyện",
        "on": dmy(2),
    }
    first = client.post(f"/cases/{case.id}/events/enrol_in_class", data=form)
    second = client.post(f"/cases/{case.id}/events/enrol_in_class", data=form)
    assert first.status_code == second.status_code == 302
    page = text_of(client.get(second.location).get_data(as_text=True))
    assert "Đã ghi" in page and "người khác" not in page
    with engine.session() as session:
        rows = session.exec(select(HistoryEvent).where(HistoryEvent.case_id == case.id)).all()
    assert [r.event for r in rows].count("enrol_in_class") == 1


def test_another_act_from_a_stale_version_is_still_a_conflict(app: Flask, engine: Engine) -> None:
    case = case_in_state(engine, "nominated", secretary_cell(engine))
    client = login(app, "secretary")
    form = {"version": case.version, "f.class_name": "A", "f.issuer": "T", "on": dmy(2)}
    assert client.post(f"/cases/{case.id}/events/enrol_in_class", data=form).status_code == 302
    other = client.post(f"/cases/{case.id}/events/withdraw", data={**form, "f.reason": "x"})
    assert other.status_code == 409


def test_a_sponsor_typed_by_name_without_diacritics_is_found(
    app: Flask, engine: Engine, world: World
) -> None:
    cell = secretary_cell(engine)
    case = fresh_case(engine, world, cell, "class_passed")
    first, second = members_of(engine, cell, "official")[3:5]
    client = login(app, "secretary")
    data = sponsor_form(engine, case, [])
    for i, member in enumerate((first, second)):
        data[f"f.sponsors.{i}.member_id"] = ""
        data[f"f.sponsors.{i}.member_id.label"] = fold(member.full_name).upper()
        data[f"f.sponsors.{i}.alongside_since"] = dmy(600)
    response = client.post(f"/cases/{case.id}/events/assign_sponsors", data=data)
    assert response.status_code == 302, text_of(response.get_data(as_text=True))[:2000]


def test_a_name_that_fits_several_members_asks_which_one(
    app: Flask, engine: Engine, world: World
) -> None:
    cell = secretary_cell(engine)
    case = fresh_case(engine, world, cell, "class_passed")
    client = login(app, "secretary")
    data = sponsor_form(engine, case, [])
    names = [fold(m.full_name) for m in members_of(engine, cell, "official")]
    shared = next(w for w in (n.split()[0] for n in names) if sum(w in n for n in names) > 1)
    data["f.sponsors.0.member_id.label"] = shared  # a family name several members share
    data["f.sponsors.0.alongside_since"] = dmy(600)
    data["f.sponsors.1.member_id.label"] = "không có ai tên này"
    data["f.sponsors.1.alongside_since"] = dmy(600)
    response = client.post(f"/cases/{case.id}/events/assign_sponsors", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    several = error_inside(html, "w-f-sponsors-0-member_id")
    assert f"đảng viên khớp với “{shared}”" in several and "#" in several
    assert "Không tìm thấy đảng viên nào" in error_inside(html, "w-f-sponsors-1-member_id")
    assert f'value="{shared}"' in html  # the typed name is kept


def test_the_case_page_lists_no_members_any_more(app: Flask, engine: Engine, world: World) -> None:
    cell = secretary_cell(engine)
    case = fresh_case(engine, world, cell, "class_passed")
    html = login(app, "secretary").get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'class="member-picker"' in html and "/api/v1/members/search" in html
    someone = members_of(engine, cell, "official")[4]
    assert someone.full_name not in html


def test_the_member_search_ignores_diacritics_and_case_and_stays_in_scope(
    app: Flask, engine: Engine
) -> None:
    cell = secretary_cell(engine)
    mine = members_of(engine, cell, "official")[0]
    with engine.session() as session:
        elsewhere = session.exec(select(Member).where(Member.cell_id != cell)).first()
    assert elsewhere is not None
    client = login(app, "secretary")
    found = client.get("/api/v1/members/search", query_string={"q": fold(mine.full_name)})
    assert found.status_code == 200
    assert mine.id in [m["id"] for m in found.get_json()["items"]]
    assert found.get_json()["items"][0]["full_name"] == mine.full_name  # exact name first
    hidden = client.get("/api/v1/members/search", query_string={"q": elsewhere.full_name})
    assert elsewhere.id not in [m["id"] for m in hidden.get_json()["items"]]
    admin = login(app, "admin")
    seen = admin.get("/api/v1/members/search", query_string={"q": elsewhere.full_name})
    assert elsewhere.id in [m["id"] for m in seen.get_json()["items"]]


def test_every_form_date_is_a_dd_mm_yyyy_text_box(app: Flask, engine: Engine) -> None:
    html = login(app, "secretary").get("/cases/new").get_data(as_text=True)
    assert 'type="date"' not in html
    box = re.search(r'<input type="text" id="w-f-person-birth_date"[^>]*>', html, re.S)
    assert box and 'placeholder="dd/mm/yyyy"' in box.group(0) and "pattern=" in box.group(0)


def test_a_double_tap_on_the_form_is_stopped_by_the_page_too(app: Flask) -> None:
    html = login(app, "secretary").get("/cases/new").get_data(as_text=True)
    assert "data-once" in html and "/static/js/forms." in html
    assert user is not None


def test_a_secretary_corrects_a_name_and_the_timeline_shows_old_and_new(
    app: Flask, engine: Engine
) -> None:
    from workflow.models import Person

    case = case_in_state(engine, "nominated", secretary_cell(engine))
    with engine.session() as session:
        person = session.get(Person, case.person_id)
        assert person is not None
        old = person.full_name
    client = login(app, "secretary")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="event-correct_particulars"' in page
    response = client.post(
        f"/cases/{case.id}/events/correct_particulars",
        data={
            "version": case.version,
            "f.person.full_name": "Trần Thị Ánh Tuyết",
            "f.reason": "Giấy khai sinh ghi khác",
            "on": dmy(),
        },
    )
    assert response.status_code == 302
    shown = text_of(client.get(f"/cases/{case.id}").get_data(as_text=True))
    assert f"{old} → Trần Thị Ánh Tuyết" in shown and "Giấy khai sinh ghi khác" in shown


def test_a_504_character_name_is_refused_beside_the_name(app: Flask, engine: Engine) -> None:
    client = login(app, "secretary")
    response = client.post(
        "/cases/new",
        data={"f.person.full_name": "Nguyễn " * 72, "on": dmy()},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "quá dài (tối đa 100 ký tự)" in error_inside(html, "w-f-person-full_name")


def test_the_admin_links_a_user_to_a_member_by_name(app: Flask, engine: Engine) -> None:
    from workflow.models import User

    sponsor = user(engine, "sponsor")
    cell = secretary_cell(engine)
    member = members_of(engine, cell, "official")[5]
    client = login(app, "admin")
    page = client.get(f"/admin/users/{sponsor.id}").get_data(as_text=True)
    assert 'name="member_id.label"' in page and "Party member no." not in page
    form = {
        "role": "sponsor",
        "organisation_id": str(sponsor.organisation_id or cell),
        "full_name": sponsor.full_name or "",
        "active": "on",
        "member_id": str(sponsor.member_id),  # what the page held: the picker's old id
        "member_id.label": fold(member.full_name),  # a new name typed, no JavaScript
    }
    assert client.post(f"/admin/users/{sponsor.id}", data=form).status_code == 302
    with engine.session() as session:
        saved = session.get(User, sponsor.id)
    assert saved is not None and saved.member_id == member.id
    refused = client.post(
        f"/admin/users/{sponsor.id}", data={**form, "member_id.label": "không có ai"}
    )
    assert refused.status_code == 400
    assert "Không tìm thấy đảng viên nào" in text_of(refused.get_data(as_text=True))


def test_a_nomination_sent_twice_opens_one_case(app: Flask, engine: Engine) -> None:
    client = login(app, "secretary")
    form = {
        "f.person.full_name": "Phạm Thị Hồng Nhung",
        "f.person.birth_date": "12/05/1998",
        "f.person.gender": "female",
        "f.person.occupation": "farmer",
        "f.cell_id": str(secretary_cell(engine)),
        "f.nominated_by": "womens_union",
        "f.nomination_ref": "21-GT/PN",
        "on": dmy(1),
    }
    first = client.post("/cases/new", data=form)
    second = client.post("/cases/new", data=form)
    assert first.status_code == second.status_code == 302
    assert first.location == second.location  # the same case
    assert "Đã mở hồ sơ số" in text_of(client.get(second.location).get_data(as_text=True))
