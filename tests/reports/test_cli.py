"""`ketnap report`, `ketnap narrative` and `ketnap target` from a terminal (SQLite)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from tests.reports.conftest import Admitted, add_rows, add_tree, new_engine
from workflow.ops import demo


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A district with 12 admissions in 2025 (fixture rows) and two users."""
    url = f"sqlite:///{tmp_path / 'ketnap.db'}"
    engine = new_engine(url)
    with engine.session() as session:
        tree = add_tree(session, "Đảng bộ huyện Thử Nghiệm")
        days = [date(2025, month, 5) for month in range(1, 13)]
        add_rows(session, tree["cell1.1"], [(day, Admitted("female")) for day in days[:5]])
        add_rows(session, tree["cell2.2"], [(day, Admitted()) for day in days[5:]])
        demo.add_user(session, "officer", "officer", tree["district"], "Ban Tổ chức")
        demo.add_user(session, "secretary", "secretary", tree["cell1.1"], "Bí thư")
        session.commit()
    engine.database.dispose()
    return url


def run(database: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--database", database, "--now", "2026-06-30"])
    return result.exit_code, result.output


def test_report_prints_text_json_and_csv(database: str) -> None:
    code, text = run(
        database, "report", "admissions", "--org", "1", "--from", "2025-01-01", "--to", "2025-12-31"
    )
    assert code == 0 and "Đảng bộ huyện Thử Nghiệm — từ 01/01/2025 đến 31/12/2025" in text
    code, out = run(
        database,
        "report",
        "breakdown",
        "--org",
        "1",
        "--from",
        "2025-01-01",
        "--to",
        "2025-12-31",
        "--format",
        "json",
    )
    figures = json.loads(out)
    assert figures["admitted"] == 12 and figures["women"]["text"] == "41,7%"
    code, out = run(
        database,
        "report",
        "admissions",
        "--org",
        "2",
        "--from",
        "2025-01-01",
        "--to",
        "2025-12-31",
        "--format",
        "csv",
    )
    rows = list(csv.reader(io.StringIO(out)))
    assert ["Chỉ tiêu năm 2025", "2025-01-01", "2025-12-31", "—", "5", "—"] in rows


def test_a_target_set_from_the_terminal_appears_in_the_report(database: str) -> None:
    code, out = run(
        database,
        "target",
        "set",
        "--org",
        "1",
        "--kind",
        "year",
        "--year",
        "2025",
        "--number",
        "16",
        "--actor",
        "officer",
    )
    assert code == 0, out
    code, out = run(database, "target", "list")
    assert "Chỉ tiêu năm 2025: 16 đảng viên" in out
    code, out = run(
        database,
        "report",
        "admissions",
        "--org",
        "1",
        "--from",
        "2025-01-01",
        "--to",
        "2025-12-31",
        "--format",
        "json",
    )
    year = json.loads(out)["targets"][0]
    assert (year["number"], year["text"]) == (16, "75,0%")
    code, out = run(
        database, "narrative", "--org", "1", "--from", "2025-01-01", "--to", "2025-12-31"
    )
    assert (
        "Năm 2025, toàn Đảng bộ huyện Thử Nghiệm kết nạp được 12 đảng viên, đạt 75,0% chỉ tiêu năm 2025."
        in out
    )
    code, out = run(database, "narrative", "--org", "1", "--to", "2025-12-31", "--format", "json")
    told = json.loads(out)
    assert code == 0 and told["text"].startswith("Kết quả công tác phát triển đảng viên")
    assert told["figures"]["admissions"]["admitted"] >= 12
    assert told["paragraphs"][0]["topic"] == "admissions"


def test_the_narrative_as_a_word_document(database: str, tmp_path: Path) -> None:
    from docx import Document

    target = tmp_path / "tom-tat.docx"
    args = ["narrative", "--org", "1", "--from", "2025-01-01", "--to", "2025-12-31"]
    code, out = run(database, *args, "--format", "docx")
    assert code != 0 and "-o" in out  # a Word file needs a place to go
    code, _ = run(database, *args, "--format", "docx", "-o", str(target))
    assert code == 0
    paragraphs = [p.text for p in Document(str(target)).paragraphs]
    assert paragraphs[0].startswith("Kết quả công tác phát triển đảng viên")
    assert any("kết nạp được 12 đảng viên" in p for p in paragraphs)


def test_bad_input_is_refused_with_the_reason(database: str) -> None:
    code, out = run(
        database,
        "target",
        "set",
        "--org",
        "1",
        "--kind",
        "resolution",
        "--start",
        "2025-01-01",
        "--end",
        "2020-01-01",
        "--number",
        "5",
        "--ref",
        "1-NQ",
        "--actor",
        "officer",
    )
    assert code != 0 and "trước ngày bắt đầu" in out
    code, out = run(
        database,
        "target",
        "set",
        "--org",
        "1",
        "--kind",
        "year",
        "--year",
        "2025",
        "--number",
        "5",
        "--actor",
        "secretary",
    )
    assert code != 0 and "không được đặt chỉ tiêu" in out
    code, out = run(database, "report", "admissions", "--from", "2025-02-30")
    assert code != 0 and "không phải ngày hợp lệ" in out
    code, out = run(database, "report", "admissions", "--org", "999")
    assert code != 0 and "không có tổ chức 999" in out


def test_the_report_and_the_narrative_print_shares_at_the_asked_precision(
    database: str,
) -> None:
    """--precision 2 prints 5 women of 12 as 41,67 % (the API's precision=2); the
    default prints 41,7 %; anything but 1 or 2 is refused."""
    period = ["--org", "1", "--from", "2025-01-01", "--to", "2025-12-31"]
    shown = {}
    for precision in ("1", "2"):
        code, out = run(
            database, "report", "breakdown", *period, "--format", "json", "--precision", precision
        )
        assert code == 0, out
        shown[precision] = json.loads(out)["women"]["text"]
    assert shown == {"1": "41,7%", "2": "41,67%"}
    code, text = run(database, "report", "breakdown", *period, "--precision", "2")
    assert code == 0 and "41,67%" in text
    code, told = run(database, "narrative", *period, "--precision", "2")
    assert code == 0 and "41,67%" in told, told
    code, told = run(database, "narrative", *period)
    assert code == 0 and "41,7%" in told and "41,67%" not in told
    code, out = run(database, "report", "breakdown", *period, "--precision", "3")
    assert code != 0 and "--precision" in out
