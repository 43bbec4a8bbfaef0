"""Recording steps through the generated forms: success, refusals next to their field,
malformed input, stale versions, failed votes — and never a 500."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from sqlmodel import select

from tests.web.support import TODAY, case_in_state, fresh_case, login, members_of, text_of, user
from web import cases
from workflow.engine import Engine
from workflow.models import Case, HelperAssignment, HistoryEvent, Person
from workflow.ops.demo import World
from workflow.queries import dashboard


def dmy(days_ago: int = 0) -> str:
    return (TODAY - timedelta(days=days_ago)).strftime("%d/%m/%Y")


def secretary_cell(engine: Engine) -> int:
    cell = user(engine, "secretary").organisation_id
    assert cell is not None
    return cell


def error_inside(html: str, dom_id: str) -> str:
    """The field error shown in the widget with this id ('' when there is none)."""
    start = html.index(f'id="{dom_id}"')
    end = html.find("</fieldset>", start)
    chunk = html[start : end if end != -1 else start + 3000]
    found = re.search(r'class="field-error"[^>]*>(.*?)</span>\s*</span>', chunk, re.S)
    if not found:
        found = re.search(r'class="field-error"[^>]*>(.*?)</span>', chunk, re.S)
    return text_of(found.group(1)) if found else ""


def test_a_secretary_nominates_a_candidate_through_the_generated_form(
    app: Flask, engine: Engine
) -> None:
    client = login(app, "secretary")
    form_page = client.get("/cases/new").get_data(as_text=True)
    assert 'name="f.person.full_name"' in form_page and 'name="f.nominated_by"' in form_page
    response = client.post(
        "/cases/new",
        data={
            "f.person.full_name": "Nguyễn Thị Thu Hà",
            "f.person.birth_date": "12/05/1998",
            "f.person.gender": "female",
            "f.person.ethnicity": "Kinh",
            "f.person.occupation": "public_employee",
            "f.cell_id": str(secretary_cell(engine)),
            "f.nominated_by": "womens_union",
            "f.nomination_ref": "12-GT/PN",
            "on": dmy(1),
        },
    )
    assert response.status_code == 302
    case_id = int(response.location.rsplit("/", 1)[1])
    with engine.session() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.state == "nominated"
        person = session.get(Person, case.person_id)
        assert person is not None and person.birth_date.isoformat() == "1998-05-12"
    page = text_of(client.get(response.location).get_data(as_text=True))
    assert "Nguyễn Thị Thu Hà" in page and "Đã mở hồ sơ số" in page


def test_a_missing_field_is_named_next_to_it_and_the_typed_values_are_kept(
    app: Flask, engine: Engine
) -> None:
    client = login(app, "secretary")
    response = client.post(
        "/cases/new",
        data={
            "f.person.full_name": "Lê Văn Tâm",
            "f.person.gender": "male",
            "f.person.occupation": "farmer",
            "f.cell_id": str(secretary_cell(engine)),
            "f.nominated_by": "cell",
            "f.nomination_ref": "3-GT",
            "on": dmy(),
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Thiếu" in error_inside(html, "w-f-person-birth_date")
    assert 'value="Lê Văn Tâm"' in html


def test_an_unreadable_date_is_refused_next_to_its_field(app: Flask, engine: Engine) -> None:
    case = case_in_state(engine, "nominated", secretary_cell(engine))
    client = login(app, "secretary")
    response = client.post(
        f"/cases/{case.id}/events/enrol_in_class",
        data={
            "version": case.version,
            "f.class_name": "Lớp nhận thức 3/2026",
            "f.issuer": "Trung tâm Chính trị huyện",
            "on": "31/02/2026",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "dd/mm/yyyy" in error_inside(html, "w-on")
    assert 'value="Lớp nhận thức 3/2026"' in html


def test_a_date_in_the_future_is_refused_with_its_rule(app: Flask, engine: Engine) -> None:
    case = case_in_state(engine, "nominated", secretary_cell(engine))
    client = login(app, "secretary")
    response = client.post(
        f"/cases/{case.id}/events/enrol_in_class",
        data={"version": case.version, "f.class_name": "L", "f.issuer": "T", "on": dmy(-3)},
    )
    assert response.status_code == 422
    assert "tương lai" in error_inside(response.get_data(as_text=True), "w-on")


def sponsor_form(engine: Engine, case: Case, member_ids: list[int]) -> dict[str, object]:
    data: dict[str, object] = {"version": case.version, "on": dmy()}
    for i, member_id in enumerate(member_ids):
        data[f"f.sponsors.{i}.member_id"] = str(member_id)
        data[f"f.sponsors.{i}.alongside_since"] = dmy(600)
    return data


def test_a_probationary_sponsor_is_refused_next_to_the_sponsors_with_rule_and_source(
    app: Flask, engine: Engine, world: World
) -> None:
    cell = secretary_cell(engine)
    case = fresh_case(engine, world, cell, "class_passed")
    official = members_of(engine, cell, "official")[3]
    probationary = members_of(engine, cell, "probationary")[0]
    client = login(app, "secretary")
    response = client.post(
        f"/cases/{case.id}/events/assign_sponsors",
        data=sponsor_form(engine, case, [official.id or 0, probationary.id or 0]),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    message = error_inside(html, "w-f-sponsors-1-member_id")  # the second row's picker
    assert probationary.full_name in message and "không phải đảng viên chính thức" in message
    assert "sponsor_is_official" in message and "Điều lệ Đảng" in message
    assert re.search(rf'name="f.sponsors.1.member_id" value="{probationary.id}"', html), (
        "the chosen sponsor stays chosen"
    )
    with engine.session() as session:
        assert session.get(Case, case.id).state == "class_passed"  # type: ignore[union-attr]


def test_fixing_the_sponsor_records_the_step_and_shows_it_in_the_timeline(
    app: Flask, engine: Engine, world: World
) -> None:
    cell = secretary_cell(engine)
    case = fresh_case(engine, world, cell, "class_passed")
    first, second = members_of(engine, cell, "official")[3:5]
    client = login(app, "secretary")
    response = client.post(
        f"/cases/{case.id}/events/assign_sponsors",
        data=sponsor_form(engine, case, [first.id or 0, second.id or 0]),
    )
    assert response.status_code == 302
    page = text_of(client.get(f"/cases/{case.id}").get_data(as_text=True))
    assert "Đã ghi nhận: Phân công người giới thiệu" in page
    assert "Đã có người giới thiệu" in page and first.full_name in page


def test_a_stale_version_says_someone_else_updated_the_case(app: Flask, engine: Engine) -> None:
    case = case_in_state(engine, "nominated", secretary_cell(engine))
    client = login(app, "secretary")
    response = client.post(
        f"/cases/{case.id}/events/enrol_in_class",
        data={"version": case.version - 1, "f.class_name": "L", "f.issuer": "T", "on": dmy()},
    )
    assert response.status_code == 409
    page = text_of(response.get_data(as_text=True))
    assert "người khác cập nhật" in page
    with engine.session() as session:
        assert session.get(Case, case.id).version == case.version  # type: ignore[union-attr]


def test_a_vote_short_of_two_thirds_is_recorded_with_a_notice(app: Flask, engine: Engine) -> None:
    case = case_in_state(engine, "verified")
    officer = login(app, "officer-tinh")  # an officer above every cell records cell steps too
    response = officer.post(
        f"/cases/{case.id}/events/cell_vote",
        data={
            "version": case.version,
            "f.voters": "9",
            "f.votes_for": "5",
            "f.resolution_ref": "NQ-01",
            "on": dmy(),
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    page = text_of(response.get_data(as_text=True))
    assert "không đạt" in page
    with engine.session() as session:
        last = session.exec(
            select(HistoryEvent)
            .where(HistoryEvent.case_id == case.id)
            .order_by(HistoryEvent.seq.desc())  # type: ignore[union-attr]
        ).first()
        assert last is not None and last.outcome == "failed_vote"


def test_the_sponsor_records_their_comment_as_helper(app: Flask, engine: Engine) -> None:
    sponsor = user(engine, "sponsor")
    with engine.session() as session:
        case = session.exec(
            select(Case)
            .join(HelperAssignment, HelperAssignment.case_id == Case.id)  # type: ignore[arg-type]
            .where(
                HelperAssignment.member_id == sponsor.member_id,
                Case.state == "probationary",
                Case.helper_comment_on.is_(None),  # type: ignore[union-attr]
            )
        ).first()
    assert case is not None
    client = login(app, "sponsor")
    dashboard = text_of(client.get("/").get_data(as_text=True))
    assert "Viết nhận xét đảng viên dự bị" in dashboard
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="event-record_helper_comment"' in page
    assert 'id="event-cell_confirm_vote"' not in page  # a cell step, not a helper's
    response = client.post(
        f"/cases/{case.id}/events/record_helper_comment",
        data={
            "version": case.version,
            "f.helper_id": str(sponsor.member_id),
            "f.comment": "Gương mẫu, tích cực.",
            "on": dmy(),
        },
    )
    assert response.status_code == 302
    with engine.session() as session:
        assert session.get(Case, case.id).helper_comment_on == TODAY  # type: ignore[union-attr]


def test_only_events_allowed_now_and_for_the_role_are_offered(app: Flask, engine: Engine) -> None:
    case = case_in_state(engine, "cell_resolved", secretary_cell(engine))
    secretary = login(app, "secretary").get(f"/cases/{case.id}").get_data(as_text=True)
    officer = login(app, "officer").get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="event-committee_vote"' not in secretary  # a committee's act
    assert 'id="event-withdraw"' in secretary
    assert 'id="event-committee_vote"' in officer
    assert 'id="event-pass_class"' not in officer  # not allowed from this state


def test_an_event_not_allowed_now_is_refused_not_crashed(app: Flask, engine: Engine) -> None:
    case = case_in_state(engine, "nominated", secretary_cell(engine))
    client = login(app, "secretary")
    response = client.post(
        f"/cases/{case.id}/events/pass_class",
        data={"version": case.version, "f.certificate_no": "X", "on": dmy()},
    )
    assert response.status_code == 422
    assert "Không thể" in text_of(response.get_data(as_text=True))


def test_garbage_input_never_gives_a_server_error(app: Flask, engine: Engine, world: World) -> None:
    case = fresh_case(engine, world, secretary_cell(engine), "class_passed")
    client = login(app, "secretary")
    attempts: list[dict[str, object]] = [
        {},
        {"version": "abc"},
        {"version": case.version, "on": "hôm qua"},
        {"version": case.version, "on": dmy(), "f.sponsors.0.member_id": "x"},
        {"version": case.version, "on": dmy(), "f.sponsors.99999.member_id": "1"},
        {"version": case.version, "on": dmy(), "f.unknown": "1", "note": "x" * 5000},
        {"version": "99999999999999999999", "on": dmy()},
    ]
    for data in attempts:
        response = client.post(f"/cases/{case.id}/events/assign_sponsors", data=data)
        assert response.status_code in (400, 409, 422), data
    assert client.post(f"/cases/{case.id}/events/no_such_event", data={}).status_code == 404
    assert client.post("/cases/new", data={"f.person": "x", "on": "1"}).status_code == 400


def _listed_on_the_page(html: str) -> set[int]:
    return {int(found) for found in re.findall(r'href="/cases/(\d+)"', html)}


def test_the_page_and_the_api_list_the_same_cases_for_one_filter(app: Flask) -> None:
    """One filter, one query: /cases and /api/v1/cases answer alike."""
    client = login(app, "officer")
    for page_query, api_query in (
        ("state=verified", "state=verified"),
        ("deadline=overdue", "overdue=true"),
    ):
        page = client.get(f"/cases?{page_query}").get_data(as_text=True)
        listed = _listed_on_the_page(page)
        assert listed, page_query
        answer = client.get(f"/api/v1/cases?per_page=100&{api_query}").get_json()
        assert {c["id"] for c in answer["items"]} == listed, page_query
        assert answer["total"] == len(listed) and answer["total_capped"] is False


def test_the_page_offers_the_events_the_api_calls_allowed(app: Flask, engine: Engine) -> None:
    case = case_in_state(engine, "cell_resolved", secretary_cell(engine))
    for username in ("secretary", "officer", "auditor"):
        client = login(app, username)
        page = client.get(f"/cases/{case.id}").get_data(as_text=True)
        offered = re.findall(r'id="event-([a-z_]+)"', page)
        allowed = client.get(f"/api/v1/cases/{case.id}").get_json()["allowed_events"]
        assert offered == allowed, username


def test_every_expectation_of_a_sponsor_is_worded_on_the_dashboard() -> None:
    assert set(cases.EXPECTED) == set(dashboard.EXPECTATIONS)
