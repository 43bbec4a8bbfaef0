"""The transfer's receiving cell is found by name, not chosen among every cell: the
form carries a search box (/api/v1/organisations?q=, diacritics and case ignored, scoped
to what the caller may name), and without JavaScript the server resolves the typed name
— a name several cells share is refused with a bilingual message naming each of them."""

from __future__ import annotations

import re

from flask import Flask
from sqlmodel import select

from tests.web.support import case_in_state, login, user
from workflow.directory import organisation_search
from workflow.engine import Engine
from workflow.models import Case, Organisation
from workflow.schema import InvalidData


def add_cell(engine: Engine, name: str, parent_name: str) -> int:
    with engine.session() as session:
        parent = session.exec(select(Organisation).where(Organisation.name == parent_name)).one()
        cell = Organisation(name=name, kind="cell", parent_id=parent.id)
        session.add(cell)
        session.flush()
        cell.path = f"{parent.path}{cell.id}/"
        session.commit()
        assert cell.id is not None
        return cell.id


def cell_named(engine: Engine, name: str) -> int:
    with engine.session() as session:
        org_id = session.exec(select(Organisation.id).where(Organisation.name == name)).one()
    assert org_id is not None
    return org_id


def transfer(app: Flask, engine: Engine, fields: dict[str, str]) -> tuple[int, int, str]:
    """The secretary posts a transfer of a case of the cell: (case, status, page)."""
    case = case_in_state(engine, "verified", user(engine, "secretary").organisation_id)
    client = login(app, "secretary")
    sent = client.post(
        f"/cases/{case.id}/events/transfer",
        data={"version": str(case.version), "on": "16/03/2026", **fields},
    )
    assert case.id is not None
    return case.id, sent.status_code, sent.get_data(as_text=True)


def cell_of(engine: Engine, case_id: int) -> int:
    with engine.session() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.cell_id


def test_the_transfer_form_searches_cells_instead_of_listing_them(
    app: Flask, engine: Engine
) -> None:
    case = case_in_state(engine, "verified", user(engine, "secretary").organisation_id)
    html = login(app, "secretary").get(f"/cases/{case.id}/events/transfer").get_data(as_text=True)
    assert '<select id="w-f-to_cell_id"' not in html and "<option" not in html
    picker = re.search(r'<span class="member-picker organisation-picker"[^>]*>', html)
    assert picker is not None
    assert 'data-search="/api/v1/organisations"' in picker.group(0)
    assert 'data-kind="cell"' in picker.group(0)
    assert 'name="f.to_cell_id.label"' in html and 'name="f.to_cell_id"' in html
    assert "Gõ một phần tên chi bộ…" in html


def test_the_search_ignores_diacritics_and_case_and_names_the_cell_above(app: Flask) -> None:
    client = login(app, "secretary")
    found = client.get("/api/v1/organisations?q=CHI BO THON huong").get_json()
    assert [f["name"] for f in found] == ["Chi bộ thôn Hương Câu"]
    assert found[0]["parent_name"] == "Đảng ủy xã Đông Lỗ"
    assert found[0]["label"] == "Chi bộ thôn Hương Câu (Đảng ủy xã Đông Lỗ)"
    assert found[0]["kind"] == "cell"
    # every word, in the name or in the organisation above it
    both = client.get("/api/v1/organisations?q=truong bang lung").get_json()
    assert [f["name"] for f in both] == ["Chi bộ Trường Mầm non Bằng Lũng"]
    assert client.get(f"/api/v1/organisations?q=%23{found[0]['id']}").get_json() == found
    committees = client.get("/api/v1/organisations?q=dang uy&kind=committee").get_json()
    assert {f["kind"] for f in committees} <= {"committee", "grassroots_committee"}
    assert {"Đảng ủy xã Đông Lỗ", "Đảng ủy thị trấn Bằng Lũng"} <= {f["name"] for f in committees}
    cells = client.get("/api/v1/organisations?q=chi bo").get_json()
    assert cells and all(f["kind"] in ("cell", "grassroots_cell") for f in cells)
    assert len(cells) <= organisation_search.LIMIT
    # without q: the tree, as before
    tree = client.get("/api/v1/organisations").get_json()
    assert isinstance(tree, list) and tree[0]["path"].count("/") == 2
    assert client.get("/api/v1/organisations?kind=bogus&q=chi").status_code == 400


def test_the_search_is_scoped_to_what_the_caller_may_name(app: Flask, engine: Engine) -> None:
    # a transfer may go to any cell: the officer of Đông Lỗ finds Bằng Lũng's cells
    officer = login(app, "officer").get("/api/v1/organisations?q=to dan pho 3").get_json()
    assert [f["name"] for f in officer] == ["Chi bộ Tổ dân phố 3"]
    # a sponsor records no act naming a cell: only its own scope (its cell)
    sponsor = user(engine, "sponsor")
    with engine.session() as session:
        own = session.get(Organisation, sponsor.organisation_id)
    assert own is not None
    found = login(app, "sponsor").get("/api/v1/organisations?q=chi bo").get_json()
    assert [f["id"] for f in found] == [own.id]
    assert login(app, "sponsor").get("/api/v1/organisations?q=to dan pho").get_json() == []
    assert app.test_client().get("/api/v1/organisations?q=chi bo").status_code == 401


def test_a_typed_name_is_resolved_without_javascript(app: Flask, engine: Engine) -> None:
    target = cell_named(engine, "Chi bộ Tổ dân phố 3")
    case_id, status, _html = transfer(app, engine, {"f.to_cell_id.label": "chi bo to dan pho 3"})
    assert status == 302
    assert cell_of(engine, case_id) == target


def test_the_picker_s_choice_settles_a_name_two_cells_share(app: Flask, engine: Engine) -> None:
    twin = add_cell(engine, "Chi bộ Tổ dân phố 3", "Đảng ủy xã Đông Lỗ")
    label = "Chi bộ Tổ dân phố 3 (Đảng ủy xã Đông Lỗ)"
    case_id, status, _html = transfer(
        app, engine, {"f.to_cell_id.label": label, "f.to_cell_id": str(twin)}
    )
    assert status == 302 and cell_of(engine, case_id) == twin


def test_a_name_several_cells_share_is_refused_naming_each(app: Flask, engine: Engine) -> None:
    twin = add_cell(engine, "Chi bộ Tổ dân phố 3", "Đảng ủy xã Đông Lỗ")
    first = cell_named_under(engine, "Chi bộ Tổ dân phố 3", "Đảng ủy thị trấn Bằng Lũng")
    case_id, status, html = transfer(app, engine, {"f.to_cell_id.label": "Chi bộ Tổ dân phố 3"})
    assert status == 400
    error = re.search(
        r'data-path="to_cell_id".*?<span class="field-error"[^>]*>(.*?)</span>', html, re.S
    )
    assert error is not None
    message = error.group(1)
    assert "Có 2 chi bộ khớp với “Chi bộ Tổ dân phố 3”" in message
    assert f"#{twin}" in message and f"#{first}" in message
    assert "Đảng ủy xã Đông Lỗ" in message and "Đảng ủy thị trấn Bằng Lũng" in message
    assert 'value="Chi bộ Tổ dân phố 3"' in html  # what was typed is kept
    assert cell_of(engine, case_id) == user(engine, "secretary").organisation_id
    # the label with the cell above it names one
    _case, status, _html = transfer(
        app, engine, {"f.to_cell_id.label": "Chi bộ Tổ dân phố 3 (Đảng ủy xã Đông Lỗ)"}
    )
    assert status == 302


def cell_named_under(engine: Engine, name: str, parent_name: str) -> int:
    with engine.session() as session:
        parent = session.exec(select(Organisation).where(Organisation.name == parent_name)).one()
        org_id = session.exec(
            select(Organisation.id).where(
                Organisation.name == name, Organisation.parent_id == parent.id
            )
        ).one()
    assert org_id is not None
    return org_id


def test_the_refusals_say_the_problem_in_both_languages(engine: Engine) -> None:
    add_cell(engine, "Chi bộ Tổ dân phố 3", "Đảng ủy xã Đông Lỗ")
    from workflow.access import Actor

    with engine.session() as session:
        secretary = Actor.of(session, user(engine, "secretary"))
        for typed, vi, en in (
            ("Chi bộ Tổ dân phố 3", "Có 2 chi bộ khớp với", "2 cells match"),
            ("Chi bộ không có", "Không tìm thấy chi bộ nào tên", "No cell named"),
        ):
            try:
                organisation_search.resolve(session, secretary, typed, "to_cell_id")
            except InvalidData as problem:
                assert problem.field == "to_cell_id"
                assert vi in problem.message("vi") and en in problem.message("en")
                if "match" in en:
                    assert "type the cell's number" in problem.message("en")
            else:
                raise AssertionError(f"{typed!r} named one cell")
