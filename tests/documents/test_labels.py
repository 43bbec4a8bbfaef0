"""Imports read Vietnamese as people write it: choice values by their labels ("Nữ",
"Nông dân", "Dự bị"), column headers by their labels, dates as DD/MM/YYYY; a value that
names nothing is refused with its line, column, value and the accepted labels. Exports
for people write labels, and read back into the same data."""

from __future__ import annotations

import csv
import io
import random
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select as sql_select
from sqlmodel import col, func, select

from tests.documents.conftest import Docs, new_engine
from workflow import history, process
from workflow.exchange import export as exporter
from workflow.exchange import layouts, run
from workflow.exchange.choices import Choices
from workflow.exchange.report import ImportFileError
from workflow.models import Case, Member, Person
from workflow.ops import demo
from workflow.text import Text


# ── matching a value to a code (no database) ──────────────────────────────
@pytest.mark.parametrize(
    ("column", "written", "code"),
    [
        ("gender", "Nữ", "female"),
        ("gender", "NỮ", "female"),
        ("gender", "nu", "female"),
        ("gender", "Female", "female"),
        ("gender", "male", "male"),
        ("occupation", "Nông dân", "farmer"),
        ("occupation", "nong  dan", "farmer"),
        ("occupation", "Công an", "armed_forces"),  # one part of "Công an, quân đội"
        ("occupation", "Sinh viên", "student"),
        ("occupation", "Trưởng thôn", "village_head"),
        ("occupation", "Phó thôn", "village_deputy"),
        ("occupation", "civil servant", "civil_servant"),
        ("nominated_by", "Đoàn Thanh niên", "youth_union"),  # the first words of the label
        ("nominated_by", "Hội Liên hiệp Phụ nữ", "womens_union"),
        ("target_state", "Đảng viên chính thức", "official"),
        ("target_state", "Không kết nạp", "rejected"),
        ("rejected_by", "Đảng ủy cơ sở", "committee"),
    ],
)
def test_a_case_value_is_read_by_its_code_or_its_label(
    column: str, written: str, code: str
) -> None:
    assert layouts.CHOICES["cases"][column].match(written) == code


@pytest.mark.parametrize(
    ("written", "code"), [("Chính thức", "official"), ("dự bị", "probationary")]
)
def test_a_member_status_is_read_without_the_columns_own_name(written: str, code: str) -> None:
    assert layouts.CHOICES["members"]["status"].match(written) == code


@pytest.mark.parametrize("written", ["khu phố", "Trưởng", "Đảng viên", "nữ sinh", "x"])
def test_a_value_naming_no_choice_or_several_matches_nothing(written: str) -> None:
    choices = {**layouts.CHOICES["cases"], **layouts.CHOICES["members"]}
    assert all(c.match(written) is None for c in choices.values())


def test_every_label_of_the_process_table_is_accepted_for_its_code() -> None:
    process_labels = list(process.CHOICE_LABELS.values()) + [
        Text(s.label_vi, s.label_en) for s in process.STATES
    ]
    for kind, columns in layouts.CHOICES.items():
        for column, choices in columns.items():
            for code, label in choices.labels.items():
                assert label in process_labels, (kind, column, code)  # no second list
                assert choices.match(label.vi) == code, (kind, column, label.vi)
                assert choices.match(label.en) == code, (kind, column, label.en)
                assert choices.match(code) == code


def test_the_refusal_lists_the_accepted_labels_in_both_languages() -> None:
    choices = Choices(Text("Giới tính", "Gender"), layouts.CHOICE_VALUES["gender"])
    text = choices.refusal("Khác")
    assert text.vi == (
        "'Khác' không phải giá trị hợp lệ của cột 'Giới tính'. Chấp nhận: Nữ (female), Nam (male)"
    )
    assert text.en == (
        "'Khác' is not a valid value of the column 'Gender'. Accepted: Female (female), Male (male)"
    )


def test_the_layout_describes_choice_columns_by_their_labels() -> None:
    described = {name.rstrip("*"): note for name, _label, note in layouts.describe("cases")}
    assert described["gender"] == "Nữ (female), Nam (male)"
    assert "Nông dân (farmer)" in described["occupation"]


# ── importing labels ──────────────────────────────────────────────────────
def write_labelled(path: Path, rows: list[dict[str, Any]], kind: str = "cases") -> Path:
    """A CSV headed by the columns' Vietnamese labels, dates as DD/MM/YYYY."""
    names = layouts.columns(kind)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([layouts.column_label(kind, n) for n in names])
        for row in rows:
            writer.writerow([_dmy(row.get(n)) for n in names])
    return path


def _dmy(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:%d/%m/%Y}" if isinstance(value, date) else str(value)


def vietnamese(row: dict[str, Any]) -> dict[str, Any]:
    return row | {
        "gender": "Nữ",
        "occupation": "nông dân",
        "nominated_by": "Đoàn Thanh niên",
        "target_state": "Đảng viên chính thức",
    }


def test_a_case_file_in_vietnamese_imports_as_with_codes(docs: Docs) -> None:
    path = write_labelled(docs.directory / "vi.csv", [vietnamese(docs.case_row(21))])

    report = run.import_file(docs.engine, path, docs.admin)

    assert (report.kind, report.errors, report.written) == ("cases", [], 1)
    case = docs.case(report.created_ids[0])
    with docs.engine.session() as session:
        person = session.get(Person, case.person_id)
    assert person is not None
    assert (person.gender, person.occupation) == ("female", "farmer")
    assert (case.state, case.nominated_by) == ("official", "youth_union")
    assert case.nominated_on == docs.case_row(21)["nominated_on"]


def test_a_value_naming_nothing_rejects_the_row_naming_line_column_value_and_labels(
    docs: Docs,
) -> None:
    rows = [docs.case_row(22), docs.case_row(23) | {"gender": "Khác", "occupation": "Thợ mộc"}]
    path = write_labelled(docs.directory / "bad.csv", rows)
    before = docs.counts()

    report = run.import_file(docs.engine, path, docs.admin)

    assert (report.written, report.rejected_lines) == (1, [3])
    errors = {e.column: e for e in report.errors}
    assert set(errors) == {"gender", "occupation"}
    gender = errors["gender"].text
    assert gender.vi.startswith("'Khác' không phải giá trị hợp lệ của cột 'Giới tính'")
    assert gender.vi.endswith("Chấp nhận: Nữ (female), Nam (male)")
    assert gender.en.endswith("Accepted: Female (female), Male (male)")
    assert "'Thợ mộc'" in errors["occupation"].text.vi
    assert "Nông dân (farmer)" in errors["occupation"].text.vi
    assert "Farmer (farmer)" in errors["occupation"].text.en
    after = docs.counts()
    assert after["Case"] - before["Case"] == 1 and after["Person"] - before["Person"] == 1


def test_a_member_file_in_vietnamese_is_imported(docs: Docs) -> None:
    rows = [
        {
            "full_name": "Lường Văn Nhãn",
            "cell": "Chi bộ thôn Hương Câu",
            "status": "Chính thức",
            "joined_on": date(2001, 3, 1),
            "official_since": date(2002, 3, 1),
            "birth_date": date(1975, 6, 7),
            "gender": "Nam",
        },
        {
            "full_name": "Lò Thị Dự",
            "cell": docs.dong_lo_cell,
            "status": "dự bị",
            "joined_on": date(2025, 9, 2),
        },
    ]
    cell_names = _cell_names(docs)
    rows[0]["cell"] = cell_names[docs.dong_lo_cell]
    path = write_labelled(docs.directory / "members.csv", rows, "members")

    report = run.import_file(docs.engine, path, docs.admin)

    assert (report.kind, report.errors, report.written) == ("members", [], 2)
    with docs.engine.session() as session:
        first = session.get(Member, report.created_ids[0])
        second = session.get(Member, report.created_ids[1])
        assert first is not None and second is not None
        assert (first.status, second.status) == ("official", "probationary")
        person = session.get(Person, first.person_id)
        assert person is not None and person.gender == "male"


def _cell_names(docs: Docs) -> dict[int, str]:
    from workflow.models import Organisation

    with docs.engine.session() as session:
        return {o.id: o.name for o in session.exec(select(Organisation)) if o.id is not None}


def test_headers_may_be_codes_or_labels_in_either_language_but_not_both_for_one_column(
    docs: Docs,
) -> None:
    row = docs.case_row(24, target="nominated")
    names = layouts.columns("cases")
    mixed = [
        layouts.column_label("cases", n, "en" if i % 2 else "vi") if i % 3 else n
        for i, n in enumerate(names)
    ]
    path = docs.directory / "mixed.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(mixed)
        writer.writerow([_dmy(row.get(n)) for n in names])
    assert run.import_file(docs.engine, path, docs.admin).written == 1

    doubled = docs.directory / "doubled.csv"
    doubled.write_text("full_name,Họ và tên\nA,B\n", encoding="utf-8")
    with pytest.raises(ImportFileError) as refused:
        run.import_file(docs.engine, doubled, docs.admin, kind="cases")
    assert "full_name" in refused.value.message_vi


# ── exports for people, and back ──────────────────────────────────────────
def exported(docs: Docs, what: str, fmt: str, labels: str | None) -> bytes:
    out = io.BytesIO()
    exporter.export(docs.engine, docs.admin, what, fmt, out, labels)
    return out.getvalue()


def test_an_export_for_people_writes_labels_in_their_language(docs: Docs) -> None:
    docs.case_in("official")

    vi = list(csv.DictReader(io.StringIO(exported(docs, "cases", "csv", "vi").decode("utf-8-sig"))))
    en = list(csv.DictReader(io.StringIO(exported(docs, "cases", "csv", "en").decode("utf-8-sig"))))

    assert vi[0]["Trạng thái"] == vi[0]["Bước đã đạt"] == "Đảng viên chính thức"
    assert vi[0]["Giới tính"] in ("Nữ", "Nam")
    assert vi[0]["Đoàn viên"] in ("có", "không")
    assert vi[0]["Ngày giới thiệu"][2] == "/"  # DD/MM/YYYY
    assert en[0]["State reached"] == "Official member"
    assert en[0]["Gender"] in ("Female", "Male")


@pytest.mark.parametrize(("fmt", "labels"), [("csv", "vi"), ("xlsx", "vi"), ("csv", "en")])
def test_an_export_with_labels_imports_into_another_ketnap_as_the_same_cases(
    docs: Docs, tmp_path: Path, fmt: str, labels: str
) -> None:
    for state in ("official", "probationary", "committee_resolved", "in_class"):
        docs.case_in(state, cell=docs.bang_lung_cell if state == "committee_resolved" else None)
    path = tmp_path / f"cases.{fmt}"
    path.write_bytes(exported(docs, "cases", fmt, labels))
    other = new_engine(tmp_path / "other.db")
    with other.session() as session:
        demo.build_world(session, random.Random(7))  # the same tree, members and ids

    report = run.import_file(other, path, docs.admin)

    assert (report.errors, report.written) == ([], 4)
    assert_same_cases(docs, other)


def assert_same_cases(docs: Docs, other: Any) -> None:
    with docs.engine.session() as mine, other.session() as theirs:
        count = select(Case.state, func.count()).group_by(Case.state)
        assert sorted(mine.exec(count).all()) == sorted(theirs.exec(count).all())
        dates = select(
            col(Case.nominated_on), col(Case.ceremony_on), col(Case.official_on)
        ).order_by(col(Case.id))
        assert mine.exec(dates).all() == theirs.exec(dates).all()
        people = sql_select(
            col(Person.full_name),
            col(Person.birth_date),
            col(Person.gender),
            col(Person.occupation),
            col(Person.youth_union_member),
            col(Person.national_id),
        ).order_by(col(Person.full_name))
        joined = people.join(Case, col(Case.person_id) == Person.id)
        assert mine.execute(joined).all() == theirs.execute(joined).all()
        assert history.verify_all(theirs) == []


@pytest.mark.postgres
def test_labels_read_on_postgresql_and_an_export_for_people_reads_back_elsewhere(
    pg_docs: Docs, tmp_path: Path
) -> None:
    docs = pg_docs
    rows = [vietnamese(docs.case_row(31)), vietnamese(docs.case_row(32)) | {"gender": "Nam"}]
    report = run.import_file(docs.engine, write_labelled(tmp_path / "vi.csv", rows), docs.admin)
    assert (report.errors, report.written) == ([], 2)
    path = tmp_path / "people.csv"
    path.write_bytes(exported(docs, "cases", "csv", "vi"))
    other = new_engine(tmp_path / "other.db")
    with other.session() as session:
        demo.build_world(session, random.Random(7))

    again = run.import_file(other, path, docs.admin)

    assert (again.errors, again.written) == ([], 2)
    assert_same_cases(docs, other)
