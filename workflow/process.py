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
    "object",
    "list",
)


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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


OCCUPATIONS = (
    "civil_servant",
    "public_employee",
    "farmer",
    "worker",
    "armed_forces",
    "business_owner",
    "enterprise_owner",
    "village_head",
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

PERSON = FieldSpec(
    "person",
    "object",
    "Người vào Đảng",
    "Candidate",
    parts=(
        _text("full_name", "Họ và tên", "Full name"),
        _date("birth_date", "Ngày sinh", "Date of birth"),
        FieldSpec("gender", "choice", "Giới tính", "Gender", choices=("female", "male")),
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
VOTERS = _int("voters", "Số đảng viên chính thức biểu quyết", "Official members voting")
COMMITTEE_MEMBERS = _int("members", "Số cấp ủy viên", "Committee members")
VOTES_FOR = _int("votes_for", "Số tán thành", "Votes for")
REASON = _text("reason", "Lý do", "Reason")
DECISION_NO = _text("decision_no", "Số quyết định", "Decision number")


# ── events ────────────────────────────────────────────────────────────────
NOMINATE = Event(
    "nominate",
    (),
    "nominated",
    "Giới thiệu quần chúng ưu tú",
    "Nominate",
    "cell",
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
        "enrol_in_class",
        ("nominated",),
        "in_class",
        "Cử đi học lớp nhận thức về Đảng",
        "Enrol in awareness class",
        "cell",
        fields=(
            _text("class_name", "Tên lớp", "Class"),
            _text("issuer", "Đơn vị mở lớp", "Held by"),
        ),
        effect=effects.enrol_in_class,
        on_label_vi="Ngày khai giảng",
        on_label_en="First day of class",
    ),
    Event(
        "fail_class",
        ("in_class",),
        "nominated",
        "Không đạt lớp nhận thức",
        "Failed the class",
        "cell",
        fields=(REASON,),
    ),
    Event(
        "pass_class",
        ("in_class",),
        "class_passed",
        "Hoàn thành lớp, cấp giấy chứng nhận",
        "Passed the class",
        "cell",
        fields=(_text("certificate_no", "Số giấy chứng nhận", "Certificate number"),),
        guards=(guards.certificate_after_class,),
        effect=effects.pass_class,
        on_label_vi="Ngày cấp giấy chứng nhận",
        on_label_en="Certificate issued on",
    ),
    Event(
        "assign_sponsors",
        ("class_passed",),
        "sponsored",
        "Phân công người giới thiệu",
        "Assign sponsors",
        "cell",
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
        "submit_dossier",
        ("sponsored",),
        "dossier_complete",
        "Hoàn thiện hồ sơ",
        "Submit the dossier",
        "cell",
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
        "verify_background",
        ("dossier_complete",),
        "verified",
        "Kết luận thẩm tra lý lịch",
        "Background verified",
        "cell",
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
                choices=("meets_standards", "does_not_meet"),
            ),
        ),
        guards=(guards.requests_before_conclusion, guards.background_meets_standards),
    ),
    Event(
        "cell_vote",
        ("verified",),
        "cell_resolved",
        "Chi bộ biểu quyết đề nghị kết nạp",
        "Cell vote on admission",
        "cell",
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
    ),
    Event(
        "committee_vote",
        ("cell_resolved",),
        "committee_resolved",
        "Đảng ủy cơ sở biểu quyết",
        "Committee vote on admission",
        "committee",
        fields=(
            COMMITTEE_MEMBERS,
            VOTES_FOR,
            _text("resolution_ref", "Số nghị quyết (8-KNĐ)", "Resolution (8-KNĐ)"),
        ),
        guards=(guards.committee_votes_valid, guards.committee_two_thirds),
        effect=effects.committee_vote,
        on_label_vi="Ngày họp đảng ủy",
        on_label_en="Meeting date",
    ),
    Event(
        "decide_admission",
        ("committee_resolved", "cell_resolved"),
        "admission_decided",
        "Quyết định kết nạp",
        "Admission decision",
        "authority",
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
    ),
    Event(
        "hold_ceremony",
        ("admission_decided",),
        "probationary",
        "Tổ chức lễ kết nạp",
        "Admission ceremony",
        "cell",
        fields=(FieldSpec("helpers", "members", "Đảng viên giúp đỡ", "Helpers"),),
        guards=(guards.helper_is_official, guards.ceremony_after_decision),
        effect=effects.hold_ceremony,
        on_label_vi="Ngày lễ kết nạp",
        on_label_en="Ceremony date",
    ),
    Event(
        "complete_theory_class",
        ("probationary",),
        None,
        "Hoàn thành lớp đảng viên mới",
        "New-member theory class",
        "cell",
        fields=(
            _text("class_name", "Tên lớp", "Class"),
            _text("certificate_no", "Số giấy chứng nhận", "Certificate number"),
        ),
        effect=effects.complete_theory_class,
        on_label_vi="Ngày cấp giấy chứng nhận",
        on_label_en="Certificate issued on",
    ),
    Event(
        "record_self_review",
        ("probationary",),
        None,
        "Bản tự kiểm điểm (10-KNĐ)",
        "Self-review (10-KNĐ)",
        "cell",
        effect=effects.record_self_review,
    ),
    Event(
        "record_helper_comment",
        ("probationary",),
        None,
        "Nhận xét của đảng viên giúp đỡ (11-KNĐ)",
        "Helper's comment (11-KNĐ)",
        "helper",
        fields=(
            FieldSpec("helper_id", "member", "Đảng viên giúp đỡ", "Helper"),
            _text("comment", "Nhận xét", "Comment"),
        ),
        guards=(guards.is_helper,),
        effect=effects.record_helper_comment,
    ),
    Event(
        "cell_confirm_vote",
        ("probationary",),
        "confirmation_cell_resolved",
        "Chi bộ xét công nhận chính thức",
        "Cell vote on confirmation",
        "cell",
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
    ),
    Event(
        "committee_confirm_vote",
        ("confirmation_cell_resolved",),
        "confirmation_committee_resolved",
        "Đảng ủy cơ sở xét công nhận chính thức",
        "Committee vote on confirmation",
        "committee",
        fields=(
            COMMITTEE_MEMBERS,
            VOTES_FOR,
            _text("resolution_ref", "Số nghị quyết (15-KNĐ)", "Resolution (15-KNĐ)"),
        ),
        guards=(guards.committee_votes_valid, guards.committee_two_thirds),
        on_label_vi="Ngày họp đảng ủy",
        on_label_en="Meeting date",
    ),
    Event(
        "confirm",
        ("confirmation_committee_resolved", "confirmation_cell_resolved"),
        "official",
        "Quyết định công nhận đảng viên chính thức",
        "Confirm as official",
        "authority",
        fields=(DECISION_NO,),
        guards=(guards.competent_authority, guards.committee_step_needed),
        effect=effects.confirm,
        on_label_vi="Ngày quyết định",
        on_label_en="Decision date",
    ),
    Event(
        "remove",
        CONFIRMATION,
        "removed",
        "Xóa tên đảng viên dự bị",
        "Remove (xóa tên)",
        "authority",
        fields=(DECISION_NO, REASON),
        guards=(guards.competent_authority,),
        effect=effects.remove,
        on_label_vi="Ngày quyết định",
        on_label_en="Decision date",
    ),
    Event(
        "reject",
        BEFORE_PROBATION,
        "rejected",
        "Không kết nạp",
        "Reject",
        "cell",
        fields=(
            FieldSpec(
                "by",
                "choice",
                "Cấp quyết định",
                "Decided by",
                choices=("cell", "committee", "authority"),
            ),
            REASON,
        ),
        effect=effects.close,
    ),
    Event(
        "withdraw",
        BEFORE_PROBATION,
        "withdrawn",
        "Rút hồ sơ",
        "Withdraw",
        "cell",
        fields=(REASON,),
        effect=effects.close,
    ),
    Event(
        "transfer",
        OPEN_STATES,
        None,
        "Chuyển sinh hoạt sang chi bộ khác",
        "Transfer to another cell",
        "cell",
        fields=(FieldSpec("to_cell_id", "organisation", "Chi bộ nhận", "Receiving cell"),),
        guards=(guards.receiving_cell,),
        effect=effects.transfer,
    ),
    Event(
        "grant_extension",
        (
            "admission_decided",
            "cell_resolved",
            "committee_resolved",
            "confirmation_cell_resolved",
            "confirmation_committee_resolved",
        ),
        None,
        "Gia hạn thời hạn (cấp trên đồng ý)",
        "Grant an extension",
        "authority",
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
    ),
)


# ── deadlines ─────────────────────────────────────────────────────────────
DEADLINES: tuple[Deadline, ...] = (
    Deadline(
        "certificate",
        "Giấy chứng nhận lớp nhận thức hết hạn",
        "Awareness certificate expires",
        "certificate_on",
        "months",
        lambda p: p.certificate_valid_months,
        ("class_passed", "sponsored", "dossier_complete", "verified"),
        ("secretary",),
        "HD 06 §5.4",
        warn_days=lambda p: p.certificate_warn_days,
        blocks="cell_vote",
    ),
    Deadline(
        "verification",
        "Chờ trả lời thẩm tra lý lịch",
        "Verification replies due",
        "verification_requested_on",
        "days",
        lambda p: p.verification_reply_days,
        ("dossier_complete",),
        ("secretary",),
        "thực tiễn địa phương",
    ),
    Deadline(
        "decision",
        "Quyết định kết nạp",
        "Admission decision",
        "cell_resolution_on",
        "working_days",
        lambda p: p.decision_working_days,
        ("cell_resolved", "committee_resolved"),
        ("authority",),
        "QĐ 294 §4.3.1",
        max_extension=lambda p: p.decision_extension_working_days,
    ),
    Deadline(
        "ceremony",
        "Tổ chức lễ kết nạp",
        "Admission ceremony",
        "decision_received_on",
        "working_days",
        lambda p: p.ceremony_working_days,
        ("admission_decided",),
        ("secretary",),
        "QĐ 294 §4.1",
        max_extension=lambda p: None,
    ),
    Deadline(
        "theory_class",
        "Học lớp bồi dưỡng đảng viên mới",
        "New-member theory class",
        "ceremony_on",
        "months",
        lambda p: p.theory_class_months,
        ("probationary",),
        ("helper", "secretary"),
        "hướng dẫn nghiệp vụ",
        met_by=("theory_class_on",),
    ),
    Deadline(
        "probation_papers",
        "Tự kiểm điểm và nhận xét của người giúp đỡ",
        "Self-review and helper's comment",
        "probation_end",
        "days",
        lambda p: 0,
        ("probationary",),
        ("helper", "secretary"),
        "Điều lệ Đảng, Điều 5",
        met_by=("self_review_on", "helper_comment_on"),
        warn_days=lambda p: p.probation_papers_warn_days,
    ),
    Deadline(
        "confirmation_vote",
        "Chi bộ xét công nhận chính thức",
        "Cell confirmation vote",
        "probation_end",
        "working_days",
        lambda p: p.confirmation_vote_working_days,
        ("probationary",),
        ("secretary",),
        "QĐ 294 §4.2a",
    ),
    Deadline(
        "confirmation_decision",
        "Quyết định công nhận chính thức",
        "Confirmation decision",
        "confirmation_cell_resolution_on",
        "working_days",
        lambda p: p.confirmation_decision_working_days,
        ("confirmation_cell_resolved", "confirmation_committee_resolved"),
        ("authority",),
        "QĐ 294 §4.3.1",
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
