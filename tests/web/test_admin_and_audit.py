"""Administration writes reference data through the actions of workflow/directory, each
change logged; the audit views read a case's record and the admin log of a subtree."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Flask
from sqlalchemy import text
from sqlmodel import select

from tests.web.support import login, text_of, user
from workflow.engine import Engine
from workflow.models import AdminLogEntry, Member, Organisation, User


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
        data={"full_name": "Phạm Văn Mới", "cell_id": str(cell), "status": "probationary"}
        | {"joined_on": "02/09/2025"},
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


# ── the admin log ─────────────────────────────────────────────────────────
def _probationary_member(engine: Engine) -> Member:
    cell = user(engine, "secretary").organisation_id
    with engine.session() as session:
        member = session.exec(
            select(Member).where(Member.cell_id == cell, Member.status == "probationary")
        ).first()
    assert member is not None and member.joined_on is not None
    return member


def _confirm(app: Flask, member: Member, official_since: str = "01/03/2026") -> None:
    """The admin records on the member's page that they became official."""
    response = login(app, "admin").post(
        f"/admin/members/{member.id}",
        data={
            "full_name": member.full_name,
            "status": "official",
            "joined_on": member.joined_on.strftime("%d/%m/%Y") if member.joined_on else "",
            "official_since": official_since,
        },
    )
    assert response.status_code == 302, text_of(response.get_data(as_text=True))


def _log_rows(engine: Engine) -> int:
    with engine.session() as session:
        return len(session.exec(select(AdminLogEntry.id)).all())


def _csv(client: Any) -> list[dict[str, str]]:
    response = client.get("/audit/admin-log.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_an_admins_change_of_a_member_status_shows_in_the_admin_log(
    app: Flask, engine: Engine
) -> None:
    member = _probationary_member(engine)
    _confirm(app, member)
    auditor = login(app, "auditor")
    page = text_of(auditor.get("/audit/admin-log").get_data(as_text=True))
    assert f"Sửa hồ sơ đảng viên Đảng viên số {member.id}" in page
    assert "Tình trạng: dự bị → chính thức" in page
    assert "Ngày chính thức: — → 01/03/2026" in page
    rows = [r for r in _csv(auditor) if r["record_id"] == str(member.id)]
    assert {(r["field"], r["old"], r["new"]) for r in rows} == {
        ("status", "probationary", "official"),
        ("official_since", "", "2026-03-01"),
    }
    assert {(r["username"], r["action"], r["record_table"]) for r in rows} == {
        ("admin", "change_member", "member")
    }
    assert rows[0]["user_id"] == str(user(engine, "admin").id)
    assert rows[0]["recorded_at_utc"] == engine.clock.now().isoformat()


def test_an_auditor_of_another_subtree_does_not_see_the_change(app: Flask, engine: Engine) -> None:
    bang_lung = user(engine, "officer-bang-lung").organisation_id
    created = login(app, "admin").post(
        "/admin/users",
        data={
            "username": "kiemtra-bang-lung",
            "role": "auditor",
            "organisation_id": str(bang_lung),
            "password": "mat-khau-dai-du",
        },
    )
    assert created.status_code == 302
    member = _probationary_member(engine)  # a member of Đông Lỗ's cell
    _confirm(app, member)
    other = login(app, "kiemtra-bang-lung", "mat-khau-dai-du")
    page = text_of(other.get("/audit/admin-log").get_data(as_text=True))
    assert f"Đảng viên số {member.id}" not in page
    assert "kiemtra-bang-lung" in page  # their own account lies in their subtree
    assert not [r for r in _csv(other) if r["record_table"] == "member"]
    secretary = login(app, "secretary")
    assert secretary.get("/audit/admin-log").status_code == 403
    assert secretary.get("/audit/admin-log.csv").status_code == 403


def test_an_official_date_before_joining_is_refused_and_writes_nothing(
    app: Flask, engine: Engine
) -> None:
    member = _probationary_member(engine)
    assert member.joined_on is not None
    before, logged = member.model_dump(), _log_rows(engine)
    response = login(app, "admin").post(
        f"/admin/members/{member.id}",
        data={
            "full_name": member.full_name,
            "status": "official",
            "joined_on": member.joined_on.strftime("%d/%m/%Y"),
            "official_since": f"01/01/{member.joined_on.year - 1}",
        },
    )
    assert response.status_code == 400
    page = text_of(response.get_data(as_text=True))
    assert "Ngày chính thức không được trước ngày vào Đảng" in page
    with engine.session() as session:
        saved = session.get(Member, member.id)
    assert saved is not None and saved.model_dump() == before
    assert _log_rows(engine) == logged


def test_a_cell_without_a_parent_is_refused_with_the_actions_message(
    app: Flask, engine: Engine
) -> None:
    logged = _log_rows(engine)
    response = login(app, "admin").post(
        "/admin/organisations", data={"name": "Chi bộ mồ côi", "kind": "cell"}
    )
    assert response.status_code == 400
    assert "Chi bộ phải trực thuộc một đảng ủy" in text_of(response.get_data(as_text=True))
    with engine.session() as session:
        orphan = session.exec(select(Organisation).where(Organisation.name == "Chi bộ mồ côi"))
        assert orphan.first() is None
    assert _log_rows(engine) == logged


def test_a_bad_date_typed_on_the_page_is_named_and_writes_nothing(
    app: Flask, engine: Engine
) -> None:
    member = _probationary_member(engine)
    logged = _log_rows(engine)
    response = login(app, "admin").post(
        f"/admin/members/{member.id}",
        data={"full_name": member.full_name, "status": "official", "official_since": "31/02/2026"},
    )
    assert response.status_code == 400
    assert "31/02/2026" in text_of(response.get_data(as_text=True))
    assert _log_rows(engine) == logged


def test_a_password_change_is_logged_without_the_password(app: Flask, engine: Engine) -> None:
    officer = user(engine, "officer")
    assert officer.active and not officer.daily_digest
    response = login(app, "admin").post(
        f"/admin/users/{officer.id}",
        data={
            "full_name": officer.full_name,
            "role": "officer",
            "organisation_id": str(officer.organisation_id),
            "email": officer.email or "",
            "active": "on",
            "password": "mot-mat-khau-moi",
        },
    )
    assert response.status_code == 302
    rows = [r for r in _csv(login(app, "auditor")) if r["record_table"] == "user"]
    assert [(r["field"], r["old"], r["new"]) for r in rows] == [("password", "***", "*** (new)")]
    assert "mot-mat-khau-moi" not in str(rows)


def test_the_admin_log_page_pages_back_and_filters_by_record(app: Flask, engine: Engine) -> None:
    member = _probationary_member(engine)
    _confirm(app, member)
    client = login(app, "admin")
    mine = client.get(f"/audit/admin-log?table=member&record={member.id}")
    assert f"Đảng viên số {member.id}" in text_of(mine.get_data(as_text=True))
    none = client.get(f"/audit/admin-log?table=user&record={member.id}")
    assert "Chưa có thay đổi nào được ghi." in text_of(none.get_data(as_text=True))
    assert client.get("/audit/admin-log?table=case").status_code == 400
    assert client.get("/audit/admin-log?before=x").status_code == 400
