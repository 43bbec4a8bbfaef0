"""Members by village: a district's villages in one sheet — villages created at their
commune, party members added to their cells, heads and deputies with their terms —
through the import's job machinery, judged by the directory's own rules, each record
logged; a bad row writes nothing and says why. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, func, select

from tests.documents.conftest import Docs
from workflow.directory import villages
from workflow.exchange import jobs, layouts, run
from workflow.exchange.limits import Limits
from workflow.models import (
    AdminLogEntry,
    ImportJobRecord,
    Member,
    Organisation,
    Person,
    Village,
    VillageOfficial,
)

COMMUNES = ("Đảng ủy xã Đông Lỗ", "Đảng ủy thị trấn Bằng Lũng")
CELLS = {
    "Đảng ủy xã Đông Lỗ": "Chi bộ thôn Hương Câu",
    "Đảng ủy thị trấn Bằng Lũng": "Chi bộ Tổ dân phố 3",
}


def district_rows(villages_per_commune: int) -> list[dict[str, Any]]:
    """Per village: an official member who heads it, a probationary member, and a deputy
    who is no party member — in Vietnamese, as a district's sheet says it."""
    rows = []
    for commune in COMMUNES:
        for v in range(villages_per_commune):
            village = f"Thôn {commune.split()[-1]} {v + 1}"
            start = date(2022, 1, 1) + timedelta(days=v)
            rows += [
                {
                    "Tổ chức quản lý thôn": commune,
                    "Thôn, tổ dân phố": village,
                    "Họ và tên": f"Nông Văn Trưởng {commune[-3:]} {v}",
                    "Chi bộ": CELLS[commune],
                    "Đảng viên": "Chính thức",
                    "Ngày vào Đảng (quyết định kết nạp)": "19/05/2005",
                    "Ngày chính thức": "19/05/2006",
                    "Ngày sinh": "02/09/1975",
                    "Giới tính": "Nam",
                    "Chức danh ở thôn": "Trưởng thôn",
                    "Ngày bắt đầu nhiệm kỳ": f"{start:%d/%m/%Y}",
                },
                {
                    "Tổ chức quản lý thôn": commune,
                    "Thôn, tổ dân phố": village.upper(),  # the same village, as typed
                    "Họ và tên": f"Lò Thị Dự {commune[-3:]} {v}",
                    "Chi bộ": CELLS[commune],
                    "Đảng viên": "dự bị",
                    "Ngày vào Đảng (quyết định kết nạp)": "01/09/2025",
                    "Ngày sinh": "03/03/1999",
                    "Giới tính": "Nữ",
                },
                {
                    "Tổ chức quản lý thôn": commune,
                    "Thôn, tổ dân phố": village,
                    "Họ và tên": f"Hà Văn Phó {commune[-3:]} {v}",
                    "Chức danh ở thôn": "Phó thôn",
                    "Ngày bắt đầu nhiệm kỳ": f"{start:%d/%m/%Y}",
                    "Ngày kết thúc nhiệm kỳ": "31/12/2024",
                },
            ]
    return rows


def write_sheet(path: Path, rows: list[dict[str, Any]]) -> Path:
    header = [layouts.column_label("villages", c.name) for c in layouts.VILLAGE_COLUMNS]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def count(docs: Docs, table: Any, *where: Any) -> int:
    with docs.engine.session() as session:
        return session.exec(select(func.count()).select_from(table).where(*where)).one()


def district_is_loaded(docs: Docs, villages_per_commune: int) -> None:
    """Three rows per village become one village, two members and two terms."""
    path = write_sheet(docs.directory / "district.csv", district_rows(villages_per_commune))
    before = docs.counts()

    dry = run.import_file(docs.engine, path, docs.admin, dry_run=True)
    assert docs.counts() == before and count(docs, Village) == 0
    report = run.import_file(docs.engine, path, docs.admin)

    n = len(COMMUNES) * villages_per_commune
    assert (report.kind, report.errors) == ("villages", [])
    assert (dry.accepted, report.rows, report.written) == (3 * n, 3 * n, 3 * n)
    assert count(docs, Village) == n
    assert count(docs, VillageOfficial) == 2 * n
    assert docs.counts()["Member"] - before["Member"] == 2 * n
    with docs.engine.session() as session:
        head = session.exec(
            select(VillageOfficial).where(
                col(VillageOfficial.full_name).startswith("Nông Văn Trưởng")
            )
        ).first()
        assert head is not None and head.role == "head" and head.ends_on is None
        assert head.party_member_since == date(2005, 5, 19) and head.member_id is not None
        member = session.get(Member, head.member_id)
        assert member is not None and member.status == "official"
        person = session.get(Person, member.person_id)
        assert person is not None and person.gender == "male"
        deputy = session.exec(
            select(VillageOfficial).where(VillageOfficial.role == "deputy")
        ).first()
        assert deputy is not None and deputy.member_id is None
        assert deputy.ends_on == date(2024, 12, 31) and deputy.party_member_since is None
        dong_lo = session.exec(select(Organisation).where(Organisation.name == COMMUNES[0])).one()
        listed = villages.villages_of(session, docs.admin, dong_lo.id or 0, date(2026, 1, 1))
        assert len(listed) == villages_per_commune
        assert all([o.role for o in v["in_office"]] == ["head"] for v in listed)
        actions = session.exec(
            select(AdminLogEntry.action, func.count())
            .where(col(AdminLogEntry.action).startswith("import_"))
            .group_by(AdminLogEntry.action)
        ).all()
    assert dict(actions) == {"import_village": n, "import_member": 2 * n, "import_official": 2 * n}

    again = run.import_file(docs.engine, path, docs.admin)  # a second upload adds nothing
    assert again.written == 0 and {e.rule for e in again.errors} == {"duplicate"}
    assert count(docs, Village) == n and count(docs, VillageOfficial) == 2 * n


def test_a_districts_villages_are_one_file(docs: Docs) -> None:
    district_is_loaded(docs, villages_per_commune=4)


@pytest.mark.postgres
def test_a_districts_villages_are_one_file_on_postgresql(pg_docs: Docs) -> None:
    district_is_loaded(pg_docs, villages_per_commune=3)


def test_an_existing_village_is_found_whatever_the_case_and_diacritics(docs: Docs) -> None:
    with docs.engine.session() as session:
        dong_lo = session.exec(select(Organisation).where(Organisation.name == COMMUNES[0])).one()
        existing = villages.add_village(
            session,
            docs.admin,
            {"organisation_id": dong_lo.id, "name": "Thôn Lỗ 1"},
            now=docs.engine.clock.now(),
        )
    rows = district_rows(1)[:3]
    rows[0]["Thôn, tổ dân phố"] = "thon lo 1"
    report = run.import_file(docs.engine, write_sheet(docs.directory / "v.csv", rows), docs.admin)

    assert report.errors == [] and count(docs, Village) == 1
    assert count(docs, VillageOfficial, VillageOfficial.village_id == existing.id) == 2


def test_bad_rows_name_line_column_and_value_and_write_nothing(docs: Docs) -> None:
    good, member, deputy = district_rows(1)[:3]
    rows = [
        good,
        deputy | {"Chức danh ở thôn": "Chủ tịch"},  # no such office
        member | {"Đảng viên": "Chính thức"},  # official, without the official date
        deputy | {"Ngày kết thúc nhiệm kỳ": "31/12/2021"},  # ends before it starts
        member | {"Chi bộ": ""},  # a party member needs a cell
        {k: v for k, v in deputy.items() if k != "Chức danh ở thôn"},  # nothing to record
        good,  # the same person again
    ]
    before = docs.counts()

    report = run.import_file(docs.engine, write_sheet(docs.directory / "bad.csv", rows), docs.admin)

    assert report.written == 1
    found = {(e.line, e.column) for e in report.errors}
    assert found == {
        (3, "office"),
        (4, "official_since"),
        (5, "office_ends_on"),
        (6, "cell"),
        (7, "status"),
        (8, None),
    }
    office = next(e for e in report.errors if e.column == "office").text
    assert "'Chủ tịch'" in office.vi and "Trưởng thôn, khu phố (head)" in office.vi
    assert "Village head (head)" in office.en
    assert docs.counts()["Member"] - before["Member"] == 1
    assert count(docs, Village) == 1 and count(docs, VillageOfficial) == 1


def test_the_sheet_goes_through_the_import_queue(docs: Docs) -> None:
    settings = jobs.Settings(docs.directory / "jobs", Limits())
    body = write_sheet(docs.directory / "q.csv", district_rows(2)).read_bytes()
    job = jobs.submit(docs.engine, docs.admin, io.BytesIO(body), "thon.csv", settings)

    assert jobs.run_pending(docs.engine, settings) == 1

    with docs.engine.session() as session:
        done = session.get(ImportJobRecord, job.id)
        assert done is not None and (done.state, done.kind) == ("done", "villages")
    assert count(docs, Village) == 4 and count(docs, VillageOfficial) == 8


def test_an_officer_imports_only_villages_of_their_subtree(docs: Docs) -> None:
    rows = district_rows(1)
    report = run.import_file(
        docs.engine, write_sheet(docs.directory / "o.csv", rows), docs.user("officer")
    )
    assert report.written == 3  # Đông Lỗ's; Bằng Lũng is another officer's
    assert {e.column for e in report.errors} == {"organisation"}
