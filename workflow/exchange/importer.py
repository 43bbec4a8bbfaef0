"""Import of historical data from CSV (UTF-8) or XLSX: cases admitted or confirmed years
ago, party members, classes.

The file's first row names the columns (see `LAYOUTS`, printed by `ketnap import-layout`
and shown on the /import page). A file with unknown, duplicate or missing required
columns, or with no data, is refused as a whole before anything is read. Then every row
is checked on its own — unknown cell, impossible dates, dates out of order, the same
person twice, bad values — and a rejected row is reported with its line number and the
reason, while the good rows go on.

Cases are never written here: each accepted row is REPLAYED THROUGH THE ENGINE —
`engine.nominate` and one `engine.advance` per step, on the row's dates — so the case,
its deadlines, sponsors, members and hash-chained history are exactly what the engine
makes; the engine's guards still run (a step a rule refuses rejects the row, with the
rule's message). History rows are marked `outcome="imported"` and the case
`imported=True`; the note names the file and line.

Nothing half-written: a row is replayed inside one SAVEPOINT, rolled back if any step is
refused. Rows are committed in batches (a few hundred, or about a second's work, so a
long import never holds SQLite's write lock for long). A dry run replays the same way and
rolls every batch back; `check_file` only validates (fast, nothing replayed).
"""

from __future__ import annotations

import csv
import io
import re
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_, tuple_
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from workflow import process, schema
from workflow.access import Actor, Forbidden
from workflow.directory import classes
from workflow.documents.case_facts import Organisations
from workflow.engine import Conflict, Engine, NotFound
from workflow.guards import Refusal
from workflow.models import Case, Course, CourseHeadcount, Member, Organisation, Person
from workflow.schema import InvalidData

KINDS = ("cases", "members", "classes")
IMPORTERS = ("admin", "officer")
CELL_KINDS = ("cell", "grassroots_cell")
BATCH_ROWS = 200
FORMULA_START = ("=", "+", "-", "@")
BATCH_SECONDS = 1.0
Progress = Callable[[int, int], None]  # (rows done, rows in the file)


# ── errors and the report ────────────────────────────────────────────────
class ImportFileError(Exception):
    """The whole file is refused (empty, unreadable, wrong columns): nothing is read."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi, self.message_en = message_vi, message_en

    def message(self, locale: str = "vi") -> str:
        return self.message_en if locale == "en" else self.message_vi


@dataclass(frozen=True)
class RowError:
    line: int  # as a spreadsheet numbers it: the header is line 1
    column: str | None
    message_vi: str
    message_en: str
    rule: str | None = None  # the engine's rule id when a guard refused a step

    def message(self, locale: str = "vi") -> str:
        return self.message_en if locale == "en" else self.message_vi

    def as_dict(self, locale: str = "vi") -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "rule": self.rule,
            "message": self.message(locale),
        }


@dataclass
class ImportReport:
    kind: str
    file_name: str
    dry_run: bool = False
    checked_only: bool = False
    rows: int = 0  # data rows read
    accepted: int = 0  # rows that passed every check (and replay, unless checked_only)
    written: int = 0  # rows committed (0 for a dry run or a check)
    errors: list[RowError] = field(default_factory=list)
    created_ids: list[int] = field(default_factory=list)  # case / member / class ids

    @property
    def rejected_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})

    @property
    def rejected(self) -> int:
        return len(self.rejected_lines)

    def as_dict(self, locale: str = "vi") -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file_name": self.file_name,
            "dry_run": self.dry_run,
            "checked_only": self.checked_only,
            "rows": self.rows,
            "accepted": self.accepted,
            "written": self.written,
            "rejected": self.rejected,
            "errors": [e.as_dict(locale) for e in sorted(self.errors, key=lambda e: e.line)],
        }


class RowRejected(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(errors[0].message_en if errors else "rejected")
        self.errors = errors


# ── the column layouts ───────────────────────────────────────────────────
@dataclass(frozen=True)
class Column:
    name: str
    label_vi: str
    label_en: str
    required: bool = False  # must be a column of the file (its cells may still be optional)
    note_vi: str = ""
    note_en: str = ""


def _c(name: str, vi: str, en: str, required: bool = False, nvi: str = "", nen: str = "") -> Column:
    return Column(name, vi, en, required, nvi, nen)


DATE_NOTE = ("YYYY-MM-DD hoặc DD/MM/YYYY", "YYYY-MM-DD or DD/MM/YYYY")
ID_OR_NAME = ("số (id) hoặc tên đầy đủ", "id or exact name")


@dataclass(frozen=True)
class StepLayout:
    """One step of the procedure in a case row: its date column and data columns."""

    event: str
    date_column: str
    fields: tuple[tuple[str, str], ...] = ()  # (the event's field, the column holding it)


# The procedure's steps in order, as columns. Steps whose fields need more than a copy
# (sponsors, dossier dates, helpers) are completed in `_step_data`.
MAIN_STEPS: tuple[StepLayout, ...] = (
    StepLayout(
        "enrol_in_class",
        "class_started_on",
        (("class_name", "class_name"), ("issuer", "class_issuer")),
    ),
    StepLayout("pass_class", "certificate_on", (("certificate_no", "certificate_no"),)),
    StepLayout("assign_sponsors", "sponsors_on"),
    StepLayout("submit_dossier", "dossier_on"),
    StepLayout("verify_background", "verified_on"),
    StepLayout(
        "cell_vote",
        "cell_resolution_on",
        (
            ("voters", "cell_voters"),
            ("votes_for", "cell_votes_for"),
            ("resolution_ref", "cell_resolution_ref"),
            ("over_60_consent_ref", "over_60_consent_ref"),
        ),
    ),
    StepLayout(
        "committee_vote",
        "committee_resolution_on",
        (
            ("members", "committee_members"),
            ("votes_for", "committee_votes_for"),
            ("resolution_ref", "committee_resolution_ref"),
        ),
    ),
    StepLayout(
        "decide_admission",
        "decision_on",
        (("decision_no", "decision_no"), ("received_on", "decision_received_on")),
    ),
    StepLayout("hold_ceremony", "ceremony_on"),
    StepLayout(
        "cell_confirm_vote",
        "confirmation_cell_resolution_on",
        (
            ("voters", "confirmation_voters"),
            ("votes_for", "confirmation_votes_for"),
            ("resolution_ref", "confirmation_resolution_ref"),
        ),
    ),
    StepLayout(
        "committee_confirm_vote",
        "confirmation_committee_resolution_on",
        (
            ("members", "confirmation_committee_members"),
            ("votes_for", "confirmation_committee_votes_for"),
            ("resolution_ref", "confirmation_committee_resolution_ref"),
        ),
    ),
    StepLayout("confirm", "official_decision_on", (("decision_no", "official_decision_no"),)),
)
# The papers of probation: after the ceremony, before the confirmation vote, any order.
PROBATION_STEPS: tuple[StepLayout, ...] = (
    StepLayout(
        "complete_theory_class",
        "theory_class_on",
        (("class_name", "theory_class_name"), ("certificate_no", "theory_certificate_no")),
    ),
    StepLayout("record_self_review", "self_review_on"),
    StepLayout("record_helper_comment", "helper_comment_on", (("comment", "helper_comment"),)),
)
CLOSING_STEPS: dict[str, StepLayout] = {
    "rejected": StepLayout(
        "reject", "closed_on", (("by", "rejected_by"), ("reason", "close_reason"))
    ),
    "withdrawn": StepLayout("withdraw", "closed_on", (("reason", "close_reason"),)),
    "removed": StepLayout(
        "remove",
        "removed_on",
        (("decision_no", "removal_decision_no"), ("reason", "removal_reason")),
    ),
}
OPTIONAL_COMMITTEE_STEPS = ("committee_vote", "committee_confirm_vote")
# The state each main step leads to, from the process table.
STATE_AFTER = {s.event: process.event(s.event).target for s in MAIN_STEPS}  # type: ignore[union-attr]
PATH_STATES = ("nominated", *(str(STATE_AFTER[s.event]) for s in MAIN_STEPS))
TARGET_STATES = (*PATH_STATES, *CLOSING_STEPS)
DEFAULT_THEORY_CLASS = "Lớp bồi dưỡng lý luận chính trị cho đảng viên mới"
DEFAULT_COMMENT = "Nhập từ dữ liệu cũ (bản nhận xét lưu trong hồ sơ giấy)"
NOT_RECORDED = "(không ghi)"

CASE_COLUMNS: tuple[Column, ...] = (
    _c("full_name", "Họ và tên", "Full name", True),
    _c("birth_date", "Ngày sinh", "Date of birth", True, *DATE_NOTE),
    _c("gender", "Giới tính", "Gender", True, "female / male", "female / male"),
    _c("ethnicity", "Dân tộc", "Ethnicity", nvi="mặc định Kinh", nen="default Kinh"),
    _c("religion", "Tôn giáo", "Religion"),
    _c("education", "Trình độ học vấn", "Education", nvi="ví dụ 12/12", nen="e.g. 12/12"),
    _c(
        "occupation",
        "Nghề nghiệp",
        "Occupation",
        True,
        ", ".join(process.OCCUPATIONS),
        ", ".join(process.OCCUPATIONS),
    ),
    _c("village", "Thôn, tổ dân phố", "Village"),
    _c("youth_union_member", "Đoàn viên", "Youth Union member", nvi="có/không", nen="yes/no"),
    _c(
        "trade_union_member",
        "Đoàn viên công đoàn",
        "Trade-union member",
        nvi="có/không",
        nen="yes/no",
    ),
    _c("national_id", "Số CCCD", "National ID"),
    _c("cell", "Chi bộ", "Cell", True, *ID_OR_NAME),
    _c("nominated_on", "Ngày giới thiệu", "Nomination date", True, *DATE_NOTE),
    _c(
        "nominated_by",
        "Tổ chức giới thiệu",
        "Nominated by",
        True,
        ", ".join(process.NOMINATORS),
        ", ".join(process.NOMINATORS),
    ),
    _c("nomination_ref", "Số văn bản giới thiệu", "Nomination reference", True),
    _c(
        "target_state",
        "Bước đã đạt",
        "State reached",
        True,
        "một trong: " + ", ".join(TARGET_STATES),
        "one of: " + ", ".join(TARGET_STATES),
    ),
    _c("class_started_on", "Ngày khai giảng lớp nhận thức", "Awareness class started"),
    _c("class_name", "Tên lớp nhận thức", "Awareness class"),
    _c("class_issuer", "Đơn vị mở lớp", "Class held by"),
    _c("certificate_on", "Ngày cấp giấy chứng nhận", "Certificate issued on"),
    _c("certificate_no", "Số giấy chứng nhận", "Certificate number"),
    _c("sponsors_on", "Ngày phân công người giới thiệu", "Sponsors assigned on"),
    _c(
        "sponsor1",
        "Người giới thiệu 1",
        "Sponsor 1",
        nvi="số đảng viên hoặc họ tên trong chi bộ",
        nen="member id or full name in the cell",
    ),
    _c("sponsor1_since", "Người giới thiệu 1 công tác cùng từ", "Sponsor 1 alongside since"),
    _c(
        "sponsor2",
        "Người giới thiệu 2",
        "Sponsor 2",
        nvi="trống khi đoàn thể giới thiệu",
        nen="empty when a union introduced",
    ),
    _c("sponsor2_since", "Người giới thiệu 2 công tác cùng từ", "Sponsor 2 alongside since"),
    _c(
        "union_resolution_kind",
        "Đoàn thể giới thiệu",
        "Introducing union",
        nvi="youth_union / trade_union",
        nen="youth_union / trade_union",
    ),
    _c("union_resolution_ref", "Số nghị quyết đoàn thể (4-KNĐ)", "Union resolution (4-KNĐ)"),
    _c("union_resolution_on", "Ngày nghị quyết đoàn thể", "Union resolution dated"),
    _c("dossier_on", "Ngày hoàn thiện hồ sơ", "Dossier complete on"),
    _c(
        "application_on",
        "Ngày đơn xin vào Đảng (1-KNĐ)",
        "Application (1-KNĐ)",
        nvi="mặc định: ngày hoàn thiện hồ sơ",
        nen="default: dossier date",
    ),
    _c(
        "declaration_on",
        "Ngày lý lịch (2-KNĐ)",
        "Declaration (2-KNĐ)",
        nvi="mặc định: ngày hoàn thiện hồ sơ",
        nen="default: dossier date",
    ),
    _c(
        "introductions_on",
        "Ngày giấy giới thiệu (3-KNĐ)",
        "Introductions (3-KNĐ)",
        nvi="mặc định: ngày hoàn thiện hồ sơ",
        nen="default: dossier date",
    ),
    _c(
        "comments_on",
        "Ngày tổng hợp nhận xét (5-KNĐ)",
        "Comments (5-KNĐ)",
        nvi="mặc định: ngày hoàn thiện hồ sơ",
        nen="default: dossier date",
    ),
    _c(
        "verification_requested_on",
        "Ngày gửi công văn thẩm tra (20-KNĐ)",
        "Verification requested (20-KNĐ)",
        nvi="mặc định: ngày hoàn thiện hồ sơ",
        nen="default: dossier date",
    ),
    _c("verified_on", "Ngày kết luận thẩm tra", "Background verified on"),
    _c("cell_resolution_on", "Ngày chi bộ họp xét kết nạp", "Cell meeting on admission"),
    _c("cell_voters", "Số đảng viên chính thức biểu quyết", "Official members voting"),
    _c("cell_votes_for", "Số tán thành", "Votes for"),
    _c("cell_resolution_ref", "Số nghị quyết chi bộ (6-KNĐ)", "Cell resolution (6-KNĐ)"),
    _c("over_60_consent_ref", "Văn bản đồng ý kết nạp trên 60 tuổi", "Consent to admit over 60"),
    _c(
        "committee_resolution_on",
        "Ngày đảng ủy cơ sở họp",
        "Committee meeting on",
        nvi="bắt buộc khi đảng ủy cơ sở không được ủy quyền kết nạp",
        nen="required where the grassroots committee may not admit",
    ),
    _c("committee_members", "Số cấp ủy viên", "Committee members"),
    _c("committee_votes_for", "Số cấp ủy viên tán thành", "Committee votes for"),
    _c("committee_resolution_ref", "Số nghị quyết đảng ủy (8-KNĐ)", "Committee resolution (8-KNĐ)"),
    _c("decision_on", "Ngày quyết định kết nạp", "Admission decision on"),
    _c("decision_no", "Số quyết định kết nạp (9-KNĐ)", "Admission decision (9-KNĐ)"),
    _c(
        "decision_received_on",
        "Ngày chi bộ nhận quyết định",
        "Decision received on",
        nvi="mặc định: ngày quyết định",
        nen="default: decision date",
    ),
    _c("ceremony_on", "Ngày lễ kết nạp", "Ceremony on"),
    _c(
        "helper",
        "Đảng viên giúp đỡ",
        "Helper",
        nvi="mặc định: người giới thiệu 1",
        nen="default: sponsor 1",
    ),
    _c(
        "theory_class_on",
        "Ngày cấp giấy chứng nhận lớp đảng viên mới",
        "Theory class certificate on",
    ),
    _c("theory_class_name", "Tên lớp đảng viên mới", "Theory class"),
    _c(
        "theory_certificate_no", "Số giấy chứng nhận lớp đảng viên mới", "Theory certificate number"
    ),
    _c("self_review_on", "Ngày bản tự kiểm điểm (10-KNĐ)", "Self-review (10-KNĐ)"),
    _c(
        "helper_comment_on", "Ngày nhận xét của người giúp đỡ (11-KNĐ)", "Helper's comment (11-KNĐ)"
    ),
    _c("helper_comment", "Nhận xét của người giúp đỡ", "Helper's comment"),
    _c(
        "confirmation_cell_resolution_on",
        "Ngày chi bộ xét công nhận chính thức",
        "Cell meeting on confirmation",
    ),
    _c(
        "confirmation_voters",
        "Số đảng viên chính thức biểu quyết (chính thức)",
        "Official members voting (confirmation)",
    ),
    _c("confirmation_votes_for", "Số tán thành (chính thức)", "Votes for (confirmation)"),
    _c("confirmation_resolution_ref", "Số nghị quyết chi bộ (13-KNĐ)", "Cell resolution (13-KNĐ)"),
    _c(
        "confirmation_committee_resolution_on",
        "Ngày đảng ủy xét công nhận",
        "Committee meeting on confirmation",
    ),
    _c(
        "confirmation_committee_members",
        "Số cấp ủy viên (chính thức)",
        "Committee members (confirmation)",
    ),
    _c(
        "confirmation_committee_votes_for",
        "Số cấp ủy viên tán thành (chính thức)",
        "Committee votes for (confirmation)",
    ),
    _c(
        "confirmation_committee_resolution_ref",
        "Số nghị quyết đảng ủy (15-KNĐ)",
        "Committee resolution (15-KNĐ)",
    ),
    _c("official_decision_on", "Ngày quyết định công nhận chính thức", "Confirmation decision on"),
    _c(
        "official_decision_no", "Số quyết định công nhận chính thức", "Confirmation decision number"
    ),
    _c("closed_on", "Ngày không kết nạp / rút hồ sơ", "Rejected / withdrawn on"),
    _c(
        "rejected_by",
        "Cấp không kết nạp",
        "Rejected by",
        nvi="cell / committee / authority (mặc định cell)",
        nen="cell / committee / authority (default cell)",
    ),
    _c("close_reason", "Lý do", "Reason"),
    _c("removed_on", "Ngày quyết định xóa tên", "Removal decision on"),
    _c("removal_decision_no", "Số quyết định xóa tên", "Removal decision number"),
    _c("removal_reason", "Lý do xóa tên", "Reason for removal"),
)
MEMBER_COLUMNS: tuple[Column, ...] = (
    _c("full_name", "Họ và tên", "Full name", True),
    _c("cell", "Chi bộ", "Cell", True, *ID_OR_NAME),
    _c("status", "Đảng viên", "Status", True, "official / probationary", "official / probationary"),
    _c(
        "joined_on",
        "Ngày vào Đảng (quyết định kết nạp)",
        "Admitted on (decision)",
        True,
        *DATE_NOTE,
    ),
    _c(
        "official_since",
        "Ngày chính thức",
        "Official since",
        nvi="bắt buộc với đảng viên chính thức",
        nen="required for official members",
    ),
    _c("birth_date", "Ngày sinh", "Date of birth"),
    _c("gender", "Giới tính", "Gender", nvi="female / male", nen="female / male"),
    _c("national_id", "Số CCCD", "National ID"),
)
CLASS_COLUMNS: tuple[Column, ...] = (
    _c("kind", "Loại lớp", "Kind", True, "awareness / theory", "awareness / theory"),
    _c("name", "Tên lớp", "Class name", True),
    _c("organisation", "Tổ chức mở lớp", "Organisation", True, *ID_OR_NAME),
    _c("starts_on", "Ngày khai giảng", "First day", True, *DATE_NOTE),
    _c("ends_on", "Ngày bế giảng", "Last day"),
    _c("issuer", "Đơn vị tổ chức", "Held by"),
    _c("attendees", "Số học viên", "Attendees"),
)
LAYOUTS: dict[str, tuple[Column, ...]] = {
    "cases": CASE_COLUMNS,
    "members": MEMBER_COLUMNS,
    "classes": CLASS_COLUMNS,
}
# Columns the export adds for reading; an import of an exported file ignores them.
INFORMATIONAL: dict[str, tuple[str, ...]] = {
    "cases": ("case_id", "state", "cell_name", "imported", "next_due"),
    "members": ("member_id", "cell_name"),
    "classes": ("class_id", "organisation_name", "enrolled"),
}
DATE_COLUMNS = {
    c.name
    for c in CASE_COLUMNS + MEMBER_COLUMNS + CLASS_COLUMNS
    if c.name.endswith(("_on", "_date", "_since"))
}


def columns(kind: str) -> list[str]:
    return [c.name for c in LAYOUTS[kind]]


def required_columns(kind: str) -> list[str]:
    return [c.name for c in LAYOUTS[kind] if c.required]


# ── reading files ────────────────────────────────────────────────────────
@dataclass
class Table:
    header: list[str]
    total: int  # data rows (an estimate for XLSX files without a dimension)
    rows: Iterator[tuple[int, list[Any]]]  # (line number, values)


@contextmanager
def open_table(path: Path, file_name: str | None = None) -> Iterator[Table]:
    """The file's header and rows; ImportFileError when it cannot be read as a table."""
    name = (file_name or path.name).lower()
    try:
        head = path.read_bytes()[:4] if path.stat().st_size else b""
    except OSError as error:
        raise ImportFileError(
            f"Không đọc được tệp: {error.strerror}", f"Cannot read the file: {error.strerror}"
        ) from error
    if not head:
        raise ImportFileError("Tệp rỗng: không có dòng nào", "The file is empty")
    if head.startswith(b"PK\x03\x04") or name.endswith(".xlsx"):
        with _xlsx_table(path) as table:
            yield table
    elif name.endswith((".csv", ".txt")) or not name.rpartition(".")[1]:
        with _csv_table(path) as table:
            yield table
    else:
        raise ImportFileError(
            "Chỉ nhận tệp CSV (UTF-8) hoặc Excel (.xlsx)", "Only CSV (UTF-8) or XLSX files"
        )


@contextmanager
def _csv_table(path: Path) -> Iterator[Table]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as probe:
            sample = probe.read(64 * 1024)
            probe.seek(0)
            delimiter = _delimiter(sample)
            total = sum(1 for row in csv.reader(probe, delimiter=delimiter) if _filled(row))
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter)

            def numbered() -> Iterator[tuple[int, list[Any]]]:
                for row in reader:
                    if _filled(row):
                        yield reader.line_num, list(row)

            rows = numbered()
            header = next(rows, None)
            if header is None:
                raise ImportFileError("Tệp rỗng: không có dòng nào", "The file is empty")
            yield Table([str(h) for h in header[1]], total - 1, rows)
    except UnicodeDecodeError as error:
        raise ImportFileError(
            "Tệp CSV không phải mã UTF-8: hãy lưu lại với kiểu 'CSV UTF-8'",
            "The CSV file is not UTF-8: save it again as 'CSV UTF-8'",
        ) from error
    except csv.Error as error:
        raise ImportFileError(
            f"Tệp CSV bị lỗi định dạng: {error}", f"The CSV file is malformed: {error}"
        ) from error


def _delimiter(sample: str) -> str:
    first = sample.splitlines()[0] if sample else ""
    return max((",", ";", "\t"), key=first.count)


def _filled(row: Sequence[Any]) -> bool:
    return any(v is not None and str(v).strip() for v in row)


@contextmanager
def _xlsx_table(path: Path) -> Iterator[Table]:
    from openpyxl import load_workbook  # noqa: PLC0415 — only XLSX imports need it

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a broken file
        raise ImportFileError(
            "Không mở được tệp Excel (.xlsx): tệp hỏng hoặc không phải .xlsx",
            "Cannot open the Excel file: it is damaged or not .xlsx",
        ) from error
    try:
        sheet = book.worksheets[0]

        def numbered() -> Iterator[tuple[int, list[Any]]]:
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                if _filled(row):
                    yield number, list(row)

        rows = numbered()
        header = next(rows, None)
        if header is None:
            raise ImportFileError("Tệp rỗng: không có dòng nào", "The file is empty")
        total = max((sheet.max_row or 0) - header[0], 0)
        yield Table(["" if h is None else str(h) for h in header[1]], total, rows)
    finally:
        book.close()


def _header(table: Table, kind: str | None) -> tuple[str, list[str]]:
    """The kind of the file and its normalised column names; ImportFileError otherwise."""
    names = [unicodedata.normalize("NFC", h).strip().lower().lstrip("\ufeff") for h in table.header]
    doubled = sorted({n for n in names if n and names.count(n) > 1})
    if doubled:
        raise ImportFileError(
            f"Cột bị lặp: {', '.join(doubled)}", f"Columns appear twice: {', '.join(doubled)}"
        )
    if kind is None:
        fitting = [k for k in KINDS if set(required_columns(k)) <= set(names)]
        if len(fitting) != 1:
            expected = "; ".join(f"{k}: {', '.join(required_columns(k))}" for k in KINDS)
            raise ImportFileError(
                f"Không nhận ra loại dữ liệu từ các cột. Các cột bắt buộc — {expected}",
                f"Cannot tell what the file holds from its columns. Required columns — {expected}",
            )
        kind = fitting[0]
    if kind not in KINDS:
        raise ImportFileError(
            f"Loại dữ liệu '{kind}' không có (có: {', '.join(KINDS)})",
            f"No kind '{kind}' (known: {', '.join(KINDS)})",
        )
    known = set(columns(kind)) | set(INFORMATIONAL[kind])
    unknown = [n for n in names if n and n not in known]  # nameless columns are ignored
    missing = [n for n in required_columns(kind) if n not in names]
    if unknown or missing:
        problems_vi, problems_en = [], []
        if missing:
            problems_vi.append(f"thiếu cột: {', '.join(missing)}")
            problems_en.append(f"missing columns: {', '.join(missing)}")
        if unknown:
            problems_vi.append(f"cột không biết: {', '.join(unknown)}")
            problems_en.append(f"unknown columns: {', '.join(unknown)}")
        raise ImportFileError(
            f"Các cột của tệp không đúng mẫu '{kind}' ({'; '.join(problems_vi)}). "
            f"Các cột cần có: {', '.join(columns(kind))}",
            f"The file's columns do not match the '{kind}' layout ({'; '.join(problems_en)}). "
            f"Expected columns: {', '.join(columns(kind))}",
        )
    return kind, names


# ── reading one row's values ─────────────────────────────────────────────
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_YES = {"1", "true", "yes", "y", "x", "có", "co", "c"}
_NO = {"0", "false", "no", "n", "không", "khong", "k"}


class Row:
    """One data row: its values by column, parsed on demand, problems collected."""

    def __init__(self, line: int, names: list[str], values: list[Any], today: date) -> None:
        self.line, self.today = line, today
        self.values = {
            n: _clean(v) for n, v in zip(names, values, strict=False) if n and v is not None
        }
        self.errors: list[RowError] = []
        self.resolved: dict[str, int | None] = {}  # member columns already looked up

    def problem(self, column: str | None, vi: str, en: str, rule: str | None = None) -> None:
        self.errors.append(RowError(self.line, column, vi, en, rule))

    def has(self, column: str) -> bool:
        return self.values.get(column) is not None

    def text(self, column: str, required: bool = False) -> str | None:
        value = self.values.get(column)
        if value is None:
            if required:
                self.problem(column, f"Thiếu '{column}'", f"'{column}' is empty")
            return None
        return value.isoformat() if isinstance(value, date) else str(value)

    def day(self, column: str, required: bool = False) -> date | None:
        value = self.values.get(column)
        if value is None:
            if required:
                self.problem(column, f"Thiếu ngày '{column}'", f"The date '{column}' is empty")
            return None
        parsed = _parse_day(value)
        if parsed is None:
            self.problem(
                column,
                f"'{value}' không phải ngày có thật (dùng YYYY-MM-DD hoặc DD/MM/YYYY)",
                f"'{value}' is not a real date (use YYYY-MM-DD or DD/MM/YYYY)",
            )
            return None
        if parsed > self.today:
            self.problem(
                column,
                f"Ngày {parsed:%d/%m/%Y} ở tương lai",
                f"{parsed:%d/%m/%Y} is in the future",
            )
            return None
        return parsed

    def number(self, column: str, required: bool = False) -> int | None:
        text = self.text(column, required)
        if text is None:
            return None
        if re.fullmatch(r"\d{1,9}(\.0+)?", text):
            return int(float(text))
        self.problem(
            column,
            f"'{text}' không phải số nguyên không âm",
            f"'{text}' is not a whole number ≥ 0",
        )
        return None

    def flag(self, column: str) -> bool:
        text = self.text(column)
        if text is None:
            return False
        lowered = text.lower()
        if lowered in _YES:
            return True
        if lowered not in _NO:
            self.problem(column, f"'{text}' phải là có/không", f"'{text}' must be yes or no")
        return False

    def reject_if_errors(self) -> None:
        if self.errors:
            raise RowRejected(self.errors)


def _clean(value: Any) -> str | date | None:
    """A cell's value: text trimmed and NFC-normalised (Vietnamese typed on a Mac comes
    decomposed), dates as dates, whole floats (Excel's numbers) as digits."""
    if value.__class__ is not str:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        value = str(value)
    text: str = value.strip()
    if not text:
        return None
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if text[0] == "'" and text[1:2] in FORMULA_START:  # the export's guard against formulas
        text = text[1:]
    if "  " in text or "\t" in text or "\n" in text:
        text = " ".join(text.split())
    return text


def _parse_day(value: str | date) -> date | None:
    if isinstance(value, date):
        return value
    match = _DMY.match(value)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        return date.fromisoformat(value)
    except ValueError:
        return None


# ── look-ups shared by every row ─────────────────────────────────────────
class Directory:
    """Organisations and members, loaded once per import and held: the session's
    identity map is weak, and the engine asks for them at every step."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session, self.actor = session, actor
        self.organisations = Organisations(session)
        self._by_name: dict[str, list[Organisation]] = {}
        for org in self.organisations.by_id.values():
            self._by_name.setdefault(org.name.casefold(), []).append(org)
        self.members: dict[int, Member] = {}
        self._members_by_name: dict[tuple[int, str], list[Member]] = {}
        self._loaded_cells: set[int] = set()

    def find(self, ref: str, cells_only: bool) -> list[Organisation]:
        """Organisations in the actor's scope with this id or this exact name."""
        if ref.isdigit():
            org = self.organisations.by_id.get(int(ref))
            found = [org] if org is not None else []
        else:
            found = self._by_name.get(ref.casefold(), [])
        return [
            o
            for o in found
            if self.actor.acts_for(o.path) and (not cells_only or o.kind in CELL_KINDS)
        ]

    def organisation(self, row: Row, column: str, cells_only: bool) -> Organisation | None:
        ref = row.text(column, required=True)
        if ref is None:
            return None
        found = self.find(ref, cells_only)
        what_vi, what_en = ("chi bộ", "cell") if cells_only else ("tổ chức", "organisation")
        if not found:
            row.problem(
                column,
                f"Không có {what_vi} '{ref}' trong phạm vi của bạn",
                f"There is no {what_en} '{ref}' in your scope",
            )
            return None
        if len(found) > 1:
            ids = ", ".join(str(o.id) for o in found)
            row.problem(
                column,
                f"Có nhiều {what_vi} tên '{ref}' (số {ids}): hãy ghi số",
                f"Several {what_en}s are named '{ref}' (ids {ids}): give the id",
            )
            return None
        return found[0]

    def acting_for(self, cell: Organisation, acted_by: str) -> Organisation:
        """The organisation that records a kind of step for a cell: the cell itself, its
        committee, or the competent authority. An importer may transcribe only the acts
        of organisations in their own subtree (an admin: any)."""
        committee = self.organisations.get(cell.parent_id)
        if acted_by == "committee":
            return committee or cell
        if acted_by == "authority":
            return self.organisations.authority_of(cell) or committee or cell
        return cell

    def load_members(self, cell_ids: set[int], member_ids: set[int]) -> None:
        """Members of these cells and these ids, once per import."""
        new_cells = cell_ids - self._loaded_cells
        wanted = {i for i in member_ids if i not in self.members}
        if not new_cells and not wanted:
            return
        query = select(Member).where(
            or_(col(Member.cell_id).in_(new_cells), col(Member.id).in_(wanted))
        )
        for member in self.session.exec(query):
            assert member.id is not None
            if member.id in self.members:
                continue
            self.members[member.id] = member
            key = (member.cell_id, member.full_name.casefold())
            self._members_by_name.setdefault(key, []).append(member)
        self._loaded_cells |= new_cells

    def member(self, row: Row, column: str, cell: Organisation) -> int | None:
        """The member a column names (an id, or a full name in the case's cell)."""
        if column not in row.resolved:
            row.resolved[column] = self._member(row, column, cell)
        return row.resolved[column]

    def _member(self, row: Row, column: str, cell: Organisation) -> int | None:
        ref = row.text(column)
        if ref is None:
            return None
        if ref.isdigit():
            if int(ref) not in self.members:
                row.problem(column, f"Không có đảng viên số {ref}", f"There is no member {ref}")
                return None
            return int(ref)
        assert cell.id is not None
        found = self._members_by_name.get((cell.id, ref.casefold()), [])
        if len(found) != 1:
            if found:
                ids = ", ".join(str(m.id) for m in found)
                row.problem(
                    column,
                    f"Chi bộ có nhiều đảng viên tên '{ref}' (số {ids}): hãy ghi số",
                    f"Several members of the cell are named '{ref}' (ids {ids}): give the id",
                )
            else:
                row.problem(
                    column,
                    f"{cell.name} không có đảng viên tên '{ref}'",
                    f"{cell.name} has no member named '{ref}'",
                )
            return None
        return found[0].id


# ── cases: from a row to a plan of engine calls ──────────────────────────
@dataclass(frozen=True)
class Step:
    event: str
    on: date
    data: dict[str, Any]
    columns: dict[str, str]  # the event's field → the column it came from


@dataclass
class CasePlan:
    line: int
    cell: Organisation
    nominated_on: date
    nomination: dict[str, Any]
    steps: list[Step]
    person_keys: tuple[tuple[Any, ...], ...]


def person_keys(
    full_name: str, birth: date, national_id: str | None
) -> tuple[tuple[Any, ...], ...]:
    """How the engine tells people apart: national id, or name and birth date."""
    keys: list[tuple[Any, ...]] = [("name", full_name, birth)]
    if national_id:
        keys.append(("id", national_id))
    return tuple(keys)


def plan_case(row: Row, directory: Directory) -> CasePlan:
    """Check one case row and turn it into the engine calls that replay it."""
    cell = directory.organisation(row, "cell", cells_only=True)
    nominated_on = row.day("nominated_on", required=True)
    birth = row.day("birth_date", required=True)
    target = row.text("target_state", required=True)
    if target is not None and target not in TARGET_STATES:
        row.problem(
            "target_state",
            f"'{target}' không phải bước hợp lệ (một trong: {', '.join(TARGET_STATES)})",
            f"'{target}' is not one of: {', '.join(TARGET_STATES)}",
        )
    person = {
        "full_name": row.text("full_name", required=True),
        "birth_date": birth,
        "gender": row.text("gender", required=True),
        "ethnicity": row.text("ethnicity") or "Kinh",
        "religion": row.text("religion"),
        "education": row.text("education"),
        "occupation": row.text("occupation", required=True),
        "village": row.text("village"),
        "youth_union_member": row.flag("youth_union_member"),
        "trade_union_member": row.flag("trade_union_member"),
        "national_id": row.text("national_id"),
    }
    if birth and nominated_on and birth >= nominated_on:
        row.problem(
            "birth_date",
            f"Ngày sinh {birth:%d/%m/%Y} không trước ngày giới thiệu {nominated_on:%d/%m/%Y}",
            f"Born {birth:%d/%m/%Y}, not before the nomination {nominated_on:%d/%m/%Y}",
        )
    row.reject_if_errors()
    assert cell is not None and cell.id is not None and nominated_on and birth and target
    nomination = {
        "person": person,
        "cell_id": cell.id,
        "nominated_by": row.text("nominated_by", required=True),
        "nomination_ref": row.text("nomination_ref", required=True),
    }
    _parse_as(row, process.NOMINATE, nomination, {"cell_id": "cell"})
    steps = _steps(row, directory, cell, target, nominated_on)
    row.reject_if_errors()
    return CasePlan(
        row.line,
        cell,
        nominated_on,
        nomination,
        steps,
        person_keys(str(person["full_name"]), birth, row.text("national_id")),
    )


def _parse_as(
    row: Row, spec: process.Event | None, data: dict[str, Any], columns: dict[str, str]
) -> None:
    """Let the process table's field specs judge the data (choices, required fields)."""
    assert spec is not None
    if not spec.fields:
        return
    try:
        schema.parse(spec.fields, data)
    except InvalidData as problem:
        name = problem.field.removeprefix("person.")
        row.problem(columns.get(name, name), problem.message_vi, problem.message_en)


def _needs_committee(cell: Organisation, directory: Directory) -> bool:
    """The committee votes unless the cell's own committee may decide (process.py)."""
    parent = directory.organisations.get(cell.parent_id)
    return parent is None or not parent.may_admit


def _steps(
    row: Row, directory: Directory, cell: Organisation, target: str, nominated_on: date
) -> list[Step]:
    """The row's steps in the order they happened, each date checked against the last.
    The papers of probation go between the ceremony and the confirmation vote (or the
    removal); a probationary member's papers, when given, after the ceremony."""
    steps: list[Step] = []
    previous = ("nominated_on", nominated_on)
    ceremony: date | None = None
    for layout in _main_steps(row, directory, cell, target):
        on = row.day(layout.date_column, required=True)
        if on is None:
            continue
        if on < previous[1]:
            row.problem(
                layout.date_column,
                f"{layout.date_column} ({on:%d/%m/%Y}) trước {previous[0]} "
                f"({previous[1]:%d/%m/%Y}): các bước không đúng thứ tự",
                f"{layout.date_column} ({on:%d/%m/%Y}) is before {previous[0]} "
                f"({previous[1]:%d/%m/%Y}): the steps are out of order",
            )
        if ceremony is not None and layout.event in ("cell_confirm_vote", "remove"):
            vote = layout.event == "cell_confirm_vote"
            steps += _probation_steps(row, directory, cell, ceremony, on, required=vote)
            ceremony = None  # the papers are placed
        steps.append(_step(row, directory, cell, layout, on))
        if layout.event == "hold_ceremony":
            ceremony = on
        previous = (layout.date_column, on)
    if ceremony is not None:  # still probationary
        steps += _probation_steps(row, directory, cell, ceremony, None, required=False)
    return steps


def _main_steps(
    row: Row, directory: Directory, cell: Organisation, target: str
) -> list[StepLayout]:
    """The path's steps this row must replay, in order, with the closing step if any."""
    closing = CLOSING_STEPS.get(target)
    if closing is None:
        reached = PATH_STATES.index(target)  # steps up to the one that leads to `target`
        wanted = list(MAIN_STEPS[:reached])
        beyond = MAIN_STEPS[reached:]
    else:
        # closed cases replay the steps they reached: those with a date, a prefix of the path
        dated = [i for i, s in enumerate(MAIN_STEPS) if row.has(s.date_column)]
        last = max(dated, default=-1)
        wanted, beyond = list(MAIN_STEPS[: last + 1]), MAIN_STEPS[last + 1 :]
        limit = "hold_ceremony" if target == "removed" else None
        _check_closing(row, target, wanted, limit)
    committee_needed = _needs_committee(cell, directory)
    named = wanted[-1] if wanted and closing is None else None  # the step `target` names
    chosen = []
    for layout in wanted:
        optional = layout.event in OPTIONAL_COMMITTEE_STEPS and not committee_needed
        if optional and layout is not named and not row.has(layout.date_column):
            continue  # this cell's committee may decide: its vote is not a step
        chosen.append(layout)
    for layout in beyond:
        if row.has(layout.date_column):
            row.problem(
                layout.date_column,
                f"Có ngày '{layout.date_column}' của bước sau bước đã đạt '{target}'",
                f"'{layout.date_column}' belongs to a step after the state reached, '{target}'",
            )
    if closing is not None:
        chosen.append(closing)
    return chosen


def _check_closing(row: Row, target: str, wanted: list[StepLayout], limit: str | None) -> None:
    events = [s.event for s in wanted]
    if target in ("rejected", "withdrawn") and "hold_ceremony" in events:
        row.problem(
            "ceremony_on",
            "Hồ sơ đã kết nạp không thể 'không kết nạp' hay 'rút hồ sơ': dùng 'removed' (xóa tên)",
            "An admitted case cannot be rejected or withdrawn: use 'removed'",
        )
    if limit and limit not in events:
        row.problem(
            "ceremony_on",
            "Chỉ xóa tên được đảng viên dự bị: cần ngày lễ kết nạp",
            "Only a probationary member can be removed: the ceremony date is needed",
        )
    if target == "removed" and "confirm" in events:
        row.problem(
            "official_decision_on",
            "Đảng viên đã được công nhận chính thức không thể bị xóa tên ở đây",
            "An official member cannot be removed here",
        )


def _probation_steps(
    row: Row,
    directory: Directory,
    cell: Organisation,
    ceremony: date,
    until: date | None,
    required: bool,
) -> list[Step]:
    """Theory class, self-review, helper's comment: all needed before a confirmation vote."""
    steps = []
    for layout in PROBATION_STEPS:
        on = row.day(layout.date_column, required=required)
        if on is None:
            continue
        if on < ceremony:
            row.problem(
                layout.date_column,
                f"{layout.date_column} ({on:%d/%m/%Y}) trước lễ kết nạp ({ceremony:%d/%m/%Y})",
                f"{layout.date_column} ({on:%d/%m/%Y}) is before the ceremony "
                f"({ceremony:%d/%m/%Y})",
            )
        if until is not None and on > until:
            row.problem(
                layout.date_column,
                f"{layout.date_column} ({on:%d/%m/%Y}) sau bước tiếp theo ({until:%d/%m/%Y})",
                f"{layout.date_column} ({on:%d/%m/%Y}) is after the next step ({until:%d/%m/%Y})",
            )
        steps.append(_step(row, directory, cell, layout, on))
    steps.sort(key=lambda s: s.on)
    return steps


def _step(row: Row, directory: Directory, cell: Organisation, layout: StepLayout, on: date) -> Step:
    columns = {name: column for name, column in layout.fields}
    data: dict[str, Any] = {}
    for name, column in layout.fields:
        value: Any
        if column in DATE_COLUMNS:
            value = row.day(column)
        elif column.endswith(("_voters", "_members", "_votes_for")):
            value = row.number(column)
        else:
            value = row.text(column)
        data[name] = value
    _complete(row, directory, cell, layout.event, on, data, columns)
    spec = process.event(layout.event)
    assert spec is not None
    _parse_as(row, spec, data, columns)
    deciding = directory.acting_for(cell, spec.acted_by)
    if not directory.actor.acts_for(deciding.path):
        row.problem(
            layout.date_column,
            f"Bước '{spec.label_vi}' do {deciding.name} thực hiện: chỉ cán bộ của"
            " cấp đó (hoặc quản trị viên) được nhập",
            f"'{spec.label_en}' was {deciding.name}'s act: only its officers (or an"
            " admin) may import it",
        )
    return Step(layout.event, on, data, columns)


def _complete(
    row: Row,
    directory: Directory,
    cell: Organisation,
    event: str,
    on: date,
    data: dict[str, Any],
    columns: dict[str, str],
) -> None:
    """The fields a plain copy cannot give: defaults the old records lack, references."""
    if event == "assign_sponsors":
        data.update(_sponsors(row, directory, cell, columns))
    elif event == "submit_dossier":
        for name in ("application_on", "declaration_on", "introductions_on", "comments_on"):
            columns[name] = name
            data[name] = row.day(name) or on
        if row.has("union_resolution_ref"):
            columns["union_resolution_on"] = "union_resolution_on"
            data["union_resolution_on"] = row.day("union_resolution_on")
    elif event == "verify_background":
        columns["requests_sent_on"] = "verification_requested_on"
        data["requests_sent_on"] = (
            row.day("verification_requested_on") or row.day("dossier_on") or on
        )
        data["conclusion"] = "meets_standards"
    elif event == "hold_ceremony":
        columns["helpers"] = "helper"
        helper = directory.member(row, "helper", cell) if row.has("helper") else None
        data["helpers"] = [helper or directory.member(row, "sponsor1", cell)]
    elif event == "record_helper_comment":
        columns["helper_id"] = "helper"
        helper = directory.member(row, "helper", cell) if row.has("helper") else None
        data["helper_id"] = helper or directory.member(row, "sponsor1", cell)
        data["comment"] = data.get("comment") or DEFAULT_COMMENT
    elif event == "complete_theory_class":
        data["class_name"] = data.get("class_name") or DEFAULT_THEORY_CLASS
        data["certificate_no"] = data.get("certificate_no") or NOT_RECORDED
    elif event == "decide_admission":
        data["received_on"] = data.get("received_on") or on
    elif event == "reject":
        data["by"] = data.get("by") or "cell"


def _sponsors(
    row: Row, directory: Directory, cell: Organisation, columns: dict[str, str]
) -> dict[str, Any]:
    sponsors = []
    for n in (1, 2):
        member_id = directory.member(row, f"sponsor{n}", cell)
        since = row.day(f"sponsor{n}_since", required=row.has(f"sponsor{n}"))
        if member_id is not None and since is not None:
            sponsors.append({"member_id": member_id, "alongside_since": since})
    if not row.has("sponsor1") and not row.has("sponsor2"):
        row.problem("sponsor1", "Thiếu người giới thiệu", "No sponsor given")
    columns["sponsors"] = "sponsor1"
    union = None
    if row.has("union_resolution_ref") or row.has("union_resolution_kind"):
        columns["union_resolution"] = "union_resolution_ref"
        union = {
            "kind": row.text("union_resolution_kind", required=True),
            "ref": row.text("union_resolution_ref", required=True),
            "dated": row.day("union_resolution_on", required=True),
        }
    return {"sponsors": sponsors, "union_resolution": union}


# ── the replay ───────────────────────────────────────────────────────────
@dataclass(frozen=True)
class CellActors:
    """Who recorded each kind of step, historically: the importing user acting for the
    cell, its committee, and the competent authority. History names the importer."""

    cell: Actor
    committee: Actor
    authority: Actor

    def acting(self, acted_by: str) -> Actor:
        if acted_by == "committee":
            return self.committee
        if acted_by == "authority":
            return self.authority
        return self.cell


def _actors(actor: Actor, cell: Organisation, directory: Directory) -> CellActors:
    def officer(acted_by: str) -> Actor:
        org = directory.acting_for(cell, acted_by)
        return Actor(actor.username, "officer", org.id, org.path)

    return CellActors(
        Actor(actor.username, "secretary", cell.id, cell.path),
        officer("committee"),
        officer("authority"),
    )


ROW_FAILURES = (Refusal, InvalidData, Conflict, NotFound, Forbidden, SQLAlchemyError)


class StepFailed(Exception):
    """A replayed step was refused; `step` is None for the nomination."""

    def __init__(self, step: Step | None, error: Exception) -> None:
        super().__init__(str(error))
        self.step, self.error = step, error


def replay_case(
    engine: Engine, session: Session, plan: CasePlan, actors: CellActors, note: str
) -> int:
    """Nominate and advance inside the caller's transaction; returns the case id."""
    try:
        outcome = engine.nominate(
            plan.nomination,
            actors.cell,
            on=plan.nominated_on,
            note=note,
            session=session,
            imported=True,
        )
    except ROW_FAILURES as error:
        raise StepFailed(None, error) from error
    case = outcome.case
    assert case.id is not None
    for step in plan.steps:
        spec = process.event(step.event)
        assert spec is not None
        try:
            moved = engine.advance(
                case.id,
                step.event,
                step.data,
                actors.acting(spec.acted_by),
                case.version,
                on=step.on,
                note=note,
                session=session,
                imported=True,
            )
        except ROW_FAILURES as error:
            raise StepFailed(step, error) from error
        if moved.failed_vote is not None:  # the old records say it passed: the rule says not
            raise StepFailed(step, moved.failed_vote)
    return case.id


def replay_error(line: int, failure: StepFailed | SQLAlchemyError) -> RowError:
    """A refused replay as a row error: the step, the rule and the column it points at."""
    error = failure.error if isinstance(failure, StepFailed) else failure
    step = failure.step if isinstance(failure, StepFailed) else None
    spec = process.event(step.event if step else "nominate")
    where_vi = f"Bước '{spec.label_vi}'" if spec else "Ghi dữ liệu"
    where_en = f"Step '{spec.label_en}'" if spec else "Writing"
    column = None
    field_name = getattr(error, "field", None)
    if step is not None and field_name:
        column = step.columns.get(field_name.split(".")[0].split("[")[0])
        if column is None and field_name == "on":
            column = next(
                (s.date_column for s in (*MAIN_STEPS, *PROBATION_STEPS) if s.event == step.event),
                None,
            )
    if isinstance(error, Refusal):
        vi, en, rule = error.message_vi, error.message_en, error.rule
    elif isinstance(error, InvalidData):
        vi, en, rule = error.message_vi, error.message_en, "invalid_data"
    elif isinstance(error, Conflict):
        vi, en, rule = error.message_vi, error.message_en, "version_conflict"
    elif isinstance(error, NotFound | Forbidden):
        vi, en, rule = (
            "ngoài phạm vi của người nhập dữ liệu",
            "outside the importing user's scope",
            "forbidden",
        )
    else:
        vi, en, rule = f"lỗi cơ sở dữ liệu: {error}", f"database error: {error}", "database"
    return RowError(line, column, f"{where_vi}: {vi}", f"{where_en}: {en}", rule)


# ── the driver ───────────────────────────────────────────────────────────


def import_file(
    engine: Engine,
    path: Path | str,
    actor: Actor,
    progress: Progress | None = None,
    *,
    kind: str | None = None,
    dry_run: bool = False,
    file_name: str | None = None,
) -> ImportReport:
    """Import a CSV/XLSX file; every rejected row is in the report with its reason."""
    return _run(engine, Path(path), actor, progress, kind, dry_run, False, file_name)


def check_file(
    engine: Engine,
    path: Path | str,
    actor: Actor,
    progress: Progress | None = None,
    *,
    kind: str | None = None,
    file_name: str | None = None,
) -> ImportReport:
    """Validate every row (columns, values, dates, cells, duplicates) without replaying
    anything: fast, writes nothing. Rules the engine applies at replay are not checked."""
    return _run(engine, Path(path), actor, progress, kind, True, True, file_name)


def _run(
    engine: Engine,
    path: Path,
    actor: Actor,
    progress: Progress | None,
    kind: str | None,
    dry_run: bool,
    check_only: bool,
    file_name: str | None,
) -> ImportReport:
    if actor.role not in IMPORTERS:
        raise Forbidden(f"role {actor.role} may not import")
    with open_table(path, file_name) as table:
        kind, names = _header(table, kind)
        report = ImportReport(kind, file_name or path.name, dry_run, check_only)
        importer = {"cases": _CaseImport, "members": _MemberImport, "classes": _ClassImport}[kind]
        with engine.session() as session:
            job = importer(engine, session, actor, report, names)
            job.run(table, progress)
        if report.rows == 0:
            raise ImportFileError(
                "Tệp chỉ có dòng tiêu đề, không có dòng dữ liệu nào",
                "The file has a header but no data rows",
            )
        return report


class _Import:
    """Reads rows in chunks, checks them, writes each accepted row, commits per batch."""

    def __init__(
        self, engine: Engine, session: Session, actor: Actor, report: ImportReport, names: list[str]
    ) -> None:
        self.engine, self.session, self.actor, self.report = engine, session, actor, report
        self.names = names
        self.today = engine.clock.today()
        self.directory = Directory(session, actor)
        self.seen: dict[tuple[Any, ...], int] = {}  # a person/member/class key → its line

    def run(self, table: Table, progress: Progress | None) -> None:
        total = max(table.total, 1)
        step = max(1, total // 200)
        chunk: list[tuple[int, list[Any]]] = []
        started, done, reported = time.monotonic(), 0, 0
        for numbered in table.rows:
            chunk.append(numbered)
            if len(chunk) < BATCH_ROWS:
                continue
            done += self._chunk(chunk, started)
            chunk, started = [], time.monotonic()
            if progress and done - reported >= step:
                progress(done, max(total, done))
                reported = done
        if chunk:
            done += self._chunk(chunk, started)
        if progress:
            progress(done, done)

    def _chunk(self, chunk: list[tuple[int, list[Any]]], started: float) -> int:
        rows = [Row(line, self.names, values, self.today) for line, values in chunk]
        self.report.rows += len(rows)
        plans = self.plan(rows)
        if not self.report.checked_only:
            self.write(plans)
        else:
            self.report.accepted += len(plans)
        return len(rows)

    def plan(self, rows: list[Row]) -> list[Any]:
        raise NotImplementedError

    def write(self, plans: list[Any]) -> None:
        raise NotImplementedError

    def reject(self, errors: list[RowError]) -> None:
        self.report.errors.extend(errors)

    def duplicate_in_file(
        self, row: Row, keys: Sequence[tuple[Any, ...]], what: tuple[str, str]
    ) -> bool:
        for key in keys:
            if key in self.seen:
                row.problem(
                    None,
                    f"Trùng {what[0]} với dòng {self.seen[key]}",
                    f"The same {what[1]} as line {self.seen[key]}",
                    "duplicate",
                )
                return True
        return False

    def begin_batch(self) -> None:
        """Open the batch's transaction on the database itself. pysqlite sends no BEGIN
        before a SAVEPOINT, and SQLite commits when the outermost savepoint is released:
        without this each row would commit alone and a dry run would write. IMMEDIATE
        takes the write lock up front, as the batch will write anyway."""
        connection = self.session.connection()
        if connection.dialect.name != "sqlite":
            return
        dbapi = connection.connection.dbapi_connection
        if dbapi is not None and not dbapi.in_transaction:  # type: ignore[attr-defined]
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    def finish_batch(self) -> None:
        if self.report.dry_run:
            self.session.rollback()
        else:
            self.session.commit()


class _CaseImport(_Import):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.actors: dict[int, CellActors] = {}

    def plan(self, rows: list[Row]) -> list[CasePlan]:
        self._load_members(rows)
        plans: list[CasePlan] = []
        for row in rows:
            try:
                plan = plan_case(row, self.directory)
            except RowRejected as rejected:
                self.reject(rejected.errors)
                continue
            if self.duplicate_in_file(row, plan.person_keys, ("người", "person")):
                self.reject(row.errors)
                continue
            for key in plan.person_keys:
                self.seen[key] = row.line
            plans.append(plan)
        existing = self._existing_people(plans)
        kept = []
        for plan in plans:
            case_id = next((existing[k] for k in plan.person_keys if k in existing), None)
            if case_id is None:
                kept.append(plan)
                continue
            self.reject(
                [
                    RowError(
                        plan.line,
                        None,
                        f"Người này đã có trong Ketnap (hồ sơ số {case_id})",
                        f"This person is already in Ketnap (case {case_id})",
                        "duplicate",
                    )
                ]
            )
        return kept

    def _load_members(self, rows: list[Row]) -> None:
        """Sponsors and helpers of this chunk, by id or by name in their cell, in bulk."""
        ids: set[int] = set()
        cells: set[int] = set()
        for row in rows:
            for column in ("sponsor1", "sponsor2", "helper"):
                ref = row.values.get(column)
                if not isinstance(ref, str):
                    continue
                if ref.isdigit():
                    ids.add(int(ref))
                elif isinstance(row.values.get("cell"), str):
                    found = self.directory.find(str(row.values["cell"]), cells_only=True)
                    cells |= {o.id for o in found if o.id is not None}
        self.directory.load_members(cells, ids)

    def _existing_people(self, plans: list[CasePlan]) -> dict[tuple[Any, ...], int]:
        names = [(k[1], k[2]) for p in plans for k in p.person_keys if k[0] == "name"]
        ids = [k[1] for p in plans for k in p.person_keys if k[0] == "id"]
        if not names and not ids:
            return {}
        query = (
            select(
                col(Person.full_name),
                col(Person.birth_date),
                col(Person.national_id),
                col(Case.id),
            )
            .join(Case, col(Case.person_id) == Person.id)
            .where(
                or_(
                    tuple_(col(Person.full_name), col(Person.birth_date)).in_(names),
                    col(Person.national_id).in_(ids),
                )
            )
        )
        found: dict[tuple[Any, ...], int] = {}
        for full_name, birth, national_id, case_id in self.session.exec(query):
            assert case_id is not None
            found.setdefault(("name", full_name, birth), case_id)
            if national_id:
                found.setdefault(("id", national_id), case_id)
        return found

    def write(self, plans: list[CasePlan]) -> None:
        started = time.monotonic()
        pending: list[int] = []
        self.begin_batch()
        for plan in plans:
            assert plan.cell.id is not None
            actors = self.actors.get(plan.cell.id)
            if actors is None:
                actors = self.actors[plan.cell.id] = _actors(self.actor, plan.cell, self.directory)
            note = f"Nhập từ dữ liệu cũ: {self.report.file_name}, dòng {plan.line}"
            savepoint = self.session.begin_nested()
            try:
                case_id = replay_case(self.engine, self.session, plan, actors, note)
                savepoint.commit()
            except (StepFailed, SQLAlchemyError) as failure:
                savepoint.rollback()
                self.reject([replay_error(plan.line, failure)])
                continue
            self.report.accepted += 1
            pending.append(case_id)
            if time.monotonic() - started > BATCH_SECONDS:  # keep the write lock short
                self._commit(pending)
                pending, started = [], time.monotonic()
                self.begin_batch()
        self._commit(pending)

    def _commit(self, case_ids: list[int]) -> None:
        self.finish_batch()
        if not self.report.dry_run:
            self.report.written += len(case_ids)
            self.report.created_ids += case_ids


# ── members ───────────────────────────────────────────────────────────────
@dataclass
class MemberPlan:
    line: int
    member: Member
    person: Person | None
    keys: tuple[tuple[Any, ...], ...]


class _MemberImport(_Import):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.known: dict[tuple[Any, ...], int] = {}
        self.cells_read: set[int] = set()

    def plan(self, rows: list[Row]) -> list[MemberPlan]:
        plans = []
        for row in rows:
            plan = self._plan(row)
            if plan is None or self.duplicate_in_file(row, plan.keys, ("đảng viên", "member")):
                self.reject(row.errors)
                continue
            for key in plan.keys:
                self.seen[key] = row.line
            plans.append(plan)
        existing = self._existing(plans)
        kept = []
        for plan in plans:
            member_id = next((existing[k] for k in plan.keys if k in existing), None)
            if member_id is None:
                kept.append(plan)
            else:
                self.reject(
                    [
                        RowError(
                            plan.line,
                            None,
                            f"Đảng viên này đã có trong Ketnap (số {member_id})",
                            f"This member is already in Ketnap (member {member_id})",
                            "duplicate",
                        )
                    ]
                )
        return kept

    def _plan(self, row: Row) -> MemberPlan | None:
        cell = self.directory.organisation(row, "cell", cells_only=True)
        full_name = row.text("full_name", required=True)
        status = row.text("status", required=True)
        joined = row.day("joined_on", required=True)
        official = row.day("official_since")
        birth = row.day("birth_date")
        gender = row.text("gender")
        national_id = row.text("national_id")
        if status is not None and status not in ("official", "probationary"):
            row.problem(
                "status",
                f"'{status}' phải là official hoặc probationary",
                f"'{status}' must be official or probationary",
            )
        if status == "official" and official is None and not row.errors:
            row.problem(
                "official_since",
                "Đảng viên chính thức cần ngày chính thức",
                "An official member needs the date they became official",
            )
        if status == "probationary" and official is not None:
            row.problem(
                "official_since",
                "Đảng viên dự bị chưa có ngày chính thức",
                "A probationary member has no official date",
            )
        if joined and official and official < joined:
            row.problem(
                "official_since",
                f"Ngày chính thức {official:%d/%m/%Y} trước ngày vào Đảng {joined:%d/%m/%Y}",
                f"Official on {official:%d/%m/%Y}, before admission on {joined:%d/%m/%Y}",
            )
        if birth and joined and birth >= joined:
            row.problem(
                "birth_date", "Ngày sinh không trước ngày vào Đảng", "Born after joining the Party"
            )
        if gender is not None and gender not in ("female", "male"):
            row.problem(
                "gender",
                f"'{gender}' phải là female hoặc male",
                f"'{gender}' must be female or male",
            )
        if (birth is None) != (gender is None) and not row.errors:
            row.problem(
                "gender" if gender is None else "birth_date",
                "Ghi cả ngày sinh và giới tính, hoặc bỏ trống cả hai",
                "Give both the birth date and the gender, or neither",
            )
        if row.errors:
            return None
        assert cell is not None and cell.id is not None and full_name and joined and status
        person = (
            Person(full_name=full_name, birth_date=birth, gender=gender, national_id=national_id)
            if birth and gender
            else None
        )
        member = Member(
            full_name=full_name,
            cell_id=cell.id,
            status=status,
            joined_on=joined,
            official_since=official,
        )
        keys: list[tuple[Any, ...]] = [("member", cell.id, full_name.casefold(), joined)]
        if national_id:
            keys.append(("id", national_id))
        return MemberPlan(row.line, member, person, tuple(keys))

    def _existing(self, plans: list[MemberPlan]) -> dict[tuple[Any, ...], int]:
        """Members already in Ketnap under the same keys; each cell is read once."""
        cells = {p.member.cell_id for p in plans} - self.cells_read
        if cells:
            for member in self.session.exec(select(Member).where(col(Member.cell_id).in_(cells))):
                assert member.id is not None
                key = ("member", member.cell_id, member.full_name.casefold(), member.joined_on)
                self.known.setdefault(key, member.id)
            self.cells_read |= cells
        found = dict(self.known)
        ids = [k[1] for p in plans for k in p.keys if k[0] == "id"]
        if ids:
            rows = self.session.exec(
                select(Person.national_id, Member.id)
                .join(Member, col(Member.person_id) == Person.id)
                .where(col(Person.national_id).in_(ids))
            )
            for national_id, member_id in rows:
                if member_id is not None:
                    found.setdefault(("id", national_id), member_id)
        return found

    def write(self, plans: list[MemberPlan]) -> None:
        self.begin_batch()
        persons = [p.person for p in plans if p.person is not None]
        self.session.add_all(persons)
        self.session.flush()
        for plan in plans:
            if plan.person is not None:
                plan.member.person_id = plan.person.id
        self.session.add_all([p.member for p in plans])
        self.session.flush()
        self.report.accepted += len(plans)
        if not self.report.dry_run:
            self.report.created_ids += [p.member.id for p in plans if p.member.id is not None]
            self.report.written += len(plans)
        self.finish_batch()


# ── classes ───────────────────────────────────────────────────────────────
@dataclass
class ClassPlan:
    line: int
    spec: classes.ClassSpec
    existing: Course | None = None


class _ClassImport(_Import):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        if self.actor.role not in classes.RECORDERS:
            raise Forbidden(f"role {self.actor.role} may not record classes")

    def plan(self, rows: list[Row]) -> list[ClassPlan]:
        plans = []
        for row in rows:
            plan = self._plan(row)
            if plan is None:
                self.reject(row.errors)
                continue
            key = ("class", plan.spec.kind, plan.spec.name.casefold(), plan.spec.organisation_id)
            if self.duplicate_in_file(row, [key], ("lớp", "class")):
                self.reject(row.errors)
                continue
            self.seen[key] = row.line
            plans.append(plan)
        return self._against_database(plans)

    def _plan(self, row: Row) -> ClassPlan | None:
        org = self.directory.organisation(row, "organisation", cells_only=False)
        starts, ends = row.day("starts_on", required=True), row.day("ends_on")
        attendees = row.number("attendees")
        if row.errors:
            return None
        assert org is not None
        data = {
            "kind": row.text("kind"),
            "name": row.text("name"),
            "issuer": row.text("issuer"),
            "organisation_id": org.id,
            "starts_on": starts.isoformat() if starts else None,
            "ends_on": ends.isoformat() if ends else None,
            "attendees": attendees,
        }
        try:
            spec = classes.parse({k: v for k, v in data.items() if v is not None})
        except InvalidData as problem:
            row.problem(
                problem.field.replace("organisation_id", "organisation"),
                problem.message_vi,
                problem.message_en,
            )
            return None
        return ClassPlan(row.line, spec)

    def _against_database(self, plans: list[ClassPlan]) -> list[ClassPlan]:
        """A class the engine already created (same kind, name, organisation) is completed
        with the file's data; one already recorded with a headcount is a duplicate."""
        kept = []
        for plan in plans:
            spec = plan.spec
            course = self.session.exec(
                select(Course).where(
                    Course.kind == spec.kind,
                    Course.name == spec.name,
                    Course.organisation_id == spec.organisation_id,
                )
            ).first()
            counted = (
                course is not None
                and self.session.exec(
                    select(CourseHeadcount.id).where(CourseHeadcount.course_id == course.id)
                ).first()
                is not None
            )
            if counted:
                assert course is not None
                self.reject(
                    [
                        RowError(
                            plan.line,
                            None,
                            f"Lớp này đã có trong Ketnap (số {course.id})",
                            f"This class is already in Ketnap (class {course.id})",
                            "duplicate",
                        )
                    ]
                )
                continue
            plan.existing = course
            kept.append(plan)
        return kept

    def write(self, plans: list[ClassPlan]) -> None:
        self.begin_batch()
        now = self.engine.clock.now()
        courses = []
        for plan in plans:
            spec = plan.spec
            course = plan.existing or Course(
                kind=spec.kind,
                name=spec.name,
                organisation_id=spec.organisation_id,
                starts_on=spec.starts_on,
            )
            course.issuer = spec.issuer or course.issuer
            course.starts_on, course.ends_on = spec.starts_on, spec.ends_on
            self.session.add(course)
            courses.append((plan, course))
        self.session.flush()
        for plan, course in courses:
            if plan.spec.attendees is not None:
                assert course.id is not None
                self.session.add(
                    CourseHeadcount(
                        course_id=course.id,
                        attendees=plan.spec.attendees,
                        recorded_by=self.actor.username,
                        recorded_at=now,
                    )
                )
        self.session.flush()
        self.report.accepted += len(plans)
        if not self.report.dry_run:
            self.report.created_ids += [c.id for _, c in courses if c.id is not None]
            self.report.written += len(plans)
        self.finish_batch()


# ── a layout, printed ─────────────────────────────────────────────────────
def describe(kind: str, locale: str = "vi") -> list[tuple[str, str, str]]:
    """(column, label, note) of a layout, required ones marked with *."""
    rows = []
    for column in LAYOUTS[kind]:
        label = column.label_en if locale == "en" else column.label_vi
        note = column.note_en if locale == "en" else column.note_vi
        rows.append((column.name + ("*" if column.required else ""), label, note))
    return rows


def template_csv(kind: str) -> str:
    """A CSV with the layout's header only: a starting point for a spreadsheet."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(columns(kind))
    return buffer.getvalue()
