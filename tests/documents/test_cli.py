"""`ketnap import`, `ketnap export`, `ketnap form` and `ketnap import-layout`."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from cli.main import main
from tests.documents.conftest import TODAY, Docs, write_csv
from workflow.exchange import layouts


def run(docs: Docs, *args: str) -> tuple[int, str, str]:
    url = docs.engine.database.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(main, [*args, "--database", url, "--now", TODAY.isoformat()])
    return result.exit_code, result.stdout, result.stderr


def test_import_lists_each_rejected_row_and_fails_when_any_was_rejected(docs: Docs) -> None:
    path = write_csv(docs.directory / "c.csv", [docs.case_row(1), docs.case_row(2) | {"cell": 77}])
    report = docs.directory / "rejected.csv"

    code, out, err = run(docs, "import", str(path), "--report", str(report))

    assert code == 1
    assert "dòng 3, cột cell: Không có chi bộ '77' trong phạm vi của bạn" in err
    assert "cases: 2 dòng, 1 hợp lệ, 1 bị từ chối, 1 đã ghi" in out
    assert report.read_text(encoding="utf-8-sig").splitlines()[1].startswith("3,cell,")
    assert len(docs.cases_of("Nguyễn Thị Thử 1")) == 1


def test_import_dry_run_and_check_write_nothing(docs: Docs) -> None:
    path = write_csv(docs.directory / "c.csv", [docs.case_row(3)])
    before = docs.counts()

    dry = run(docs, "import", str(path), "--dry-run")
    check = run(docs, "import", str(path), "--check", "--kind", "cases")

    assert dry[0] == 0 and "1 hợp lệ, 0 bị từ chối, 0 chạy thử" in dry[1]
    assert check[0] == 0 and "0 kiểm tra" in check[1]
    assert docs.counts() == before


def test_import_of_an_empty_file_is_a_clear_error(docs: Docs) -> None:
    path = docs.directory / "empty.csv"
    path.write_bytes(b"")

    code, _, err = run(docs, "import", str(path))

    assert code == 1
    assert "Tệp rỗng" in err and "The file is empty" in err


def test_import_as_a_secretary_is_refused(docs: Docs) -> None:
    path = write_csv(docs.directory / "c.csv", [docs.case_row(4)])

    code, _, err = run(docs, "import", str(path), "--actor", "secretary")

    assert code == 1 and "không được nhập dữ liệu" in err


def test_export_writes_what_the_actor_may_read(docs: Docs) -> None:
    docs.case_in("sponsored", cell=docs.dong_lo_cell)
    docs.case_in("sponsored", cell=docs.bang_lung_cell)
    target = docs.directory / "cases.xlsx"

    code, out, _ = run(
        docs, "export", "cases", "--format", "xlsx", "-o", str(target), "--actor", "secretary"
    )

    assert code == 0 and out.startswith("1 dòng")
    sheet = load_workbook(target, read_only=True).worksheets[0]
    assert len(list(sheet.iter_rows(min_row=2))) == 1


def test_form_writes_a_word_document(docs: Docs) -> None:
    case_id = docs.case_in("confirmation_cell_resolved")
    target = docs.directory / "13.docx"

    code, out, _ = run(docs, "form", str(case_id), "13-KNĐ", "-o", str(target))
    missing = run(docs, "form", "999999", "6-knd")
    early = run(docs, "form", str(docs.case_in("nominated")), "6-knd")

    assert code == 0 and out.strip() == str(target)
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(target.read_bytes())).paragraphs)
    assert "Mẫu 13-KNĐ" in text
    assert missing[0] == 1 and "không có hồ sơ 999999" in missing[2]
    assert early[0] == 1 and "chưa áp dụng" in early[2]


def test_import_layout_prints_the_columns_and_a_template() -> None:
    runner = CliRunner()
    layout = runner.invoke(main, ["import-layout", "members"])
    template = runner.invoke(main, ["import-layout", "classes", "--template"])

    assert layout.exit_code == 0 and "joined_on*" in layout.stdout
    assert template.stdout.strip() == ",".join(layouts.columns("classes"))


def test_imports_run_takes_the_queued_uploads_and_the_import_obeys_the_caps(
    docs: Docs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workflow.exchange import jobs

    monkeypatch.setenv("KETNAP_IMPORTS_DIR", str(tmp_path / "queue"))
    monkeypatch.setenv("KETNAP_IMPORTS_MAX_ROWS", "1")
    settings = jobs.Settings.of({"dir": str(tmp_path / "queue")})
    body = f"full_name,cell,status,joined_on\nA,{docs.dong_lo_cell},probationary,2025-01-02\n"
    jobs.submit(docs.engine, docs.admin, io.BytesIO(body.encode()), "m.csv", settings)
    two = write_csv(docs.directory / "c.csv", [docs.case_row(1), docs.case_row(2)])

    code, out, _ = run(docs, "imports", "run")
    refused, _, err = run(docs, "import", str(two))

    assert code == 0 and "1 lần nhập đã chạy" in out
    assert refused == 1 and "more than 1 rows" in err
