"""Setting a district up from a terminal: `ketnap org|member|village` call the same
directory actions as the admin pages, so they validate alike and log every change."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlmodel import Session, select

from cli.main import main
from workflow import db
from workflow.models import AdminLogEntry, Member, Organisation, VillageOfficial


def ketnap(database: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--database", database, "--now", "2026-06-30"])
    return result.exit_code, result.output


def test_a_district_is_set_up_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'district.db'}"
    assert ketnap(url, "init", "--admin-password", "mật-khẩu-dài-đủ")[0] == 0
    code, out = ketnap(
        url, "org", "add", "--name", "Huyện ủy Thử", "--kind", "committee", "--may-admit"
    )
    assert code == 0, out
    code, out = ketnap(
        url, "org", "add", "--name", "Chi bộ thôn Trung", "--kind", "cell", "--parent", "1"
    )
    assert code == 0, out
    code, out = ketnap(
        url,
        "member",
        "add",
        "--full-name",
        "Nguyễn Văn An",
        "--cell",
        "2",
        "--joined-on",
        "2015-03-02",
        "--official-since",
        "2016-03-02",
    )
    assert code == 0, out
    code, out = ketnap(url, "member", "edit", "1", "--status", "removed")
    assert code == 0, out
    code, out = ketnap(url, "village", "add", "--organisation", "1", "--name", "Thôn Trung")
    assert code == 0, out
    code, out = ketnap(
        url,
        "village",
        "official",
        "1",
        "--role",
        "head",
        "--full-name",
        "Lò Văn Trưởng",
        "--starts-on",
        "2021-01-01",
    )
    assert code == 0, out
    engine = db.connect(url)
    try:
        with Session(engine) as session:
            assert [o.name for o in session.exec(select(Organisation))] == [
                "Huyện ủy Thử",
                "Chi bộ thôn Trung",
            ]
            member = session.exec(select(Member)).one()
            assert member.status == "removed"
            assert session.exec(select(VillageOfficial)).one().full_name == "Lò Văn Trưởng"
            actions = [e.action for e in session.exec(select(AdminLogEntry))]
            assert actions.count("add_organisation") == 2
            assert "change_member" in actions and "add_official" in actions
    finally:
        engine.dispose()


def test_a_bad_value_is_refused_with_the_actions_message_and_writes_nothing(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'district.db'}"
    ketnap(url, "init", "--admin-password", "mật-khẩu-dài-đủ")
    ketnap(url, "org", "add", "--name", "Huyện ủy Thử", "--kind", "committee")
    code, out = ketnap(url, "org", "add", "--name", "Chi bộ mồ côi", "--kind", "cell")
    assert (code == 1 and "Chi bộ" in out) or "cấp trên" in out, out
    code, out = ketnap(
        url, "member", "add", "--full-name", "Trần Thị Bình", "--cell", "1"
    )  # an official member (the default status) needs the day she became official
    assert code == 1 and "[official_since] Đảng viên chính thức cần có ngày" in out, out
    engine = db.connect(url)
    try:
        with engine.connect() as connection:
            count = connection.exec_driver_sql("SELECT count(*) FROM member").scalar()
            orgs = connection.exec_driver_sql("SELECT count(*) FROM organisation").scalar()
            assert (count, orgs) == (0, 1)
    finally:
        engine.dispose()
