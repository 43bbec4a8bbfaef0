"""Administration writes reference data; the audit views read a case's record."""

from __future__ import annotations

import csv
import io

from flask import Flask
from sqlalchemy import text
from sqlmodel import select

from tests.web.support import login, text_of, user
from workflow.engine import Engine
from workflow.models import Member, Organisation, User


def test_an_admin_creates_an_organisation_under_a_parent_with_its_path(
    app: Flask, engine: Engine
) -> None:
    client = login(app, "admin")
    with engine.session() as session:
        parent = session.exec(
            select(Organisation).where(Organisation.kind == "grassroots_committee")
        ).first()
    assert parent is not None
    response = client.post(
        "/admin/organisations",
        data={"name": "Chi bộ thôn Mới", "kind": "cell", "parent_id": str(parent.id)},
    )
    assert response.status_code == 302
    with engine.session() as session:
        cell = session.exec(
            select(Organisation).where(Organisation.name == "Chi bộ thôn Mới")
        ).one()
    assert cell.path == f"{parent.path}{cell.id}/"


def test_an_organisation_cannot_sit_under_a_cell(app: Flask, engine: Engine) -> None:
    cell = user(engine, "secretary").organisation_id
    response = login(app, "admin").post(
        "/admin/organisations", data={"name": "X", "kind": "cell", "parent_id": str(cell)}
    )
    assert response.status_code == 400
    assert "Chi bộ không có tổ chức trực thuộc" in text_of(response.get_data(as_text=True))


def test_an_admin_adds_a_member_and_changes_their_status(app: Flask, engine: Engine) -> None:
    cell = user(engine, "secretary").organisation_id
    client = login(app, "admin")
    response = client.post(
        "/admin/members",
        data={"full_name": "Phạm Văn Mới", "cell_id": str(cell), "status": "probationary"},
    )
    assert response.status_code == 302
    with engine.session() as session:
        member = session.exec(select(Member).where(Member.full_name == "Phạm Văn Mới")).one()
    response = client.post(
        f"/admin/members/{member.id}",
        data={"full_name": "Phạm Văn Mới", "status": "official", "official_since": "01/03/2026"},
    )
    assert response.status_code == 302
    with engine.session() as session:
        saved = session.get(Member, member.id)
    assert saved is not None and saved.status == "official"
    assert saved.official_since is not None and saved.official_since.isoformat() == "2026-03-01"


def test_an_official_member_without_a_date_is_refused(app: Flask, engine: Engine) -> None:
    cell = user(engine, "secretary").organisation_id
    response = login(app, "admin").post(
        "/admin/members", data={"full_name": "A", "cell_id": str(cell), "status": "official"}
    )
    assert response.status_code == 400


def test_an_admin_creates_a_user_who_can_then_log_in(app: Flask, engine: Engine) -> None:
    cell = user(engine, "secretary").organisation_id
    client = login(app, "admin")
    response = client.post(
        "/admin/users",
        data={
            "username": "bithu-moi",
            "full_name": "Bí thư mới",
            "role": "secretary",
            "organisation_id": str(cell),
            "password": "mat-khau-dai-du",
        },
    )
    assert response.status_code == 302
    login(app, "bithu-moi", "mat-khau-dai-du")


def test_an_admin_resets_a_password_and_changes_a_role(app: Flask, engine: Engine) -> None:
    officer = user(engine, "officer")
    response = login(app, "admin").post(
        f"/admin/users/{officer.id}",
        data={
            "role": "auditor",
            "organisation_id": str(officer.organisation_id),
            "active": "on",
            "password": "mot-mat-khau-moi",
        },
    )
    assert response.status_code == 302
    with engine.session() as session:
        saved = session.get(User, officer.id)
    assert saved is not None and saved.role == "auditor"
    login(app, "officer", "mot-mat-khau-moi")


def test_weak_passwords_and_taken_usernames_are_refused(app: Flask, engine: Engine) -> None:
    client = login(app, "admin")
    org = user(engine, "officer").organisation_id
    short = client.post(
        "/admin/users",
        data={"username": "x1", "role": "officer", "organisation_id": org, "password": "short"},
    )
    taken = client.post(
        "/admin/users",
        data={
            "username": "officer",
            "role": "officer",
            "organisation_id": org,
            "password": "x" * 12,
        },
    )
    assert short.status_code == 400 and taken.status_code == 400
    assert "đã có người dùng" in text_of(taken.get_data(as_text=True))


def test_the_history_exports_as_csv_with_its_hashes(shared_app: Flask) -> None:
    client = login(shared_app, "auditor")
    response = client.get("/audit/cases/1/history.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0]["seq"] == "1" and rows[0]["event"] == "nominate"
    assert rows[0]["event_label"] == "Giới thiệu quần chúng ưu tú"
    assert all(len(row["hash"]) == 64 for row in rows)


def test_an_altered_row_is_named_on_the_audit_page(app: Flask, engine: Engine) -> None:
    client = login(app, "auditor")
    assert "Lịch sử toàn vẹn" in text_of(client.get("/audit/cases/1").get_data(as_text=True))
    with engine.database.begin() as connection:
        connection.execute(
            text("UPDATE historyevent SET note = 'sửa lén' WHERE case_id = 1 AND seq = 1")
        )
    page = text_of(client.get("/audit/cases/1").get_data(as_text=True))
    assert "Hàng 1 bị sửa" in page
    assert "Hàng 1 bị sửa" in text_of(client.get("/cases/1").get_data(as_text=True))


def test_the_print_view_is_ready_for_paper(shared_app: Flask) -> None:
    html = login(shared_app, "auditor").get("/audit/cases/1/print").get_data(as_text=True)
    assert "Lưu dưới dạng PDF" in text_of(html) and "no-print" in html
