"""Every import layout in one place: the columns of each kind of file (cases, members,
classes), their labels and notes, which must be present, and for a case row which step
of the procedure each date and value column feeds.

A file's first row names its columns; `ketnap import-layout` and the /import page print
these layouts (`describe`), and the export writes them back out (export.py), preceded by
the `INFORMATIONAL` columns an import ignores. Values a step needs beyond a plain copy of
its columns (sponsors, dossier dates, the helper) are filled in by plan_cases.py, with
the defaults below; member and class rows become records in import_members.py and
import_classes.py.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from workflow import process
from workflow.directory import villages
from workflow.exchange.choices import Choices
from workflow.text import Text, fold

KINDS = ("cases", "members", "classes", "villages")


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
# (sponsors, dossier dates, helpers) are completed in plan_cases.py.
MAIN_STEPS: tuple[StepLayout, ...] = (
    StepLayout(
        "enrol_in_class",
        "class_started_on",
        (("class_id", "class_id"), ("class_name", "class_name"), ("issuer", "class_issuer")),
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
        (
            ("class_id", "theory_class_id"),
            ("class_name", "theory_class_name"),
            ("certificate_no", "theory_certificate_no"),
        ),
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
# What an empty cell becomes where old paper files rarely hold the value.
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
    _c(
        "class_id",
        "Số lớp nhận thức",
        "Awareness class id",
        nvi="số (id) của lớp đã mở; hoặc ghi tên lớp",
        nen="id of a recorded class; or give the class's name",
    ),
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
    _c(
        "theory_class_id",
        "Số lớp đảng viên mới",
        "Theory class id",
        nvi="số (id) của lớp đã mở; hoặc ghi tên lớp",
        nen="id of a recorded class; or give the class's name",
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
# Members by village: a district's villages in one sheet — each row a person of a village
# (created at its organisation when new): a party member (a status and a cell), a village
# head or deputy with their term (an office), or both.
VILLAGE_COLUMNS: tuple[Column, ...] = (
    _c(
        "organisation",
        "Tổ chức quản lý thôn",
        "Organisation of the village",
        True,
        "số (id) hoặc tên đầy đủ, ví dụ Đảng ủy xã …",
        "id or exact name, e.g. the commune's committee",
    ),
    _c("village", "Thôn, tổ dân phố", "Village", True, "tạo mới nếu chưa có", "created if new"),
    _c("full_name", "Họ và tên", "Full name", True),
    _c(
        "cell",
        "Chi bộ",
        "Cell",
        nvi="số hoặc tên; bắt buộc với đảng viên",
        nen="id or name; required for a party member",
    ),
    _c(
        "status",
        "Đảng viên",
        "Party member",
        nvi="trống: không phải đảng viên",
        nen="empty: not a party member",
    ),
    _c(
        "joined_on",
        "Ngày vào Đảng (quyết định kết nạp)",
        "Admitted on (decision)",
        nvi="bắt buộc với đảng viên dự bị",
        nen="required for a probationary member",
    ),
    _c(
        "official_since",
        "Ngày chính thức",
        "Official since",
        nvi="bắt buộc với đảng viên chính thức",
        nen="required for official members",
    ),
    _c("birth_date", "Ngày sinh", "Date of birth"),
    _c("gender", "Giới tính", "Gender"),
    _c("national_id", "Số CCCD", "National ID"),
    _c(
        "office", "Chức danh ở thôn", "Office in the village", nvi="trống: không", nen="empty: none"
    ),
    _c("office_starts_on", "Ngày bắt đầu nhiệm kỳ", "Term starts on", False, *DATE_NOTE),
    _c(
        "office_ends_on",
        "Ngày kết thúc nhiệm kỳ",
        "Term ends on",
        nvi="trống: đang giữ",
        nen="empty: in office",
    ),
)
LAYOUTS: dict[str, tuple[Column, ...]] = {
    "cases": CASE_COLUMNS,
    "members": MEMBER_COLUMNS,
    "classes": CLASS_COLUMNS,
    "villages": VILLAGE_COLUMNS,
}
# Columns the export adds for reading; an import of an exported file ignores them.
INFORMATIONAL: dict[str, tuple[str, ...]] = {
    "cases": ("case_id", "state", "cell_name", "imported", "next_due"),
    "members": ("member_id", "cell_name"),
    "classes": ("class_id", "organisation_name", "enrolled"),
    "villages": (),
}
# What the export's reading columns are called when it writes labels (export.py).
INFORMATIONAL_LABELS: dict[str, Text] = {
    "case_id": Text("Số hồ sơ", "Case id"),
    "state": Text("Trạng thái", "State"),
    "cell_name": Text("Tên chi bộ", "Cell name"),
    "imported": Text("Nhập từ dữ liệu cũ", "Imported"),
    "next_due": Text("Hạn tiếp theo", "Next deadline"),
    "member_id": Text("Số đảng viên", "Member id"),
    "class_id": Text("Số lớp", "Class id"),
    "organisation_name": Text("Tên tổ chức", "Organisation name"),
    "enrolled": Text("Số đã ghi danh", "Enrolled"),
}
DATE_COLUMNS = {
    c.name
    for c in CASE_COLUMNS + MEMBER_COLUMNS + CLASS_COLUMNS + VILLAGE_COLUMNS
    if c.name.endswith(("_on", "_date", "_since"))
}


# ── choice columns: the codes and the labels an import accepts ─────────────
def _labelled(codes: tuple[str, ...]) -> dict[str, Text]:
    return {code: process.CHOICE_LABELS[code] for code in codes}


def _states(names: tuple[str, ...]) -> dict[str, Text]:
    return {
        name: Text(process.state(name).label_vi, process.state(name).label_en) for name in names
    }


def _field_choices(event: str, *path: str) -> tuple[str, ...]:
    """The choices of an event's field in the process table (`path`: into its parts)."""
    spec = process.event(event)
    assert spec is not None
    specs = spec.fields
    for name in path:
        found = next(f for f in specs if f.name == name)
        specs = found.parts or (found,)
    return specs[0].choices


MEMBER_STATUSES = ("official", "probationary")  # a member arrives in one of these
CHOICE_VALUES: dict[str, dict[str, Text]] = {
    "gender": _labelled(process.GENDERS),
    "occupation": _labelled(process.OCCUPATIONS),
    "nominated_by": _labelled(process.NOMINATORS),
    "union_resolution_kind": _labelled(
        _field_choices("assign_sponsors", "union_resolution", "kind")
    ),
    "rejected_by": _labelled(_field_choices("reject", "by")),
    "target_state": _states(TARGET_STATES),
    "status": _states(MEMBER_STATUSES),
    # a village's head or deputy: the occupations the process table labels
    "office": {role: process.CHOICE_LABELS[f"village_{role}"] for role in villages.ROLES},
}


def _choices(kind: str) -> dict[str, Choices]:
    return {
        c.name: Choices(Text(c.label_vi, c.label_en), CHOICE_VALUES[c.name])
        for c in LAYOUTS[kind]
        if c.name in CHOICE_VALUES
    }


CHOICES: dict[str, dict[str, Choices]] = {kind: _choices(kind) for kind in LAYOUTS}


def header_names(kind: str) -> dict[str, str]:
    """What a header cell may say for each column (folded) → the column: its name, its
    Vietnamese or English label (an export with labels writes them)."""
    names: dict[str, str] = {}
    labelled = [(c.name, Text(c.label_vi, c.label_en)) for c in LAYOUTS[kind]]
    labelled += [(name, INFORMATIONAL_LABELS[name]) for name in INFORMATIONAL[kind]]
    for name, label in labelled:
        for key in (name, label.vi, label.en):
            names.setdefault(fold(key), name)
    return names


def column_label(kind: str, name: str, locale: str = "vi") -> str:
    """A column's header in an export with labels."""
    column = next((c for c in LAYOUTS[kind] if c.name == name), None)
    if column is not None:
        return column.label_en if locale == "en" else column.label_vi
    return INFORMATIONAL_LABELS[name].say(locale)


def columns(kind: str) -> list[str]:
    return [c.name for c in LAYOUTS[kind]]


def required_columns(kind: str) -> list[str]:
    return [c.name for c in LAYOUTS[kind] if c.required]


# ── a layout, printed ─────────────────────────────────────────────────────
def describe(kind: str, locale: str = "vi") -> list[tuple[str, str, str]]:
    """(column, label, note) of a layout, required ones marked with *."""
    rows = []
    for column in LAYOUTS[kind]:
        label = column.label_en if locale == "en" else column.label_vi
        note = column.note_en if locale == "en" else column.note_vi
        choices = CHOICES[kind].get(column.name)
        if choices is not None:  # the accepted labels, from the process table
            note = choices.accepted().say(locale)
        rows.append((column.name + ("*" if column.required else ""), label, note))
    return rows


def template_csv(kind: str, labels: str | None = None) -> str:
    """A CSV with the layout's header only: a starting point for a spreadsheet, headed
    by the columns' names or (`labels`: "vi", "en") their labels — the import reads both."""
    buffer = io.StringIO()
    names = columns(kind)
    csv.writer(buffer).writerow(
        names if labels is None else [column_label(kind, n, labels) for n in names]
    )
    return buffer.getvalue()
