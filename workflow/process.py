"""The admission process as data — the one place states, events, fields, guards and
deadlines are declared (PROCESS.md). The transitions Machine, the engine's data
parsing, the web forms, the API schema, the diagram and the reminders all read
this table; nothing else lists states or events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from transitions import Machine

from workflow import effects, guards
from workflow.config import RuleParameters
from workflow.guards import Guard
from workflow.text import Text


@dataclass(frozen=True)
class State:
    name: str
    label_vi: str
    label_en: str
    terminal: bool = False


@dataclass(frozen=True)
class FieldSpec:
    """One datum an event carries. `type` is one of FIELD_TYPES."""

    name: str
    type: str
    label_vi: str
    label_en: str
    required: bool = True
    choices: tuple[str, ...] = ()
    default: Any = None
    parts: tuple[FieldSpec, ...] = ()  # for `object` and `list` fields


FIELD_TYPES = (
    "text",
    "date",
    "int",
    "bool",
    "choice",
    "member",
    "members",
    "organisation",
    "class",  # a class record (its `choices` name the kind: awareness | theory)
    "object",
    "list",
)


@dataclass(frozen=True, kw_only=True)
class Event:
    name: str
    sources: tuple[str, ...]
    target: str | None  # None: the case stays in its state
    label_vi: str
    label_en: str
    acted_by: str  # cell | committee | authority | helper
    fields: tuple[FieldSpec, ...] = ()
    guards: tuple[Guard, ...] = ()
    effect: Callable[..., None] = effects.nothing
    vote_guard: str | None = None  # failing only this guard records a failed vote
    on_label_vi: str = "Ngày"
    on_label_en: str = "Date"
    # ── what a case waits for (workflow/queries/tasks.py derives the tasks) ──
    # An "other action": allowed, but never the step a case waits for (closing a case,
    # sending it back, moving it, an extension). The case page keeps these behind one
    # toggle and asks before each; the task list never shows them.
    alternative: bool = False
    # A step that keeps the state is done once this case date is set (the papers of
    # probation); a case waits for each such step of its state until then.
    done_when: str | None = None
    # Case dates that must all be set before the case waits for this step (the cell's
    # confirmation vote waits for the three papers: guard confirmation_papers).
    waits_for: tuple[str, ...] = ()
    # The deadline that recording this step meets: its live due date is the task's.
    discharges: str | None = None


@dataclass(frozen=True, kw_only=True)
class Deadline:
    id: str
    label_vi: str
    label_en: str
    anchor: str  # the case date it is counted from
    unit: str  # months | days | working_days
    length: Callable[[RuleParameters], int]
    states: tuple[str, ...]  # the deadline is live while the case is in one of these
    owners: tuple[str, ...]  # secretary | helper | sponsor | authority
    source: str
    met_by: tuple[str, ...] = ()  # case dates that, once all set, meet it
    warn_days: Callable[[RuleParameters], tuple[int, ...]] = lambda p: p.upcoming_warn_days
    max_extension: Callable[[RuleParameters], int | None] | None = None  # None: no extension
    blocks: str = ""  # what it blocks when missed, for the message


# ── states ────────────────────────────────────────────────────────────────
STATES: tuple[State, ...] = (
    State("nominated", "Được giới thiệu", "Nominated"),
    State("in_class", "Đang học lớp nhận thức", "In awareness class"),
    State("class_passed", "Đã có giấy chứng nhận", "Class passed"),
    State("sponsored", "Đã có người giới thiệu", "Sponsored"),
    State("dossier_complete", "Hồ sơ đầy đủ", "Dossier complete"),
    State("verified", "Đã thẩm tra lý lịch", "Background verified"),
    State("cell_resolved", "Chi bộ đã nghị quyết", "Cell resolved"),
    State("committee_resolved", "Đảng ủy cơ sở đã nghị quyết", "Committee resolved"),
    State("admission_decided", "Đã có quyết định kết nạp", "Admission decided"),
    State("probationary", "Đảng viên dự bị", "Probationary member"),
    State("confirmation_cell_resolved", "Chi bộ đã xét chính thức", "Cell confirmed"),
    State("confirmation_committee_resolved", "Đảng ủy đã xét chính thức", "Committee confirmed"),
    State("official", "Đảng viên chính thức", "Official member", terminal=True),
    State("rejected", "Không kết nạp", "Rejected", terminal=True),
    State("withdrawn", "Rút hồ sơ", "Withdrawn", terminal=True),
    State("removed", "Xóa tên", "Removed", terminal=True),
)
STATE_NAMES = tuple(s.name for s in STATES)
OPEN_STATES = tuple(s.name for s in STATES if not s.terminal)
BEFORE_PROBATION = STATE_NAMES[: STATE_NAMES.index("probationary")]
CONFIRMATION = ("probationary", "confirmation_cell_resolved", "confirmation_committee_resolved")


# ── fields shared by several events ───────────────────────────────────────
def _text(name: str, vi: str, en: str, required: bool = True) -> FieldSpec:
    return FieldSpec(name, "text", vi, en, required)


def _date(name: str, vi: str, en: str, required: bool = True) -> FieldSpec:
    return FieldSpec(name, "date", vi, en, required)


def _int(name: str, vi: str, en: str) -> FieldSpec:
    return FieldSpec(name, "int", vi, en)


def _class_fields(kind: str) -> tuple[FieldSpec, ...]:
    """The class a candidate attends: a recorded class picked by id, or its name (matched
    to a class of the district and period, else created where `class_organisation_id`
    says) — workflow.enrolment.class_for_enrolment."""
    return (
        FieldSpec("class_id", "class", "Lớp đã mở", "Recorded class", False, (kind,)),
        _text("class_name", "Tên lớp (nếu chưa có trong danh sách)", "Class name", False),
        FieldSpec(
            "class_organisation_id",
            "organisation",
            "Tổ chức mở lớp (lớp mới)",
            "Held by (a new class)",
            False,
        ),
    )


# ── choices: every code a choice field accepts, with its label ────────────
# Codes are the public contract (API, import); the labels are what forms, papers and
# reports print — declared here once, in the districts' words (../shared/seeds). The
# breakdown groups some occupations as the articles do (workflow/reports/categories.py).
CHOICE_LABELS: dict[str, Text] = {
    # gender
    "female": Text("Nữ", "Female"),
    "male": Text("Nam", "Male"),
    # occupation
    "civil_servant": Text("Cán bộ, công chức", "Civil servant"),
    "public_employee": Text("Viên chức", "Public employee"),
    "farmer": Text("Nông dân", "Farmer"),
    "worker": Text("Công nhân", "Worker"),
    "armed_forces": Text("Công an, quân đội", "Armed forces"),
    "business_owner": Text("Kinh doanh", "Business owner"),
    "enterprise_owner": Text("Chủ doanh nghiệp", "Enterprise owner"),
    "village_head": Text("Trưởng thôn, khu phố", "Village head"),
    "village_deputy": Text("Phó thôn, khu phố", "Village deputy head"),
    "hamlet_leader": Text("Trưởng, phó xóm, tổ dân phố", "Hamlet or residential group leader"),
    "student": Text("Học sinh, sinh viên", "Student"),
    "other": Text("Khác", "Other"),
    # nominating organisation (and the unions that may stand in for a sponsor)
    "youth_union": Text("Đoàn Thanh niên Cộng sản Hồ Chí Minh", "Youth Union"),
    "womens_union": Text("Hội Liên hiệp Phụ nữ", "Women's Union"),
    "farmers_union": Text("Hội Nông dân", "Farmers' Union"),
    "trade_union": Text("Công đoàn", "Trade union"),
    "veterans_association": Text("Hội Cựu chiến binh", "Veterans' Association"),
    "fatherland_front": Text("Mặt trận Tổ quốc", "Fatherland Front"),
    "cell": Text("Chi bộ", "Party cell"),
    # who rejected
    "committee": Text("Đảng ủy cơ sở", "Grassroots committee"),
    "authority": Text("Cấp có thẩm quyền", "Competent authority"),
    # background verification
    "meets_standards": Text("Đủ tiêu chuẩn", "Meets the standards"),
    # the ground of a rejection
    "background_does_not_meet": Text(
        "Kết luận thẩm tra lý lịch: không đủ tiêu chuẩn",
        "Background verification: does not meet the standards",
    ),
    # deadlines an extension lengthens
    "decision": Text("Quyết định kết nạp", "Admission decision"),
    "ceremony": Text("Lễ kết nạp", "Admission ceremony"),
    "confirmation_decision": Text("Quyết định công nhận chính thức", "Confirmation decision"),
    # kinds of class (a `class` field's choice names the kind it picks)
    "awareness": Text("Lớp bồi dưỡng nhận thức về Đảng", "Party awareness class"),
    "theory": Text(
        "Lớp bồi dưỡng lý luận chính trị cho đảng viên mới", "New members' theory class"
    ),
}
GENDERS = ("female", "male")
OCCUPATIONS = (
    "civil_servant",
    "public_employee",
    "farmer",
    "worker",
    "armed_forces",
    "business_owner",
    "enterprise_owner",
    "village_head",
    "village_deputy",
    "hamlet_leader",
    "student",
    "other",
)
NOMINATORS = (
    "youth_union",
    "womens_union",
    "farmers_union",
    "trade_union",
    "veterans_association",
    "fatherland_front",
    "cell",
)


def choice_label(code: str | None, locale: str = "vi") -> str:
    """The label of a choice code; an unknown code (old data) is shown as stored."""
    if code is None:
        return "—"
    label = CHOICE_LABELS.get(code)
    return label.say(locale) if label else code


PERSON = FieldSpec(
    "person",
    "object",
    "Người vào Đảng",
    "Candidate",
    parts=(
        _text("full_name", "Họ và tên", "Full name"),
        _date("birth_date", "Ngày sinh", "Date of birth"),
        FieldSpec("gender", "choice", "Giới tính", "Gender", choices=GENDERS),
        FieldSpec("ethnicity", "text", "Dân tộc", "Ethnicity", required=False, default="Kinh"),
        _text("religion", "Tôn giáo", "Religion", required=False),
        _text("education", "Trình độ học vấn", "Education", required=False),
        FieldSpec("occupation", "choice", "Nghề nghiệp", "Occupation", choices=OCCUPATIONS),
        _text("village", "Thôn, tổ dân phố", "Village", required=False),
        FieldSpec(
            "youth_union_member",
            "bool",
            "Đoàn viên",
            "Youth Union member",
            required=False,
            default=False,
        ),
        FieldSpec(
            "trade_union_member",
            "bool",
            "Đoàn viên công đoàn",
            "Trade-union member",
            required=False,
            default=False,
        ),
        _text("national_id", "Số CCCD", "National ID", required=False),
    ),
)
SPONSORS = FieldSpec(
    "sponsors",
    "list",
    "Người giới thiệu",
    "Sponsors",
    parts=(
        FieldSpec("member_id", "member", "Đảng viên", "Member"),
        _date("alongside_since", "Công tác cùng từ", "Alongside since"),
    ),
)
UNION_RESOLUTION = FieldSpec(
    "union_resolution",
    "object",
    "Nghị quyết giới thiệu của đoàn thể",
    "Union resolution",
    required=False,
    parts=(
        FieldSpec(
            "kind", "choice", "Tổ chức", "Organisation", choices=("youth_union", "trade_union")
        ),
        _text("ref", "Số nghị quyết", "Reference"),
        _date("dated", "Ngày nghị quyết", "Dated"),
    ),
)
# What a correction may change: the candidate's particulars, each optional (only those
# given are corrected; a required object whose parts are all optional records only the
# parts given: workflow/schema.py). The Youth Union and trade-union ticks are no
# particulars: they are facts of the nomination.
CORRECTED = FieldSpec(
    "person",
    "object",
    "Thông tin cần sửa (chỉ điền mục cần sửa)",
    "Particulars to correct (fill in only what changes)",
    parts=tuple(
        FieldSpec(p.name, p.type, p.label_vi, p.label_en, required=False, choices=p.choices)
        for p in PERSON.parts
        if p.type != "bool"
    ),
)
VOTERS = _int("voters", "Số đảng viên chính thức biểu quyết", "Official members voting")
COMMITTEE_MEMBERS = _int("members", "Số cấp ủy viên", "Committee members")
VOTES_FOR = _int("votes_for", "Số tán thành", "Votes for")
REASON = _text("reason", "Lý do", "Reason")
# A rejection's recorded ground, when it is one the procedure names (the reason says more).
REJECT_GROUNDS = ("background_does_not_meet",)
DECISION_NO = _text("decision_no", "Số quyết định", "Decision number")


# ── events ────────────────────────────────────────────────────────────────
NOMINATE = Event(
    name="nominate",
    sources=(),
    target="nominated",
    label_vi="Giới thiệu quần chúng ưu tú",
    label_en="Nominate",
    acted_by="cell",
    fields=(
        PERSON,
        FieldSpec("cell_id", "organisation", "Chi bộ", "Cell"),
        FieldSpec(
            "nominated_by", "choice", "Tổ chức giới thiệu", "Nominated by", choices=NOMINATORS
        ),
        _text("nomination_ref", "Số văn bản giới thiệu", "Nomination reference"),
    ),
    guards=(guards.cell_in_scope, guards.one_open_case),
    on_label_vi="Ngày giới thiệu",
    on_label_en="Nomination date",
)

EVENTS: tuple[Event, ...] = (
    NOMINATE,
    Event(
        name="enrol_in_class",
        sources=("nominated",),
        target="in_class",
        label_vi="Cử đi học lớp nhận thức về Đảng",
        label_en="Enrol in awareness class",
        acted_by="cell",
        fields=(
            *_class_fields("awareness"),
            _text("issuer", "Đơn vị mở lớp", "Held by", required=False),
        ),
        effect=effects.enrol_in_class,
        on_label_vi="Ngày khai giảng",
        on_label_en="First day of class",
    ),
    Event(
        name="fail_class",
        sources=("in_class",),
        target="nominated",
        label_vi="Không đạt lớp nhận thức",
        label_en="Failed the class",
        acted_by="cell",
        fields=(REASON,),
        alternative=True,
    ),
    Event(
        name="pass_class",
        sources=("in_class",),
        target="class_passed",
        label_vi="Hoàn thành lớp, cấp giấy chứng nhận",
        label_en="Passed the class",
        acted_by="cell",
        fields=(_text("certificate_no", "Số giấy chứng nhận", "Certificate number"),),
        guards=(guards.certificate_after_class,),
        effect=effects.pass_class,
        on_label_vi="Ngày cấp giấy chứng nhận",
        on_label_en="Certificate issued on",
    ),
    Event(
        name="assign_sponsors",
        sources=("class_passed",),
        target="sponsored",
        label_vi="Phân công người giới thiệu",
        label_en="Assign sponsors",
        acted_by="cell",
        fields=(SPONSORS, UNION_RESOLUTION),
        guards=(
            guards.sponsor_is_official,
            guards.sponsor_not_candidate,
            guards.sponsor_shared_time,
            guards.sponsor_count,
            guards.youth_union_introduces,
        ),
        effect=effects.assign_sponsors,
    ),
    Event(
        name="submit_dossier",
        sources=("sponsored",),
        target="dossier_complete",
        label_vi="Hoàn thiện hồ sơ",
        label_en="Submit the dossier",
        acted_by="cell",
        fields=(
            _date("application_on", "Đơn xin vào Đảng (1-KNĐ)", "Application (1-KNĐ)"),
            _date("declaration_on", "Lý lịch (2-KNĐ)", "Declaration (2-KNĐ)"),
            _date("introductions_on", "Giấy giới thiệu (3-KNĐ)", "Introductions (3-KNĐ)"),
            _date(
                "union_resolution_on",
                "Nghị quyết đoàn thể (4-KNĐ)",
                "Union resolution (4-KNĐ)",
                required=False,
            ),
            _date("comments_on", "Tổng hợp nhận xét (5-KNĐ)", "Comments (5-KNĐ)"),
            _date(
                "requests_sent_on",
                "Ngày gửi công văn thẩm tra (20-KNĐ)",
                "Verification requests sent (20-KNĐ)",
                required=False,
            ),
        ),
        guards=(guards.dossier_dates,),
        effect=effects.submit_dossier,
    ),
    Event(
        name="verify_background",
        sources=("dossier_complete",),
        target="verified",
        label_vi="Kết luận thẩm tra lý lịch",
        label_en="Background verified",
        acted_by="cell",
        fields=(
            _date(
                "requests_sent_on",
                "Ngày gửi công văn thẩm tra (20-KNĐ)",
                "Verification requests sent (20-KNĐ)",
            ),
            FieldSpec(
                "conclusion",
                "choice",
                "Kết luận",
                "Conclusion",
                # The one conclusion this step records; "does not meet the standards" is
                # recorded by `reject` with its ground (background_does_not_meet).
                choices=("meets_standards",),
                required=False,
                default="meets_standards",
            ),
        ),
        guards=(guards.requests_before_conclusion,),
        discharges="verification",
    ),
    Event(
        name="cell_vote",
        sources=("verified",),
        target="cell_resolved",
        label_vi="Chi bộ biểu quyết đề nghị kết nạp",
        label_en="Cell vote on admission",
        acted_by="cell",
        fields=(
            VOTERS,
            VOTES_FOR,
            _text("resolution_ref", "Số nghị quyết (6-KNĐ)", "Resolution (6-KNĐ)"),
            _text(
                "over_60_consent_ref",
                "Văn bản đồng ý kết nạp trên 60 tuổi",
                "Consent to admit over 60",
                required=False,
            ),
        ),
        guards=(
            guards.quorum_base,
            guards.votes_valid,
            guards.age_range,
            guards.certificate_valid,
            guards.sponsors_still_official,
            guards.two_thirds,
        ),
        vote_guard="two_thirds",
        effect=effects.cell_vote,
        on_label_vi="Ngày họp chi bộ",
        on_label_en="Meeting date",
        discharges="certificate",
    ),
    Event(
        name="committee_vote",
        sources=("cell_resolved",),
        target="committee_resolved",
        label_vi="Đảng ủy cơ sở biểu quyết",
        label_en="Committee vote on admission",
        acted_by="committee",
        fields=(
            COMMITTEE_MEMBERS,
            VOTES_FOR,
            _text("resolution_ref", "Số nghị quyết (8-KNĐ)", "Resolution (8-KNĐ)"),
        ),
        guards=(guards.committee_votes_valid, guards.committee_two_thirds),
        effect=effects.committee_vote,
        on_label_vi="Ngày họp đảng ủy",
        on_label_en="Meeting date",
        discharges="decision",
    ),
    Event(
        name="decide_admission",
        sources=("committee_resolved", "cell_resolved"),
        target="admission_decided",
        label_vi="Quyết định kết nạp",
        label_en="Admission decision",
        acted_by="authority",
        fields=(
            _text("decision_no", "Số quyết định (9-KNĐ)", "Decision number (9-KNĐ)"),
            _date(
                "received_on", "Ngày chi bộ nhận quyết định", "Received by the cell", required=False
            ),
        ),
        guards=(
            guards.competent_authority,
            guards.committee_step_needed,
            guards.decision_after_resolution,
        ),
        effect=effects.decide_admission,
        on_label_vi="Ngày quyết định",
        on_label_en="Decision date",
        discharges="decision",
    ),
    Event(
        name="hold_ceremony",
        sources=("admission_decided",),
        target="probationary",
        label_vi="Tổ chức lễ kết nạp",
        label_en="Admission ceremony",
        acted_by="cell",
        fields=(FieldSpec("helpers", "members", "Đảng viên giúp đỡ", "Helpers"),),
        guards=(guards.helper_is_official, guards.ceremony_after_decision),
        effect=effects.hold_ceremony,
        on_label_vi="Ngày lễ kết nạp",
        on_label_en="Ceremony date",
        discharges="ceremony",
    ),
    Event(
        name="complete_theory_class",
        sources=("probationary",),
        target=None,
        label_vi="Hoàn thành lớp đảng viên mới",
        label_en="New-member theory class",
        acted_by="cell",
        fields=(
            *_class_fields("theory"),
            _text("certificate_no", "Số giấy chứng nhận", "Certificate number"),
        ),
        effect=effects.complete_theory_class,
        on_label_vi="Ngày cấp giấy chứng nhận",
        on_label_en="Certificate issued on",
        done_when="theory_class_on",
        discharges="theory_class",
    ),
    Event(
        name="record_self_review",
        sources=("probationary",),
        target=None,
        label_vi="Bản tự kiểm điểm (10-KNĐ)",
        label_en="Self-review (10-KNĐ)",
        acted_by="cell",
        effect=effects.record_self_review,
        done_when="self_review_on",
        discharges="probation_papers",
    ),
    Event(
        name="record_helper_comment",
        sources=("probationary",),
        target=None,
        label_vi="Nhận xét của đảng viên giúp đỡ (11-KNĐ)",
        label_en="Helper's comment (11-KNĐ)",
        acted_by="helper",
        fields=(
            FieldSpec("helper_id", "member", "Đảng viên giúp đỡ", "Helper"),
            _text("comment", "Nhận xét", "Comment"),
        ),
        guards=(guards.is_helper,),
        effect=effects.record_helper_comment,
        done_when="helper_comment_on",
        discharges="probation_papers",
    ),
    Event(
        name="cell_confirm_vote",
        sources=("probationary",),
        target="confirmation_cell_resolved",
        label_vi="Chi bộ xét công nhận chính thức",
        label_en="Cell vote on confirmation",
        acted_by="cell",
        fields=(
            VOTERS,
            VOTES_FOR,
            _text("resolution_ref", "Số nghị quyết (13-KNĐ)", "Resolution (13-KNĐ)"),
        ),
        guards=(
            guards.probation_over,
            guards.quorum_base,
            guards.votes_valid,
            guards.confirmation_papers,
            guards.two_thirds,
        ),
        vote_guard="two_thirds",
        effect=effects.cell_confirm_vote,
        on_label_vi="Ngày họp chi bộ",
        on_label_en="Meeting date",
        waits_for=("theory_class_on", "self_review_on", "helper_comment_on"),
        discharges="confirmation_vote",
    ),
    Event(
        name="committee_confirm_vote",
        sources=("confirmation_cell_resolved",),
        target="confirmation_committee_resolved",
        label_vi="Đảng ủy cơ sở xét công nhận chính thức",
        label_en="Committee vote on confirmation",
        acted_by="committee",
        fields=(
            COMMITTEE_MEMBERS,
            VOTES_FOR,
            _text("resolution_ref", "Số nghị quyết (15-KNĐ)", "Resolution (15-KNĐ)"),
        ),
        guards=(guards.committee_votes_valid, guards.committee_two_thirds),
        on_label_vi="Ngày họp đảng ủy",
        on_label_en="Meeting date",
        discharges="confirmation_decision",
    ),
    Event(
        name="confirm",
        sources=("confirmation_committee_resolved", "confirmation_cell_resolved"),
        target="official",
        label_vi="Quyết định công nhận đảng viên chính thức",
        label_en="Confirm as official",
        acted_by="authority",
        fields=(DECISION_NO,),
        guards=(guards.competent_authority, guards.committee_step_needed),
        effect=effects.confirm,
        on_label_vi="Ngày quyết định",
        on_label_en="Decision date",
        discharges="confirmation_decision",
    ),
    Event(
        name="remove",
        sources=CONFIRMATION,
        target="removed",
        label_vi="Xóa tên đảng viên dự bị",
        label_en="Remove (xóa tên)",
        acted_by="authority",
        fields=(DECISION_NO, REASON),
        guards=(guards.competent_authority,),
        effect=effects.remove,
        on_label_vi="Ngày quyết định",
        on_label_en="Decision date",
        alternative=True,
    ),
    Event(
        name="reject",
        sources=BEFORE_PROBATION,
        target="rejected",
        label_vi="Không kết nạp",
        label_en="Reject",
        acted_by="cell",
        fields=(
            FieldSpec(
                "by",
                "choice",
                "Cấp quyết định",
                "Decided by",
                choices=("cell", "committee", "authority"),
            ),
            FieldSpec(
                "ground",
                "choice",
                "Căn cứ",
                "Ground",
                required=False,
                choices=REJECT_GROUNDS,
            ),
            REASON,
        ),
        effect=effects.close,
        alternative=True,
    ),
    Event(
        name="withdraw",
        sources=BEFORE_PROBATION,
        target="withdrawn",
        label_vi="Rút hồ sơ",
        label_en="Withdraw",
        acted_by="cell",
        fields=(REASON,),
        effect=effects.close,
        alternative=True,
    ),
    Event(
        name="transfer",
        sources=OPEN_STATES,
        target=None,
        label_vi="Chuyển sinh hoạt sang chi bộ khác",
        label_en="Transfer to another cell",
        acted_by="cell",
        fields=(FieldSpec("to_cell_id", "organisation", "Chi bộ nhận", "Receiving cell"),),
        guards=(guards.receiving_cell,),
        effect=effects.transfer,
        alternative=True,
    ),
    Event(
        name="correct_particulars",
        sources=OPEN_STATES,
        target=None,
        label_vi="Sửa thông tin người vào Đảng",
        label_en="Correct the candidate's particulars",
        acted_by="cell",
        alternative=True,  # a correction, never a step the case waits for
        fields=(CORRECTED, REASON),
        guards=(guards.particulars_changed,),
        effect=effects.correct_particulars,
        on_label_vi="Ngày sửa",
        on_label_en="Corrected on",
    ),
    Event(
        name="grant_extension",
        sources=(
            "admission_decided",
            "cell_resolved",
            "committee_resolved",
            "confirmation_cell_resolved",
            "confirmation_committee_resolved",
        ),
        target=None,
        label_vi="Gia hạn thời hạn (cấp trên đồng ý)",
        label_en="Grant an extension",
        acted_by="authority",
        fields=(
            FieldSpec(
                "deadline",
                "choice",
                "Thời hạn",
                "Deadline",
                choices=("decision", "ceremony", "confirmation_decision"),
            ),
            _int("working_days", "Số ngày làm việc gia hạn", "Working days added"),
            _text("consent_ref", "Văn bản đồng ý của cấp trên", "Consent reference"),
        ),
        guards=(guards.extension_allowed,),
        effect=effects.grant_extension,
        alternative=True,
    ),
)


# ── deadlines ─────────────────────────────────────────────────────────────
DEADLINES: tuple[Deadline, ...] = (
    Deadline(
        id="certificate",
        label_vi="Giấy chứng nhận lớp nhận thức hết hạn",
        label_en="Awareness certificate expires",
        anchor="certificate_on",
        unit="months",
        length=lambda p: p.certificate_valid_months,
        states=("class_passed", "sponsored", "dossier_complete", "verified"),
        owners=("secretary",),
        source="HD 06 §5.4",
        warn_days=lambda p: p.certificate_warn_days,
        blocks="cell_vote",
    ),
    Deadline(
        id="verification",
        label_vi="Chờ trả lời thẩm tra lý lịch",
        label_en="Verification replies due",
        anchor="verification_requested_on",
        unit="days",
        length=lambda p: p.verification_reply_days,
        states=("dossier_complete",),
        owners=("secretary",),
        source="thực tiễn địa phương",
    ),
    Deadline(
        id="decision",
        label_vi="Quyết định kết nạp",
        label_en="Admission decision",
        anchor="cell_resolution_on",
        unit="working_days",
        length=lambda p: p.decision_working_days,
        states=("cell_resolved", "committee_resolved"),
        owners=("authority",),
        source="QĐ 294 §4.3.1",
        max_extension=lambda p: p.decision_extension_working_days,
    ),
    Deadline(
        id="ceremony",
        label_vi="Tổ chức lễ kết nạp",
        label_en="Admission ceremony",
        anchor="decision_received_on",
        unit="working_days",
        length=lambda p: p.ceremony_working_days,
        states=("admission_decided",),
        owners=("secretary",),
        source="QĐ 294 §4.1",
        max_extension=lambda p: None,
    ),
    Deadline(
        id="theory_class",
        label_vi="Học lớp bồi dưỡng đảng viên mới",
        label_en="New-member theory class",
        anchor="ceremony_on",
        unit="months",
        length=lambda p: p.theory_class_months,
        states=("probationary",),
        owners=("helper", "secretary"),
        source="hướng dẫn nghiệp vụ",
        met_by=("theory_class_on",),
    ),
    Deadline(
        id="probation_papers",
        label_vi="Tự kiểm điểm và nhận xét của người giúp đỡ",
        label_en="Self-review and helper's comment",
        anchor="probation_end",
        unit="days",
        length=lambda p: 0,
        states=("probationary",),
        owners=("helper", "secretary"),
        source="Điều lệ Đảng, Điều 5",
        met_by=("self_review_on", "helper_comment_on"),
        warn_days=lambda p: p.probation_papers_warn_days,
    ),
    Deadline(
        id="confirmation_vote",
        label_vi="Chi bộ xét công nhận chính thức",
        label_en="Cell confirmation vote",
        anchor="probation_end",
        unit="working_days",
        length=lambda p: p.confirmation_vote_working_days,
        states=("probationary",),
        owners=("secretary",),
        source="QĐ 294 §4.2a",
    ),
    Deadline(
        id="confirmation_decision",
        label_vi="Quyết định công nhận chính thức",
        label_en="Confirmation decision",
        anchor="confirmation_cell_resolution_on",
        unit="working_days",
        length=lambda p: p.confirmation_decision_working_days,
        states=("confirmation_cell_resolved", "confirmation_committee_resolved"),
        owners=("authority",),
        source="QĐ 294 §4.3.1",
        max_extension=lambda p: p.confirmation_decision_extension_working_days,
    ),
)
REMINDER_STAGES = ("upcoming", "due", "overdue", "escalated")


# ── look-ups ──────────────────────────────────────────────────────────────
_EVENTS = {e.name: e for e in EVENTS}
_STATES = {s.name: s for s in STATES}
_DEADLINES = {d.id: d for d in DEADLINES}


def events() -> Iterator[Event]:
    return iter(EVENTS)


def event(name: str) -> Event | None:
    return _EVENTS.get(name)


def state(name: str) -> State:
    return _STATES[name]


def deadline(deadline_id: str) -> Deadline:
    return _DEADLINES[deadline_id]


def allowed_events(state_name: str) -> list[Event]:
    """The events a case in `state_name` may receive, in the table's order."""
    return [e for e in EVENTS if state_name in e.sources]


def guard_ids() -> list[str]:
    seen: dict[str, None] = {}
    for e in EVENTS:
        for g in e.guards:
            seen.setdefault(g.id, None)
    return list(seen)


# ── the one Machine ───────────────────────────────────────────────────────
@dataclass
class Token:
    """What the shared Machine moves: a case's state, for the length of one advance."""

    state: str
    context: Any = field(default=None, repr=False)


def _build_machine() -> Machine:
    transitions = [
        {
            "trigger": e.name,
            "source": list(e.sources),
            "dest": e.target,
            "conditions": [guards.check_event_guards],
        }
        for e in EVENTS
        if e.sources
    ]
    return Machine(
        model=None,
        states=list(STATE_NAMES),
        transitions=transitions,
        initial="nominated",
        auto_transitions=False,
        send_event=True,
    )


MACHINE = _build_machine()


def mermaid(highlight: str | None = None, locale: str = "vi") -> str:
    """The process as a Mermaid state diagram, derived from the table, in `locale`."""
    english = locale == "en"
    lines = ["stateDiagram-v2", "    [*] --> nominated"]
    for e in EVENTS:
        if e.target is None or not e.sources:
            continue
        label = e.label_en if english else e.label_vi
        for source in e.sources:
            lines.append(f"    {source} --> {e.target}: {label}")
    for s in STATES:
        lines.append(f"    {s.name}: {s.label_en if english else s.label_vi}")
        if s.terminal:
            lines.append(f"    {s.name} --> [*]")
    if highlight:
        lines.append("    classDef current fill:#c62828,color:#fff,font-weight:bold")
        lines.append(f"    class {highlight} current")
    return "\n".join(lines)
