"""The official forms a cell secretary prepares (Hướng dẫn 12-HD/BTCTW, forms 1-KNĐ …
20-KNĐ), pre-filled from a case as Word documents.

Each form is laid out the way party documents are (Hướng dẫn 36-HD/VPTW): the issuing
organisation at the top left, "ĐẢNG CỘNG SẢN VIỆT NAM" and the place and date at the top
right, the form number in the corner, the title, the body, the signature block. What
Ketnap knows is written in; what a person must write (the debate's conclusions, names of
the chair, signatures) is left as dotted blanks.

The documents are generated with python-docx (no template files to keep in step with
the code): `render(session, case, "6-knd", params)` returns the .docx bytes.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from sqlmodel import Session

from workflow import hygiene
from workflow.directory.organisations import party_organisation_name
from workflow.documents import case_facts
from workflow.documents.case_facts import CaseFacts, Sponsor
from workflow.models import Case, Member, Organisation, Person
from workflow.process import choice_label
from workflow.rules import RuleSource, in_force
from workflow.text import Explained, Text
from workflow.text import dmy as dmy_or

FONT = "Times New Roman"
DOTS = "." * 12
LINE = "." * 96  # one full dotted line at 14 pt on A4 with the standard margins


class FormNotApplicable(Explained):
    """The case has not reached the step this form belongs to (or no such form)."""

    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(Text(message_vi, message_en))


# ── small formatting helpers ─────────────────────────────────────────────
def blank(value: Any, width: int = 12) -> str:
    """The value as text, or a dotted blank for the person to fill in."""
    if value is None or value == "":
        return "." * width
    return str(value)


def dmy(day: date | None) -> str:
    return dmy_or(day, missing="......./......./..........")  # a blank to fill in by hand


def day_words(day: date | None) -> str:
    """ "ngày 05 tháng 3 năm 2024", the way party documents date themselves (days below
    10 and the months January and February take a leading zero)."""
    if day is None:
        return "ngày ...... tháng ...... năm .........."
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def percent(part: int | None, whole: int | None) -> str:
    """Share in percent with one decimal, rounded half up, Vietnamese decimal comma."""
    if part is None or not whole:
        return DOTS
    share = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    text = f"{share:f}".replace(".", ",")
    return text[:-2] if text.endswith(",0") else text


_LEVELS = r"(?:tỉnh|thành phố|huyện|quận|thị xã|xã|phường|thị trấn|đặc khu)"
_PLACE = re.compile(rf"^(?:Đảng ủy|Đảng bộ|Đảng uỷ)\s+{_LEVELS}\s+(.+)$", re.IGNORECASE)


def place_of(facts: CaseFacts) -> str:
    """The locality for the date line, from the grassroots committee's name
    ("Đảng ủy xã Đông Lỗ" → "Đông Lỗ"); dots when the name does not say it."""
    for org in (facts.committee, facts.authority):
        if org is not None:
            match = _PLACE.match(unicodedata.normalize("NFC", org.name.strip()))
            if match:
                return match.group(1)
    return "." * 16


def upper_level(org: Organisation | None) -> str | None:
    """The line above the issuer: the party organisation (đảng bộ) the cell belongs to."""
    if org is None:
        return None
    return party_organisation_name(org.name).upper()


def name_of(org: Organisation | None) -> str:
    return org.name if org is not None else "." * 30


# ── the document builder ─────────────────────────────────────────────────
@dataclass
class Run:
    text: str
    bold: bool = False
    italic: bool = False


Part = str | Run


class Sheet:
    """An A4 party document: Times New Roman 14, margins 20/20/30/15 mm."""

    def __init__(self) -> None:
        self.doc = Document()
        section = self.doc.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin = section.bottom_margin = Mm(20)
        section.left_margin, section.right_margin = Mm(30), Mm(15)
        normal = self.doc.styles["Normal"]
        normal.font.name = FONT
        normal.font.size = Pt(14)
        fonts = normal.element.rPr.rFonts
        for attribute in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
            fonts.set(qn(attribute), FONT)
        normal.paragraph_format.space_after = Pt(3)
        normal.paragraph_format.line_spacing = 1.15

    def form_code(self, code: str) -> None:
        paragraph = self.doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        run = paragraph.add_run(f"Mẫu {code}")
        run.bold, run.font.size = True, Pt(12)

    def heading(
        self, upper: str | None, issuer: str | None, ref: str | None, place: str, on: date | None
    ) -> None:
        """The two-column head: organisations and number left, the Party and date right."""
        table = self.doc.add_table(rows=1, cols=2)
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        left, right = table.rows[0].cells
        left.width, right.width = Mm(75), Mm(90)
        lines: list[Run] = []
        if upper:
            lines.append(Run(upper))
        if issuer:
            lines.append(Run(issuer.upper(), bold=True))
        lines.append(Run("*"))
        if ref is not None:
            lines.append(Run(f"Số {ref}" if ref else "Số ........-........"))
        _cell_lines(left, lines, size=13)
        _cell_lines(
            right,
            [
                Run("ĐẢNG CỘNG SẢN VIỆT NAM", bold=True),
                Run(""),
                Run(f"{place}, {day_words(on)}", italic=True),
            ],
            size=13,
            underline_first=True,
        )

    def party_banner(self) -> None:
        """Forms a person signs (3-KNĐ) carry only the Party's name, centred."""
        paragraph = self.doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = paragraph.add_run("ĐẢNG CỘNG SẢN VIỆT NAM")
        run.bold, run.underline = True, True

    def title(self, main: str, sub: str | None = None) -> None:
        paragraph = self.doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.space_before = Pt(12)
        run = paragraph.add_run(hygiene.xml_text(main))
        run.bold, run.font.size = True, Pt(15)
        if sub:
            paragraph.add_run("\n" + hygiene.xml_text(sub)).bold = True
        self.doc.add_paragraph()

    def line(self, *parts: Part, indent: bool = True, center: bool = False) -> Paragraph:
        paragraph = self.doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER if center else WD_ALIGN_PARAGRAPH.JUSTIFY
        if indent and not center:
            paragraph.paragraph_format.first_line_indent = Mm(10)
        for part in parts:
            piece = part if isinstance(part, Run) else Run(part)
            run = paragraph.add_run(hygiene.xml_text(piece.text))
            run.bold, run.italic = piece.bold, piece.italic
        return paragraph

    def dotted_lines(self, count: int) -> None:
        for _ in range(count):
            self.doc.add_paragraph(LINE)

    def signature(self, recipients: list[str], title_lines: list[str], name: str | None) -> None:
        """ "Nơi nhận" bottom left (when any), the signer's block bottom right."""
        table = self.doc.add_table(rows=1, cols=2)
        left, right = table.rows[0].cells
        left.width, right.width = Mm(75), Mm(90)
        if recipients:
            _cell_lines(
                left,
                [Run("Nơi nhận:", bold=True, italic=True)] + [Run(r) for r in recipients],
                size=12,
                center=False,
            )
        else:
            left.paragraphs[0].add_run("")
        runs = [Run(t, bold=True) for t in title_lines] + [Run("(Ký, ghi rõ họ tên)", italic=True)]
        runs += [Run(""), Run(""), Run(""), Run(name or "", bold=True)]
        _cell_lines(right, runs, size=14)

    def page_break(self) -> None:
        self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.doc.save(buffer)
        return buffer.getvalue()


def _cell_lines(
    cell: _Cell,
    runs: list[Run],
    size: int,
    center: bool = True,
    underline_first: bool = False,
) -> None:
    for n, piece in enumerate(runs):
        paragraph = cell.paragraphs[0] if n == 0 else cell.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER if center else WD_ALIGN_PARAGRAPH.LEFT
        paragraph.paragraph_format.space_after = Pt(0)
        run = paragraph.add_run(hygiene.xml_text(piece.text))
        run.bold, run.italic, run.font.size = piece.bold, piece.italic, Pt(size)
        if underline_first and n == 0:
            run.underline = True


# ── what every form says about the candidate ─────────────────────────────
def candidate_lines(sheet: Sheet, person: Person) -> None:
    sheet.line(
        "Họ và tên: ",
        Run(person.full_name.upper(), bold=True),
        f";  giới tính: {choice_label(person.gender) if person.gender else blank(None)}",
    )
    sheet.line(
        f"Sinh ngày: {dmy(person.birth_date)};  dân tộc: {blank(person.ethnicity)};"
        f"  tôn giáo: {person.religion or 'Không'}"
    )
    sheet.line(f"Nơi ở hiện nay: {blank(person.village, 40)}")
    sheet.line(
        f"Trình độ học vấn: {blank(person.education)};"
        f"  nghề nghiệp: {choice_label(person.occupation)}"
    )
    if person.national_id:
        sheet.line(f"Số căn cước công dân: {person.national_id}")


def attendance_lines(sheet: Sheet) -> None:
    """Who sat in the meeting: the minutes know, Ketnap does not."""
    sheet.line(
        "Tổng số đảng viên của chi bộ: ...... đồng chí, trong đó chính thức ...... đồng chí,"
        " dự bị ...... đồng chí."
    )
    sheet.line(
        "Có mặt: ...... đồng chí (chính thức ......, dự bị ......); vắng mặt: ...... đồng chí"
        " (có lý do ......)."
    )
    sheet.line("Chủ trì hội nghị: đồng chí ................................ chức vụ ..............")
    sheet.line("Thư ký hội nghị: đồng chí .................................................")


def vote_line(sheet: Sheet, subject: str, voters: int | None, votes_for: int | None) -> None:
    against = voters - votes_for if voters is not None and votes_for is not None else None
    sheet.line(
        f"Số đảng viên chính thức tán thành {subject}: {blank(votes_for, 6)}/{blank(voters, 6)}"
        f" đồng chí, đạt {percent(votes_for, voters)}% so với tổng số đảng viên chính thức;"
        f" số không tán thành: {blank(against, 6)} đồng chí"
        f" ({percent(against, voters)}%)."
    )
    sheet.line("Lý do không tán thành: " + "." * 60)


def member_name(member: Member | None) -> str:
    return member.full_name if member is not None else "." * 30


def cell_heading(sheet: Sheet, facts: CaseFacts, ref: str | None, on: date | None) -> None:
    sheet.heading(upper_level(facts.committee), facts.cell.name, ref, place_of(facts), on)


# ── 6-KNĐ: the cell's resolution proposing admission ─────────────────────
def build_6(sheet: Sheet, facts: CaseFacts, params: RuleSource, _: Sponsor | None) -> None:
    case, person = facts.case, facts.person
    vote = facts.acts.get("cell_vote", {})
    meeting = case.cell_resolution_on
    sheet.form_code("6-KNĐ")
    cell_heading(sheet, facts, vote.get("resolution_ref", ""), meeting)
    sheet.title("NGHỊ QUYẾT", "đề nghị kết nạp đảng viên")
    sheet.line(
        f"{day_words(meeting).capitalize()}, {facts.cell.name} đã họp để xét đề nghị kết nạp"
        f" quần chúng {person.full_name} vào Đảng Cộng sản Việt Nam."
    )
    attendance_lines(sheet)
    sheet.line(Run("Chi bộ đã xem xét hồ sơ của người vào Đảng:", bold=True))
    candidate_lines(sheet, person)
    sheet.line(
        f"Học lớp bồi dưỡng nhận thức về Đảng: giấy chứng nhận số {blank(case.certificate_no)}"
        f" cấp ngày {dmy(case.certificate_on)}."
    )
    sheet.line("Người giới thiệu: " + sponsors_text(facts) + ".")
    requested = facts.act("verify_background", "requests_sent_on")
    sheet.line(
        "Thẩm tra lý lịch: công văn đề nghị thẩm tra (mẫu 20-KNĐ) gửi ngày "
        f"{dmy(_iso(requested) or case.verification_requested_on)}; kết luận: "
        + (
            "đủ tiêu chuẩn."
            if facts.act("verify_background", "conclusion") == "meets_standards"
            else "." * 40
        )
    )
    sheet.line(Run("Chi bộ thống nhất kết luận:", bold=True))
    sheet.line("1. Về lý lịch của người vào Đảng: " + "." * 50)
    sheet.dotted_lines(1)
    sheet.line(
        "2. Những ưu điểm, khuyết điểm chính (về phẩm chất chính trị, đạo đức, lối sống,"
        " năng lực công tác, quan hệ quần chúng): "
    )
    sheet.dotted_lines(3)
    sheet.line("3. Kết quả biểu quyết:")
    vote_line(sheet, "việc đề nghị kết nạp", vote.get("voters"), vote.get("votes_for"))
    if vote.get("over_60_consent_ref"):
        sheet.line(f"Văn bản đồng ý kết nạp người trên 60 tuổi: {vote['over_60_consent_ref']}.")
    proposer = facts.committee or facts.authority
    sheet.line(
        f"Chi bộ đề nghị {name_of(proposer)} xem xét, kết nạp quần chúng"
        f" {person.full_name} vào Đảng Cộng sản Việt Nam."
    )
    sheet.signature([f"- {name_of(proposer)},", "- Lưu chi bộ."], ["T/M CHI BỘ", "BÍ THƯ"], None)


def sponsors_text(facts: CaseFacts) -> str:
    parts = [
        f"đồng chí {s.member.full_name} (công tác cùng từ {dmy(s.alongside_since)})"
        for s in facts.sponsors
    ]
    if facts.case.union_resolution_ref:
        kind, _, ref = facts.case.union_resolution_ref.partition(":")
        parts.append(f"Nghị quyết giới thiệu của {choice_label(kind)} số {ref}")
    return "; ".join(parts) if parts else "." * 60


# ── 3-KNĐ: a sponsor's introduction ──────────────────────────────────────
def build_3(sheet: Sheet, facts: CaseFacts, params: RuleSource, sponsor: Sponsor | None) -> None:
    sponsors = [sponsor] if sponsor is not None else facts.sponsors
    for n, one in enumerate(sponsors):
        if n:
            sheet.page_break()
        _introduction(sheet, facts, one)


def _introduction(sheet: Sheet, facts: CaseFacts, sponsor: Sponsor) -> None:
    member, person = sponsor.member, facts.person
    sheet.form_code("3-KNĐ")
    sheet.party_banner()
    sheet.title("GIẤY GIỚI THIỆU NGƯỜI VÀO ĐẢNG")
    sheet.line(f"Kính gửi: {facts.cell.name}", center=True)
    sheet.line("Tôi là: ", Run(member.full_name, bold=True))
    sheet.line(
        f"Vào Đảng ngày: {dmy(member.joined_on)};  chính thức ngày: {dmy(member.official_since)}"
    )
    sheet.line(f"Hiện sinh hoạt tại: {name_of_cell(facts, member)}")
    sheet.line(
        f"Được chi bộ phân công giúp đỡ người vào Đảng; tôi công tác cùng người vào Đảng"
        f" từ ngày {dmy(sponsor.alongside_since)}."
    )
    sheet.line("Tôi xin giới thiệu:")
    candidate_lines(sheet, person)
    sheet.line("vào Đảng Cộng sản Việt Nam.", indent=False)
    sheet.line(
        "Những ưu điểm, khuyết điểm chính của người vào Đảng (về phẩm chất chính trị, đạo"
        " đức, lối sống, năng lực công tác, quan hệ quần chúng):"
    )
    sheet.dotted_lines(4)
    sheet.line("Tôi xin chịu trách nhiệm trước Đảng về sự giới thiệu của mình.")
    written = _iso(facts.act("submit_dossier", "introductions_on"))
    sheet.line(Run(f"{place_of(facts)}, {day_words(written)}", italic=True), center=True)
    sheet.signature([], ["NGƯỜI GIỚI THIỆU"], member.full_name)


def name_of_cell(facts: CaseFacts, member: Member) -> str:
    if member.cell_id == facts.cell.id:
        return facts.cell.name + (f", {facts.committee.name}" if facts.committee else "")
    return "." * 40


# ── 20-KNĐ: the request to verify the candidate's background ─────────────
def build_20(sheet: Sheet, facts: CaseFacts, params: RuleSource, _: Sponsor | None) -> None:
    case, person = facts.case, facts.person
    sent = (
        _iso(facts.act("verify_background", "requests_sent_on"))
        or _iso(facts.act("submit_dossier", "requests_sent_on"))
        or case.verification_requested_on
    )
    sheet.form_code("20-KNĐ")
    cell_heading(sheet, facts, "", sent)
    sheet.line(Run("V/v thẩm tra lý lịch người vào Đảng", italic=True), indent=False)
    sheet.line("Kính gửi: " + "." * 60, center=True)
    sheet.line(
        f"{facts.cell.name} đang xem xét, đề nghị kết nạp vào Đảng Cộng sản Việt Nam"
        " đối với quần chúng:"
    )
    candidate_lines(sheet, person)
    sheet.line(
        "Để có cơ sở xem xét, chi bộ đề nghị quý cơ quan thẩm tra, xác minh và cho ý kiến về"
        " lý lịch của người vào Đảng và những người thân sau đây (lịch sử chính trị, chính"
        " trị hiện nay, việc chấp hành chủ trương, đường lối của Đảng, chính sách, pháp luật"
        " của Nhà nước):"
    )
    for _n in range(3):
        sheet.line(
            "- Họ và tên: ........................ quan hệ: ............ nơi ở: ..............."
        )
    # counted by the set in force on the day the requests went out
    reply_by = (
        sent + timedelta(days=in_force(params, sent).verification_reply_days) if sent else None
    )
    sheet.line(
        f"Kết quả thẩm tra xin gửi về {facts.cell.name}"
        + (f", {facts.committee.name}" if facts.committee else "")
        + f" trước ngày {dmy(reply_by)}."
    )
    sheet.line("Xin trân trọng cảm ơn.")
    sheet.signature(["- Như trên,", "- Lưu chi bộ."], ["T/M CHI BỘ", "BÍ THƯ"], None)


# ── 13-KNĐ: the cell's resolution proposing confirmation ─────────────────
def build_13(sheet: Sheet, facts: CaseFacts, params: RuleSource, _: Sponsor | None) -> None:
    case, person = facts.case, facts.person
    vote = facts.acts.get("cell_confirm_vote", {})
    meeting = case.confirmation_cell_resolution_on
    sheet.form_code("13-KNĐ")
    cell_heading(sheet, facts, vote.get("resolution_ref", ""), meeting)
    sheet.title("NGHỊ QUYẾT", "đề nghị công nhận đảng viên chính thức")
    sheet.line(
        f"{day_words(meeting).capitalize()}, {facts.cell.name} đã họp để xét đề nghị công nhận"
        f" đảng viên chính thức cho đảng viên dự bị {person.full_name}."
    )
    attendance_lines(sheet)
    sheet.line(
        "Đồng chí ",
        Run(person.full_name, bold=True),
        f", sinh ngày {dmy(person.birth_date)}, được kết nạp vào Đảng ngày"
        f" {dmy(case.decision_on)} theo Quyết định số {blank(case.decision_no)} của"
        f" {name_of(facts.authority)}; lễ kết nạp ngày {dmy(case.ceremony_on)}; thời gian dự"
        f" bị từ ngày {dmy(case.ceremony_on)} đến ngày {dmy(case.probation_end)}.",
    )
    helpers = ", ".join(m.full_name for m in facts.helpers) or "." * 40
    sheet.line(f"Đảng viên được phân công giúp đỡ: {helpers}.")
    sheet.line(
        "Đã học lớp bồi dưỡng lý luận chính trị cho đảng viên mới (giấy chứng nhận số"
        f" {blank(facts.act('complete_theory_class', 'certificate_no'))}, ngày"
        f" {dmy(case.theory_class_on)}); bản tự kiểm điểm (mẫu 10-KNĐ) ngày"
        f" {dmy(case.self_review_on)}; bản nhận xét của đảng viên giúp đỡ (mẫu 11-KNĐ) ngày"
        f" {dmy(case.helper_comment_on)}."
    )
    sheet.line(Run("Chi bộ thống nhất kết luận:", bold=True))
    sheet.line(
        "1. Ưu điểm (về phẩm chất chính trị, đạo đức, lối sống, ý thức tổ chức kỷ luật,"
        " năng lực công tác, quan hệ quần chúng):"
    )
    sheet.dotted_lines(2)
    sheet.line("2. Khuyết điểm:")
    sheet.dotted_lines(2)
    sheet.line("3. Kết quả biểu quyết:")
    vote_line(sheet, "đề nghị công nhận", vote.get("voters"), vote.get("votes_for"))
    proposer = facts.committee or facts.authority
    sheet.line(
        f"Chi bộ đề nghị {name_of(proposer)} xem xét, công nhận đồng chí {person.full_name}"
        " là đảng viên chính thức."
    )
    sheet.signature([f"- {name_of(proposer)},", "- Lưu chi bộ."], ["T/M CHI BỘ", "BÍ THƯ"], None)


def _iso(value: Any) -> date | None:
    """History stores dates as ISO text."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


# ── the catalogue ─────────────────────────────────────────────────────────
Builder = Callable[[Sheet, CaseFacts, RuleSource, Sponsor | None], None]


@dataclass(frozen=True)
class FormSpec:
    slug: str  # as in URLs and the CLI: "6-knd"
    code: str  # as printed: "6-KNĐ"
    title_vi: str
    title_en: str
    applies: Callable[[CaseFacts], bool]
    build: Builder
    per_sponsor: bool = False


FORMS: tuple[FormSpec, ...] = (
    FormSpec(
        "3-knd",
        "3-KNĐ",
        "Giấy giới thiệu người vào Đảng",
        "Sponsor's introduction",
        lambda f: bool(f.sponsors),
        build_3,
        per_sponsor=True,
    ),
    FormSpec(
        "20-knd",
        "20-KNĐ",
        "Công văn đề nghị thẩm tra lý lịch",
        "Background verification request",
        lambda f: bool(f.sponsors) or f.case.verification_requested_on is not None,
        build_20,
    ),
    FormSpec(
        "6-knd",
        "6-KNĐ",
        "Nghị quyết chi bộ đề nghị kết nạp đảng viên",
        "Cell resolution proposing admission",
        lambda f: (
            f.case.state in ("dossier_complete", "verified")
            or f.case.cell_resolution_on is not None
        ),
        build_6,
    ),
    FormSpec(
        "13-knd",
        "13-KNĐ",
        "Nghị quyết chi bộ đề nghị công nhận đảng viên chính thức",
        "Cell resolution proposing confirmation",
        lambda f: f.case.ceremony_on is not None,
        build_13,
    ),
)
_BY_SLUG = {f.slug: f for f in FORMS}


def slug_of(name: str) -> str:
    """ "6-KNĐ", "6-knd", "6-KND", "6KND" → "6-knd"."""
    text = name.strip().lower().replace("đ", "d").removesuffix(".docx")
    text = re.sub(r"^(\d+)-?knd$", r"\1-knd", text)
    return text


def form(name: str) -> FormSpec | None:
    return _BY_SLUG.get(slug_of(name))


@dataclass(frozen=True)
class FormLink:
    """One document to offer on the case page."""

    slug: str
    code: str
    title_vi: str
    title_en: str
    sponsor_id: int | None = None
    sponsor_name: str | None = None


def relevant(facts: CaseFacts) -> list[FormLink]:
    """The forms that belong to the steps this case has reached (3-KNĐ once per sponsor)."""
    links: list[FormLink] = []
    for spec in FORMS:
        if not spec.applies(facts):
            continue
        if spec.per_sponsor:
            links += [
                FormLink(
                    spec.slug,
                    spec.code,
                    spec.title_vi,
                    spec.title_en,
                    s.member.id,
                    s.member.full_name,
                )
                for s in facts.sponsors
            ]
        else:
            links.append(FormLink(spec.slug, spec.code, spec.title_vi, spec.title_en))
    return links


def relevant_for(session: Session, case: Case) -> list[FormLink]:
    return relevant(case_facts.load(session, case))


def render(
    session: Session,
    case: Case,
    name: str,
    params: RuleSource,
    sponsor_id: int | None = None,
) -> bytes:
    """The filled form as .docx bytes; FormNotApplicable when it does not apply (yet)."""
    spec = form(name)
    if spec is None:
        known = ", ".join(f.code for f in FORMS)
        raise FormNotApplicable(
            f"Không có mẫu '{name}' (có: {known})", f"There is no form '{name}' (known: {known})"
        )
    facts = case_facts.load(session, case)
    if not spec.applies(facts):
        raise FormNotApplicable(
            f"Mẫu {spec.code} chưa áp dụng cho hồ sơ ở bước hiện tại",
            f"Form {spec.code} does not apply to the case at its current step",
        )
    sponsor = None
    if sponsor_id is not None:
        sponsor = next((s for s in facts.sponsors if s.member.id == sponsor_id), None)
        if sponsor is None or not spec.per_sponsor:
            raise FormNotApplicable(
                f"Đảng viên số {sponsor_id} không phải người giới thiệu của hồ sơ này",
                f"Member {sponsor_id} is not a sponsor of this case",
            )
    sheet = Sheet()
    spec.build(sheet, facts, params, sponsor)
    title = f"Mẫu {spec.code} — {facts.person.full_name}"
    sheet.doc.core_properties.title = hygiene.one_line(title)
    sheet.doc.core_properties.author = "Ketnap"
    return sheet.to_bytes()


def filename(case: Case, person: Person, name: str, sponsor_id: int | None = None) -> str:
    """An ASCII file name: "6-KND_ho-so-12_nguyen-thi-hoa.docx"."""
    spec = form(name)
    code = (spec.code if spec else name).replace("Đ", "D")
    ascii_name = unicodedata.normalize("NFKD", person.full_name.replace("Đ", "D").replace("đ", "d"))
    words = re.sub(r"[^a-z0-9]+", "-", ascii_name.encode("ascii", "ignore").decode().lower())
    extra = f"_nguoi-gioi-thieu-{sponsor_id}" if sponsor_id is not None else ""
    return f"{code}_ho-so-{case.id}_{words.strip('-')}{extra}.docx"
