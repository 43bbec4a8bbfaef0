"""Imported members and classes are written through the directory's own actions: the
same validation, and one admin-log entry per record by the importing user (DESIGN.md
principle 3) — a dry run logs nothing, as it writes nothing."""

from __future__ import annotations

import json
from datetime import date

from sqlmodel import col, select

from tests.documents.conftest import Docs, write_csv
from workflow.exchange import layouts, run
from workflow.models import AdminLogEntry, Course, Organisation


def log_of(docs: Docs, action: str) -> list[AdminLogEntry]:
    with docs.engine.session() as session:
        query = select(AdminLogEntry).where(AdminLogEntry.action == action)
        return list(session.exec(query.order_by(col(AdminLogEntry.id))))


def member_file(docs: Docs, name: str = "members.csv") -> str:
    rows = [
        {
            "full_name": "Hoàng Văn Cũ",
            "cell": docs.dong_lo_cell,
            "status": "official",
            "joined_on": date(1998, 5, 19),
            "official_since": date(1999, 5, 19),
        },
        {
            "full_name": "Lò Thị Mới",
            "cell": docs.dong_lo_cell,
            "status": "probationary",
            "joined_on": date(2025, 9, 2),
        },
        {  # the member action's rule: an official member needs the date they became one
            "full_name": "Vi Văn Thiếu",
            "cell": docs.dong_lo_cell,
            "status": "official",
            "joined_on": date(2001, 1, 2),
        },
    ]
    return str(write_csv(docs.directory / name, rows, layouts.columns("members")))


def test_each_imported_member_has_an_admin_log_entry_by_the_importer(docs: Docs) -> None:
    path = member_file(docs)

    report = run.import_file(docs.engine, path, docs.user("officer"))

    assert (report.written, report.rejected) == (2, 1)
    assert [(e.line, e.column) for e in report.errors] == [(4, "official_since")]
    assert "official member needs" in report.errors[0].text.en
    entries = log_of(docs, "import_member")
    assert [e.record_id for e in entries] == report.created_ids
    assert {(e.username, e.record_table) for e in entries} == {("officer", "member")}
    with docs.engine.session() as session:
        cell = session.get(Organisation, docs.dong_lo_cell)
        assert cell is not None
    assert {e.org_path for e in entries} == {cell.path}  # the cell's auditors read it
    assert entries[0].user_id is not None
    changes = json.loads(entries[0].changes)
    assert changes["full_name"] == {"old": None, "new": "Hoàng Văn Cũ"}
    assert changes["official_since"]["new"] == "1999-05-19"
    assert entries[0].recorded_at == docs.engine.clock.now()


def test_a_dry_run_of_members_logs_nothing(docs: Docs) -> None:
    path = member_file(docs, "dry.csv")

    report = run.import_file(docs.engine, path, docs.admin, dry_run=True)

    assert (report.accepted, report.written) == (2, 0)
    assert log_of(docs, "import_member") == []


def test_an_imported_class_is_found_or_created_and_logged_like_a_recorded_one(
    docs: Docs,
) -> None:
    rows = [
        {
            "kind": "awareness",
            "name": "Lớp nhận thức về Đảng khóa 3/2019",
            "organisation": "Đảng ủy xã Đông Lỗ",
            "starts_on": date(2019, 3, 4),
            "ends_on": date(2019, 3, 8),
            "attendees": 47,
        }
    ]
    path = write_csv(docs.directory / "classes.csv", rows, layouts.columns("classes"))

    report = run.import_file(docs.engine, path, docs.admin)

    (entry,) = log_of(docs, "import_class")
    assert (entry.username, entry.record_table, entry.record_id) == (
        "admin",
        "course",
        report.created_ids[0],
    )
    changes = json.loads(entry.changes)
    assert changes["attendees"] == {"old": None, "new": 47}
    assert changes["ends_on"]["new"] == "2019-03-08"
    with docs.engine.session() as session:
        course = session.get(Course, report.created_ids[0])
        assert course is not None and course.name == rows[0]["name"]
