"""The actions of workflow/directory: each checks the actor, validates once, commits and
appends who changed what (old → new) to the admin log in the same transaction — on
SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, func, select

from tests.engine.conftest import TODAY, Setup
from workflow.access import Actor, Forbidden
from workflow.clock import FixedClock
from workflow.directory import (
    admin_log,
    classes,
    members,
    organisations,
    targets,
    users,
    villages,
)
from workflow.engine import NotFound
from workflow.models import AdminLogEntry, Member, Organisation, User
from workflow.schema import InvalidData

ADMIN = Actor("admin", "admin", None, "")
TODAY_NOW = FixedClock.on(TODAY).now()  # the engine's clock, as web/reports.py passes it


def _log(setup: Setup) -> list[AdminLogEntry]:
    with setup.engine.session() as session:
        return list(session.exec(select(AdminLogEntry).order_by(col(AdminLogEntry.id))))


def _changes(entry: AdminLogEntry) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(entry.changes)
    return loaded


def _rows(setup: Setup, table: type[Any]) -> int:
    with setup.engine.session() as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def _officer(setup: Setup) -> Actor:
    dong_lo = setup.organisation("Đảng ủy xã Đông Lỗ")
    return Actor("officer", "officer", dong_lo.id, dong_lo.path)


def test_a_status_change_is_logged_with_old_and_new_value(setup: Setup) -> None:
    with setup.engine.session() as session:
        member = session.exec(
            select(Member).where(
                Member.cell_id == setup.dong_lo_cell, Member.status == "probationary"
            )
        ).first()
        admin_id = session.exec(select(User.id).where(User.username == "admin")).one()
    assert member is not None and member.id is not None
    members.change_member(
        setup.engine,
        member.id,
        {"status": "official", "official_since": "2025-06-01"},
        actor=ADMIN,
    )
    [entry] = _log(setup)
    assert (entry.action, entry.record_table, entry.record_id) == (
        "change_member",
        "member",
        member.id,
    )
    assert (entry.user_id, entry.username) == (admin_id, "admin")
    assert entry.recorded_at == setup.engine.clock.now()
    cell = setup.organisation("Chi bộ thôn Hương Câu")
    assert entry.org_path == cell.path
    assert _changes(entry) == {
        "status": {"old": "probationary", "new": "official"},
        "official_since": {"old": None, "new": "2025-06-01"},
    }
    assert setup.member(member.id).status == "official"


def test_every_directory_write_appends_one_entry(setup: Setup) -> None:
    engine, officer = setup.engine, _officer(setup)
    dong_lo = setup.organisation("Đảng ủy xã Đông Lỗ")
    assert dong_lo.id is not None
    cell = organisations.add_organisation(
        engine, {"name": "Chi bộ thôn Mới", "kind": "cell", "parent_id": dong_lo.id}, actor=ADMIN
    )
    assert cell.id is not None
    organisations.change_organisation(engine, cell.id, {"name": "Chi bộ thôn Mới 2"}, actor=ADMIN)
    member = members.add_member(
        engine,
        {"full_name": "Hà Văn Mới", "cell_id": cell.id, "status": "probationary"}
        | {"joined_on": "2025-09-02"},
        actor=ADMIN,
    )
    account = users.add_user(
        engine,
        {"username": "bithu-moi", "role": "secretary", "organisation_id": cell.id}
        | {"password": "mat-khau-dai-du"},
        actor=ADMIN,
    )
    assert member.id is not None and account.id is not None
    users.change_user(engine, account.id, {"email": "bithu@ketnap.local"}, actor=ADMIN)
    with engine.session() as session:
        village = villages.add_village(
            session, officer, {"organisation_id": dong_lo.id, "name": "Thôn Mới"}, now=TODAY_NOW
        )
        assert village.id is not None
        villages.record_census(
            session,
            officer,
            village.id,
            {"counted_on": "2026-01-01", "party_members": 3},
            now=TODAY_NOW,
        )
        official = villages.add_official(
            session,
            officer,
            village.id,
            {"role": "head", "full_name": "Lò Văn Trưởng", "starts_on": "2025-01-01"},
            now=TODAY_NOW,
        )
        assert official.id is not None
        villages.update_official(
            session, officer, official.id, {"ends_on": "2026-02-01"}, now=TODAY_NOW
        )
        villages.dissolve(
            session, officer, village.id, {"dissolved_on": "2026-03-01"}, now=TODAY_NOW
        )
        spec = targets.parse(
            {"organisation_id": dong_lo.id, "kind": "year", "year": 2026, "number": 40}
        )
        target = targets.set_target(session, officer, spec, TODAY_NOW)
        assert target.id is not None
        targets.delete_target(session, officer, target.id, now=TODAY_NOW)
        course = classes.parse(
            {
                "kind": "awareness",
                "name": "Lớp nhận thức 1/2026",
                "organisation_id": dong_lo.id,
                "starts_on": "2026-01-05",
                "attendees": 40,
            }
        )
        classes.record_class(session, officer, course, TODAY_NOW)
    actions = [(e.action, e.username) for e in _log(setup)]
    assert actions == [
        ("add_organisation", "admin"),
        ("change_organisation", "admin"),
        ("add_member", "admin"),
        ("add_user", "admin"),
        ("change_user", "admin"),
        ("add_village", "officer"),
        ("record_census", "officer"),
        ("add_official", "officer"),
        ("update_official", "officer"),
        ("dissolve_village", "officer"),
        ("set_target", "officer"),
        ("delete_target", "officer"),
        ("record_class", "officer"),
    ]
    entries = _log(setup)
    assert _changes(entries[1]) == {"name": {"old": "Chi bộ thôn Mới", "new": "Chi bộ thôn Mới 2"}}
    assert _changes(entries[3])["password"] == {"old": None, "new": users.NEW_SECRET}
    assert _changes(entries[11])["number"] == {"old": 40, "new": None}
    assert _changes(entries[12])["attendees"] == {"old": None, "new": 40}
    assert all(e.org_path.startswith(dong_lo.path) for e in entries)


def test_an_unchanged_save_logs_nothing(setup: Setup) -> None:
    cell = setup.organisation("Chi bộ thôn Hương Câu")
    assert cell.id is not None
    organisations.change_organisation(setup.engine, cell.id, {"name": cell.name}, actor=ADMIN)
    assert _log(setup) == []


@pytest.mark.parametrize(
    "data",
    [
        {"name": "Chi bộ lạc", "kind": "cell"},
        {"name": "Chi bộ cơ sở lạc", "kind": "grassroots_cell"},
        {"name": "X", "kind": "cell", "parent_id": 4},
        {"name": "X", "kind": "cell", "parent_id": 99999},
        {"name": "x" * 201, "kind": "committee"},
    ],
)
def test_an_organisation_outside_the_tree_writes_nothing(setup: Setup, data: Any) -> None:
    before = _rows(setup, Organisation), _rows(setup, AdminLogEntry)
    with pytest.raises(InvalidData):
        organisations.add_organisation(setup.engine, data, actor=ADMIN)
    assert (_rows(setup, Organisation), _rows(setup, AdminLogEntry)) == before


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"status": "official", "official_since": None}, "official_since"),
        ({"joined_on": "2020-05-01", "official_since": "2020-04-30"}, "official_since"),
        ({"cell_id": 2}, "cell_id"),
        ({"status": "retired"}, "status"),
        ({"full_name": ""}, "full_name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_refused_member_change_writes_nothing(setup: Setup, data: Any, field: str) -> None:
    member_id = setup.world.officials[setup.dong_lo_cell][0]
    before = setup.member(member_id).model_dump()
    with pytest.raises(InvalidData) as refused:
        members.change_member(setup.engine, member_id, data, actor=ADMIN)
    assert refused.value.field == field
    assert setup.member(member_id).model_dump() == before
    assert _log(setup) == []


def test_the_place_in_the_tree_cannot_change(setup: Setup) -> None:
    cell = setup.organisation("Chi bộ thôn Hương Câu")
    assert cell.id is not None
    with pytest.raises(InvalidData) as refused:
        organisations.change_organisation(setup.engine, cell.id, {"parent_id": 3}, actor=ADMIN)
    assert refused.value.field == "parent_id"


def test_only_an_admin_changes_organisations_members_and_users(setup: Setup) -> None:
    officer = _officer(setup)
    member_id = setup.world.officials[setup.dong_lo_cell][0]
    with pytest.raises(Forbidden):
        organisations.add_organisation(setup.engine, {"name": "X"}, actor=officer)
    with pytest.raises(Forbidden):
        members.change_member(setup.engine, member_id, {"status": "removed"}, actor=officer)
    with pytest.raises(Forbidden):
        users.add_user(setup.engine, {}, actor=officer)
    assert _log(setup) == []


def test_a_missing_record_is_not_found(setup: Setup) -> None:
    with pytest.raises(NotFound):
        members.change_member(setup.engine, 999_999, {}, actor=ADMIN)
    with pytest.raises(NotFound):
        users.change_user(setup.engine, 999_999, {}, actor=ADMIN)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"username": "officer"}, "username"),
        ({"username": "có dấu cách"}, "username"),
        ({"password": "short"}, "password"),
        ({"role": "secretary", "organisation_id": None}, "organisation_id"),
        ({"role": "sponsor"}, "member_id"),
        ({"member_id": 999_999}, "member_id"),
        ({"email": "no-at-sign"}, "email"),
    ],
)
def test_a_refused_account_writes_nothing(setup: Setup, data: Any, field: str) -> None:
    cell = setup.dong_lo_cell
    account = {"username": "moi", "role": "secretary", "organisation_id": cell}
    account |= {"password": "mat-khau-dai-du"} | data
    before = _rows(setup, User)
    with pytest.raises(InvalidData) as refused:
        users.add_user(setup.engine, account, actor=ADMIN)
    assert refused.value.field == field
    assert _rows(setup, User) == before and _log(setup) == []


def test_an_auditor_reads_only_the_log_of_their_subtree(setup: Setup) -> None:
    for cell in (setup.dong_lo_cell, setup.bang_lung_cell):
        member_id = setup.world.officials[cell][0]
        members.change_member(setup.engine, member_id, {"status": "removed"}, actor=ADMIN)
    bang_lung = setup.organisation("Đảng ủy thị trấn Bằng Lũng")
    auditor = Actor("kiemtra", "auditor", bang_lung.id, bang_lung.path)
    query = admin_log.Query()
    with setup.engine.session() as session:
        seen = admin_log.entries(session, auditor, query)
        everything = admin_log.entries(session, ADMIN, query)
        with pytest.raises(Forbidden):
            admin_log.entries(session, setup.secretary(setup.dong_lo_cell), query)
    assert [e.record_id for e in seen] == [setup.world.officials[setup.bang_lung_cell][0]]
    assert len(everything) == 2


def test_no_code_changes_or_deletes_an_entry() -> None:
    """Append-only by construction: only admin_log.py makes entries, nothing updates or
    deletes them (no UPDATE/DELETE of the table, no session.delete of an entry)."""
    root = Path(__file__).resolve().parents[2]
    sources = {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
        for folder in ("workflow", "web", "cli")
        for path in (root / folder).rglob("*.py")
        if "migrations" not in path.parts
    }
    makers = [name for name, text in sources.items() if MAKES_ENTRY.search(text)]
    assert makers == ["workflow/directory/admin_log.py"]
    changers = [name for name, text in sources.items() if CHANGES_ENTRY.search(text)]
    assert changers == []
    assert "session.delete" not in sources["workflow/directory/admin_log.py"]


MAKES_ENTRY = re.compile(r"(?<!class )\bAdminLogEntry\(")
CHANGES_ENTRY = re.compile(
    r"(update|delete)\(\s*(AdminLogEntry|col\(AdminLogEntry)|(UPDATE|DELETE FROM)\s+\"?admin_log",
    re.IGNORECASE,
)
