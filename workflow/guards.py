"""The guards: each rule of PROCESS.md once, with its id, its source and a message in
Vietnamese and English. The arithmetic lives in `rules`; the look-ups a guard needs
come from the `GuardContext` the engine fills.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

from workflow import rules
from workflow.refusal import Problem, Refusal, problems
from workflow.text import Text, dmy, together

if TYPE_CHECKING:
    from workflow.access import Actor
    from workflow.config import RuleParameters
    from workflow.models import Case, Member, Organisation, Person
    from workflow.process import Deadline, State


@dataclass(frozen=True)
class Guard:
    """A rule. `parameter`: the rule parameter it checks, whose article and text are
    those of the set in force on the act's date (rules.RuleBook): its refusal cites
    them ("QĐ 294 §3.2.1; theo Quy định 294-QĐ/TW, hiệu lực từ 01/07/2025")."""

    id: str
    source: str
    check: Callable[[GuardContext], Problem | None]
    parameter: str | None = None

    def source_in(self, params: RuleParameters | None) -> str:
        if self.parameter is None or params is None:
            return self.source
        return params.source_of(self.parameter)

    def refusal(
        self, problem: Problem, params: RuleParameters | None = None, on: date | None = None
    ) -> Refusal:
        refusal = self._one(problem, params, on)
        refusal.also = tuple(self._one(other, params, on) for other in problem.also)
        return refusal

    def _one(self, problem: Problem, params: RuleParameters | None, on: date | None) -> Refusal:
        source = self.source_in(params)
        cited = Text(source, source)
        if self.parameter is not None and params is not None:
            cited += Text("; ", "; ") + rules.citation(params, on or params.effective_from)
        return Refusal(
            self.id,
            source,
            f"{problem.vi} ({cited.vi})",
            f"{problem.en} ({cited.en})",
            problem.field,
        )


class GuardContext(Protocol):
    """What a guard may know: the case as it is, the act, and look-ups."""

    case: Case
    person: Person
    on: date
    data: dict[str, Any]
    params: RuleParameters
    actor: Actor

    def member(self, member_id: int) -> Member | None:
        """None also for a member the actor may not see (access.visible_members)."""

    def sponsors(self) -> list[Member]: ...
    def helper_ids(self) -> set[int]: ...
    def organisation(self, org_id: int) -> Organisation | None: ...
    def parent_committee(self) -> Organisation | None: ...
    def competent_authority(self) -> Organisation | None: ...
    def open_case_of(self, person: dict[str, Any]) -> int | None: ...
    def event_guards(self) -> tuple[Guard, ...]: ...
    def deadline(self, deadline_id: str) -> Deadline: ...
    def current_state(self) -> State: ...
    def vote_guard(self) -> str | None: ...
    def record_failed_vote(self, refusal: Refusal) -> None: ...


def check_event_guards(event_data: Any) -> bool:
    """The Machine's one condition: run the event's guards in order.

    A refusal raises, after every guard has had its say: the Refusal raised is the
    first, the others ride in its `also` (a form shows them all at once). When only
    the vote guard fails (a vote that did not reach two-thirds), the vote is a fact to
    record, not an error: answer False so the Machine leaves the state, and let the
    engine record the failed vote.
    """
    ctx: GuardContext = event_data.model.context
    failed_vote: Refusal | None = None
    refused: list[Refusal] = []
    for guard in ctx.event_guards():
        problem = guard.check(ctx)
        if problem is None:
            continue
        if guard.id == ctx.vote_guard():
            failed_vote = guard.refusal(problem, ctx.params, ctx.on)
            continue
        refused.append(guard.refusal(problem, ctx.params, ctx.on))
    if refused:
        raise together(refused)
    if failed_vote is not None:
        ctx.record_failed_vote(failed_vote)
        return False
    return True


def guard(
    rule_id: str, source: str, parameter: str | None = None
) -> Callable[[Callable[[GuardContext], Problem | None]], Guard]:
    def register(check: Callable[[GuardContext], Problem | None]) -> Guard:
        return Guard(rule_id, source, check, parameter)

    return register


CHARTER = "Điều lệ Đảng"


# ── nomination ───────────────────────────────────────────────────────────
@guard("cell_in_scope", "Ketnap")
def cell_in_scope(ctx: GuardContext) -> Problem | None:
    cell = ctx.organisation(ctx.data["cell_id"])
    if cell is None or cell.kind not in ("cell", "grassroots_cell"):
        return Problem(
            f"Không có chi bộ số {ctx.data['cell_id']}",
            f"There is no cell {ctx.data['cell_id']}",
            "cell_id",
        )
    if not ctx.actor.acts_for(cell.path):
        return Problem(
            f"Bạn không hoạt động cho chi bộ {cell.name}",
            f"You do not act for the cell {cell.name}",
            "cell_id",
        )
    return None


@guard("one_open_case", "Ketnap")
def one_open_case(ctx: GuardContext) -> Problem | None:
    other = ctx.open_case_of(ctx.data["person"])
    if other is None:
        return None
    name = ctx.data["person"]["full_name"]
    return Problem(
        f"{name} đã có hồ sơ đang mở (hồ sơ số {other})",
        f"{name} already has an open case (case {other})",
        "person",
    )


# ── class and sponsors ───────────────────────────────────────────────────
@guard("certificate_after_class", "HD 06 §5.4")
def certificate_after_class(ctx: GuardContext) -> Problem | None:
    started = ctx.case.class_started_on
    if started and ctx.on < started:
        return Problem(
            f"Giấy chứng nhận cấp ngày {dmy(ctx.on)}, trước ngày khai giảng {dmy(started)}",
            f"The certificate ({dmy(ctx.on)}) predates the class ({dmy(started)})",
            "on",
        )
    return None


def _sponsor_members(ctx: GuardContext) -> list[tuple[str, dict[str, Any], Member | None]]:
    """Each sponsor row: the field path its problems name, the row, the member."""
    return [
        (f"sponsors[{i}].member_id", s, ctx.member(s["member_id"]))
        for i, s in enumerate(ctx.data["sponsors"])
    ]


def _no_member(member_id: Any, field: str) -> Problem:
    """A member id that names nobody the actor may see: a missing id and a member out of
    the actor's scope read alike, so a refusal never reveals who exists elsewhere."""
    return Problem(
        f"Không có đảng viên số {member_id} trong phạm vi của bạn",
        f"There is no member {member_id} within your scope",
        field,
    )


@guard("sponsor_is_official", f"{CHARTER}, Điều 4.2")
def sponsor_is_official(ctx: GuardContext) -> Problem | None:
    found = []
    for where, sponsor, member in _sponsor_members(ctx):
        if member is None:
            found.append(_no_member(sponsor["member_id"], where))
        elif member.status != "official":
            found.append(
                Problem(
                    f"Người giới thiệu {member.full_name} không phải đảng viên chính "
                    "thức; đảng viên dự bị không được giới thiệu người vào Đảng",
                    f"Sponsor {member.full_name} is not an official member; "
                    "probationary members cannot sponsor",
                    where,
                )
            )
    return problems(found)


@guard("sponsor_not_candidate", f"{CHARTER}, Điều 4")
def sponsor_not_candidate(ctx: GuardContext) -> Problem | None:
    found, seen = [], set()
    for where, sponsor, member in _sponsor_members(ctx):
        if sponsor["member_id"] in seen:
            found.append(
                Problem(
                    "Một đảng viên được ghi hai lần làm người giới thiệu",
                    "The same member is listed twice as a sponsor",
                    where,
                )
            )
        seen.add(sponsor["member_id"])
        if member is not None and member.person_id == ctx.case.person_id:
            found.append(
                Problem(
                    "Người vào Đảng không thể tự giới thiệu mình",
                    "The candidate cannot sponsor themselves",
                    where,
                )
            )
    return problems(found)


@guard("sponsor_shared_time", "QĐ 294 §3.2.1", "sponsor_shared_months")
def sponsor_shared_time(ctx: GuardContext) -> Problem | None:
    need = ctx.params.sponsor_shared_months
    found = []
    for where, sponsor, member in _sponsor_members(ctx):
        months = rules.full_months_between(sponsor["alongside_since"], ctx.on)
        if months >= need or member is None:  # no member: sponsor_is_official says so
            continue
        name = member.full_name
        found.append(
            Problem(
                f"Người giới thiệu {name} mới công tác cùng người vào Đảng "
                f"{max(months, 0)} tháng; cần ít nhất {need} tháng",
                f"Sponsor {name} has been alongside the candidate for "
                f"{max(months, 0)} months; {need} are required",
                where.replace("member_id", "alongside_since"),
            )
        )
    return problems(found)


@guard("sponsor_count", f"{CHARTER}, Điều 4.1")
def sponsor_count(ctx: GuardContext) -> Problem | None:
    members = len(ctx.data["sponsors"])
    union = ctx.data.get("union_resolution")
    if (members == 2 and union is None) or (members == 1 and union is not None):
        return None
    return Problem(
        "Cần hai đảng viên chính thức giới thiệu, hoặc một đảng viên và nghị quyết "
        f"giới thiệu của Đoàn Thanh niên hoặc Công đoàn (đang có {members} đảng viên"
        f"{' và một nghị quyết' if union else ''})",
        "Two official members must sponsor, or one member and a Youth Union or "
        f"trade-union resolution (given: {members} member(s)"
        f"{' and a resolution' if union else ''})",
        "sponsors",
    )


@guard("youth_union_introduces", f"{CHARTER}, Điều 4.1", "youth_age")
def youth_union_introduces(ctx: GuardContext) -> Problem | None:
    person = ctx.person
    if not person.youth_union_member:
        return None
    if not rules.is_youth_age(person.birth_date, ctx.on, ctx.params.youth_age):
        return None
    union = ctx.data.get("union_resolution")
    if union and union["kind"] == "youth_union" and len(ctx.data["sponsors"]) == 1:
        return None
    return Problem(
        f"Đoàn viên trong độ tuổi đoàn (đến {ctx.params.youth_age} tuổi) phải được "
        "giới thiệu bằng nghị quyết của Đoàn Thanh niên và một đảng viên chính thức",
        f"A Youth Union member of youth age (≤ {ctx.params.youth_age}) is introduced "
        "by a Youth Union resolution and one official member",
        "union_resolution",
    )


# ── correcting particulars ───────────────────────────────────────────────
@guard("particulars_changed", "Ketnap")
def particulars_changed(ctx: GuardContext) -> Problem | None:
    """A correction changes what it names: a field given as it already stands is
    named back (a slip, or a correction recorded twice)."""
    found = [
        Problem(
            "Hồ sơ đã ghi đúng như vậy, không có gì để sửa",
            "The record already says so: there is nothing to correct",
            f"person.{name}",
        )
        for name, value in ctx.data["person"].items()
        if getattr(ctx.person, name, None) == value
    ]
    return problems(found)


# ── dossier and verification ─────────────────────────────────────────────
DOSSIER_FORMS = {
    "application_on": "1-KNĐ",
    "declaration_on": "2-KNĐ",
    "introductions_on": "3-KNĐ",
    "union_resolution_on": "4-KNĐ",
    "comments_on": "5-KNĐ",
    "requests_sent_on": "20-KNĐ",
}


@guard("dossier_dates", "HD 12-HD/BTCTW")
def dossier_dates(ctx: GuardContext) -> Problem | None:
    data = ctx.data
    for name, form in DOSSIER_FORMS.items():
        day = data.get(name)
        if day is not None and day > ctx.on:
            return Problem(
                f"Ngày của mẫu {form} ({dmy(day)}) sau ngày hoàn thiện hồ sơ",
                f"Form {form} ({dmy(day)}) is dated after the dossier",
                name,
            )
    if data["application_on"] > data["declaration_on"]:
        return Problem(
            "Đơn xin vào Đảng (1-KNĐ) phải có trước lý lịch (2-KNĐ)",
            "The application (1-KNĐ) must not postdate the declaration (2-KNĐ)",
            "application_on",
        )
    if ctx.case.union_resolution_ref and data.get("union_resolution_on") is None:
        return Problem(
            "Thiếu ngày nghị quyết giới thiệu của đoàn thể (4-KNĐ)",
            "The union's resolution (4-KNĐ) is missing",
            "union_resolution_on",
        )
    return None


@guard("requests_before_conclusion", "HD 12-HD/BTCTW")
def requests_before_conclusion(ctx: GuardContext) -> Problem | None:
    if ctx.data["requests_sent_on"] > ctx.on:
        return Problem(
            "Ngày gửi công văn thẩm tra sau ngày kết luận",
            "Verification requests are dated after the conclusion",
            "requests_sent_on",
        )
    return None


# ── votes ────────────────────────────────────────────────────────────────
@guard("quorum_base", f"{CHARTER}, Điều 24", "cell_quorum")
def quorum_base(ctx: GuardContext) -> Problem | None:
    need = ctx.params.cell_quorum
    if ctx.data["voters"] >= need:
        return None
    return Problem(
        f"Chi bộ cần ít nhất {need} đảng viên chính thức biểu quyết (có {ctx.data['voters']})",
        f"At least {need} official members must vote (given {ctx.data['voters']})",
        "voters",
    )


def _votes_problem(votes_for: int, base: int) -> Problem | None:
    if 0 <= votes_for <= base:
        return None
    return Problem(
        f"Số phiếu tán thành ({votes_for}) phải từ 0 đến {base}",
        f"Votes for ({votes_for}) must be between 0 and {base}",
        "votes_for",
    )


@guard("votes_valid", "Ketnap")
def votes_valid(ctx: GuardContext) -> Problem | None:
    return _votes_problem(ctx.data["votes_for"], ctx.data["voters"])


@guard("votes_valid", "Ketnap")
def committee_votes_valid(ctx: GuardContext) -> Problem | None:
    if ctx.data["members"] < 1:
        return Problem("Số cấp ủy viên phải lớn hơn 0", "Committee members must be > 0", "members")
    return _votes_problem(ctx.data["votes_for"], ctx.data["members"])


@guard("two_thirds", f"{CHARTER}, Điều 4.3")
def two_thirds(ctx: GuardContext) -> Problem | None:
    votes_for, base = ctx.data["votes_for"], ctx.data["voters"]
    if rules.meets_two_thirds(votes_for, base):
        return None
    return Problem(
        f"{votes_for}/{base} phiếu tán thành, chưa đủ hai phần ba (cần {rules.votes_needed(base)})",
        f"{votes_for} of {base} in favour is short of two-thirds "
        f"({rules.votes_needed(base)} needed)",
        "votes_for",
    )


@guard("committee_two_thirds", "HD 06 §3.7a")
def committee_two_thirds(ctx: GuardContext) -> Problem | None:
    committee = ctx.parent_committee()
    if committee is None or not committee.may_admit:
        return None
    votes_for, base = ctx.data["votes_for"], ctx.data["members"]
    if rules.meets_two_thirds(votes_for, base):
        return None
    return Problem(
        f"{votes_for}/{base} cấp ủy viên tán thành, chưa đủ hai phần ba "
        f"(cần {rules.votes_needed(base)})",
        f"{votes_for} of {base} committee members in favour is short of "
        f"two-thirds ({rules.votes_needed(base)} needed)",
        "votes_for",
    )


@guard("age_range", "QĐ 294 §1.1", "min_age")
def age_range(ctx: GuardContext) -> Problem | None:
    birth, p = ctx.person.birth_date, ctx.params
    months = rules.age_in_months(birth, ctx.on)
    age = f"{months // 12} tuổi {months % 12} tháng"
    age_en = f"{months // 12} years {months % 12} months"
    if not rules.is_of_admission_age(birth, ctx.on, p.min_age):
        return Problem(
            f"Người vào Đảng mới {age} vào ngày {dmy(ctx.on)}; phải đủ {p.min_age} "
            "tuổi (tính theo tháng)",
            f"The candidate is {age_en} old on {dmy(ctx.on)}; {p.min_age} full years are required",
            "on",
        )
    if rules.is_over_max_age(birth, ctx.on, p.max_age) and not ctx.data.get("over_60_consent_ref"):
        return Problem(
            f"Người vào Đảng đã {age}, quá {p.max_age} tuổi: cần văn bản đồng ý "
            "của cấp ủy có thẩm quyền",
            f"The candidate is {age_en} old, over "
            f"{p.max_age}: the competent committee's consent is required",
            "over_60_consent_ref",
        )
    return None


@guard("certificate_valid", "HD 06 §5.4", "certificate_valid_months")
def certificate_valid(ctx: GuardContext) -> Problem | None:
    issued, months = ctx.case.certificate_on, ctx.params.certificate_valid_months
    if issued and rules.certificate_is_valid(issued, ctx.on, months):
        return None
    expiry = rules.certificate_expiry(issued, months) if issued else None
    return Problem(
        f"Giấy chứng nhận lớp nhận thức cấp ngày {dmy(issued)} đã hết hạn ngày "
        f"{dmy(expiry)} ({months} tháng); người vào Đảng phải học lại",
        f"The awareness certificate of {dmy(issued)} expired on {dmy(expiry)} "
        f"({months} months); the candidate must attend the class again",
        "on",
    )


@guard("sponsors_still_official", f"{CHARTER}, Điều 4.2")
def sponsors_still_official(ctx: GuardContext) -> Problem | None:
    for member in ctx.sponsors():
        if member.status != "official":
            return Problem(
                f"Người giới thiệu {member.full_name} không còn là đảng viên chính thức",
                f"Sponsor {member.full_name} is no longer an official member",
                None,
            )
    return None


# ── decisions ────────────────────────────────────────────────────────────
@guard("competent_authority", "QĐ 294 §4")
def competent_authority(ctx: GuardContext) -> Problem | None:
    authority = ctx.competent_authority()
    if authority is None:
        return Problem(
            "Không có cấp ủy có thẩm quyền kết nạp phía trên chi bộ này",
            "No committee above this cell may decide admissions",
            None,
        )
    if ctx.actor.organisation_id == authority.id:
        return None
    return Problem(
        f"Chỉ {authority.name} có thẩm quyền quyết định việc này",
        f"Only {authority.name} may decide this",
        None,
    )


@guard("committee_may_admit", "QĐ 294 §4")
def committee_step_needed(ctx: GuardContext) -> Problem | None:
    """A decision may follow the cell directly only where the cell's committee admits."""
    if ctx.case.state not in ("cell_resolved", "confirmation_cell_resolved"):
        return None
    committee = ctx.parent_committee()
    if committee is not None and committee.may_admit:
        return None
    return Problem(
        "Đảng ủy cơ sở phải biểu quyết trước khi cấp trên quyết định",
        "The grassroots committee must vote before the decision",
        None,
    )


@guard("decision_after_resolution", "QĐ 294 §4.3")
def decision_after_resolution(ctx: GuardContext) -> Problem | None:
    latest = ctx.case.committee_resolution_on or ctx.case.cell_resolution_on
    if latest and ctx.on < latest:
        return Problem(
            f"Quyết định ({dmy(ctx.on)}) không được trước nghị quyết ({dmy(latest)})",
            f"The decision ({dmy(ctx.on)}) predates the resolution ({dmy(latest)})",
            "on",
        )
    received = ctx.data.get("received_on")
    if received and received < ctx.on:
        return Problem(
            "Ngày chi bộ nhận quyết định không được trước ngày quyết định",
            "The cell cannot receive the decision before its date",
            "received_on",
        )
    return None


@guard("helper_is_official", f"{CHARTER}, Điều 5")
def helper_is_official(ctx: GuardContext) -> Problem | None:
    if not ctx.data["helpers"]:
        return Problem(
            "Cần phân công ít nhất một đảng viên chính thức giúp đỡ",
            "Assign at least one official member as helper",
            "helpers",
        )
    for member_id in ctx.data["helpers"]:
        member = ctx.member(member_id)
        if member is None:
            return _no_member(member_id, "helpers")
        if member.status != "official":
            return Problem(
                f"Người giúp đỡ {member.full_name} không phải đảng viên chính thức",
                f"Helper {member.full_name} is not an official member",
                "helpers",
            )
    return None


@guard("ceremony_after_decision", "QĐ 294 §4.1")
def ceremony_after_decision(ctx: GuardContext) -> Problem | None:
    decided = ctx.case.decision_on
    if decided and ctx.on < decided:
        return Problem(
            f"Lễ kết nạp ({dmy(ctx.on)}) không được trước quyết định ({dmy(decided)})",
            f"The ceremony ({dmy(ctx.on)}) predates the decision ({dmy(decided)})",
            "on",
        )
    received = ctx.case.decision_received_on
    if received and ctx.on < received:
        return Problem(
            f"Lễ kết nạp ({dmy(ctx.on)}) không được trước ngày chi bộ nhận quyết định "
            f"({dmy(received)})",
            f"The ceremony ({dmy(ctx.on)}) predates the cell's receipt of the decision "
            f"({dmy(received)})",
            "on",
        )
    return None


# ── probation ────────────────────────────────────────────────────────────
@guard("is_helper", f"{CHARTER}, Điều 5")
def is_helper(ctx: GuardContext) -> Problem | None:
    helper_id = ctx.data["helper_id"]
    if helper_id not in ctx.helper_ids():
        return Problem(
            f"Đảng viên số {helper_id} không được phân công giúp đỡ đảng viên này",
            f"Member {helper_id} is not this member's helper",
            "helper_id",
        )
    actor = ctx.actor
    if actor.role == "sponsor" and actor.member_id != helper_id:
        return Problem(
            "Chỉ chính người giúp đỡ hoặc bí thư chi bộ ghi nhận xét này",
            "Only that helper or the cell secretary may record this comment",
            "helper_id",
        )
    return None


@guard("probation_over", f"{CHARTER}, Điều 5.2")
def probation_over(ctx: GuardContext) -> Problem | None:
    end = ctx.case.probation_end
    if end and ctx.on >= end:
        return None
    return Problem(
        f"Thời gian dự bị kết thúc ngày {dmy(end)}; chưa thể xét công nhận",
        f"Probation ends on {dmy(end)}; the cell cannot vote before",
        "on",
    )


@guard("confirmation_papers", f"{CHARTER}, Điều 5")
def confirmation_papers(ctx: GuardContext) -> Problem | None:
    case = ctx.case
    missing = [
        (vi, en)
        for day, vi, en in (
            (
                case.theory_class_on,
                "giấy chứng nhận lớp đảng viên mới",
                "the new-member theory class",
            ),
            (case.self_review_on, "bản tự kiểm điểm (10-KNĐ)", "the self-review (10-KNĐ)"),
            (
                case.helper_comment_on,
                "nhận xét của người giúp đỡ (11-KNĐ)",
                "the helper's comment (11-KNĐ)",
            ),
        )
        if day is None
    ]
    if not missing:
        return None
    return Problem(
        "Còn thiếu: " + ", ".join(vi for vi, _ in missing),
        "Missing: " + ", ".join(en for _, en in missing),
        None,
    )


# ── transfers and extensions ─────────────────────────────────────────────
@guard("receiving_cell", "HD 12-HD/BTCTW")
def receiving_cell(ctx: GuardContext) -> Problem | None:
    cell = ctx.organisation(ctx.data["to_cell_id"])
    if cell is None or cell.kind not in ("cell", "grassroots_cell"):
        return Problem(
            f"Không có chi bộ số {ctx.data['to_cell_id']}",
            f"There is no cell {ctx.data['to_cell_id']}",
            "to_cell_id",
        )
    if cell.id == ctx.case.cell_id:
        return Problem(
            "Chi bộ nhận trùng với chi bộ hiện tại",
            "The receiving cell is the current cell",
            "to_cell_id",
        )
    return None


@guard("extension_allowed", "QĐ 294 §4.1, §4.3.1")
def extension_allowed(ctx: GuardContext) -> Problem | None:
    spec = ctx.deadline(ctx.data["deadline"])
    days = ctx.data["working_days"]
    if ctx.case.state not in spec.states:
        return Problem(
            f"Thời hạn '{spec.label_vi}' không áp dụng ở bước hiện tại",
            f"The deadline '{spec.label_en}' does not apply now",
            "deadline",
        )
    if days < 1:
        return Problem(
            "Số ngày gia hạn phải lớn hơn 0", "Add at least one working day", "working_days"
        )
    limit = spec.max_extension(ctx.params) if spec.max_extension else 0
    granted = json.loads(ctx.case.extensions or "{}").get(spec.id, 0)
    if limit is not None and granted + days > limit:
        return Problem(
            f"Chỉ được gia hạn tối đa {limit} ngày làm việc (đã gia hạn {granted})",
            f"At most {limit} working days may be added ({granted} already)",
            "working_days",
        )
    return None


@guard("on_after_previous_step", "PROCESS")
def on_after_previous_step(ctx: GuardContext) -> Problem | None:
    """Acts follow each other: none is dated before the act that brought the case into
    its state (a committee vote before the cell's, a rejection before the nomination).
    Acts within a state keep their own order: a paper may be recorded late."""
    since = ctx.case.state_since
    if since is None or ctx.on >= since:
        return None
    current = ctx.current_state()
    return Problem(
        f"Ngày {dmy(ctx.on)} trước bước '{current.label_vi}' ({dmy(since)})",
        f"{dmy(ctx.on)} predates the step '{current.label_en}' ({dmy(since)})",
        "on",
    )


ON_NOT_IN_FUTURE = Guard("on_not_in_future", "Ketnap", lambda ctx: None)
EVENT_ALLOWED = Guard("event_allowed", "PROCESS", lambda ctx: None)
