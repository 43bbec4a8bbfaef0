"""Party members of the cells: read within scope, added and changed by admins through
these actions (each logged in the admin log).

A member's `status` decides the guards `sponsor_is_official` and
`committee_two_thirds`, so its every change is on record with its old value.
Members admitted through Ketnap are created by the engine (effects.py) instead.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from workflow import access, hygiene, process, schema
from workflow.access import Actor, Forbidden
from workflow.directory import admin_log
from workflow.directory.organisations import CELL_KINDS
from workflow.engine import Engine, NotFound
from workflow.models import Case, HelperAssignment, Member, Organisation, Person, Sponsorship
from workflow.process import FieldSpec
from workflow.schema import InvalidData

MEMBER_STATUSES = ("official", "probationary", "removed")
MAX_NAME = hygiene.NAME_MAX

MEMBER_FIELDS = (
    FieldSpec("full_name", "text", "Họ và tên", "Full name"),
    FieldSpec("cell_id", "organisation", "Chi bộ", "Cell"),
    FieldSpec(
        "status",
        "choice",
        "Tình trạng",
        "Status",
        required=False,
        default="official",
        choices=MEMBER_STATUSES,
    ),
    FieldSpec("joined_on", "date", "Ngày vào Đảng", "Joined on", required=False),
    FieldSpec("official_since", "date", "Ngày chính thức", "Official since", required=False),
)
LOGGED = tuple(spec.name for spec in MEMBER_FIELDS)
NEW_STATUSES = ("official", "probationary")  # a member is added as one of these
# A member's particulars (their Person): kept for the reports' breakdowns by age and
# gender, and to tell two members of one name apart.
PARTICULARS = (
    FieldSpec("birth_date", "date", "Ngày sinh", "Date of birth", required=False),
    FieldSpec("gender", "choice", "Giới tính", "Gender", required=False, choices=process.GENDERS),
    FieldSpec("national_id", "text", "Số CCCD", "National ID", required=False),
)
PARTICULAR_NAMES = tuple(spec.name for spec in PARTICULARS)
RECORD_FIELDS = MEMBER_FIELDS + PARTICULARS  # what adding or changing a member takes


def check_may_change(actor: Actor) -> None:
    if actor.role != "admin":
        raise Forbidden(f"role {actor.role} may not change party members")


def members(session: Session, actor: Actor, cell_id: int | None = None) -> list[Member]:
    """The members the actor may list (access.listed_members, the export's rule: Forbidden
    to a sponsor), optionally of one cell."""
    query = select(Member).where(access.listed_members(actor))
    if cell_id is not None:
        query = query.where(Member.cell_id == cell_id)
    return list(session.exec(query.order_by(col(Member.id))))


def pickable(session: Session, actor: Actor, case: Case) -> list[Member]:
    """Whom a form of `case` offers as sponsor or helper, by name: the members of its
    cell and those already sponsoring or helping it, as far as the actor may see them
    (access.visible_members) — never someone the engine would refuse as out of scope."""
    linked = or_(
        col(Member.id).in_(select(Sponsorship.member_id).where(Sponsorship.case_id == case.id)),
        col(Member.id).in_(
            select(HelperAssignment.member_id).where(HelperAssignment.case_id == case.id)
        ),
    )
    query = select(Member).where(
        or_(col(Member.cell_id) == case.cell_id, linked), access.visible_members(actor)
    )
    return list(session.exec(query.order_by(col(Member.full_name), col(Member.id))))


def add_member(engine: Engine, data: Any, *, actor: Actor) -> Member:
    """A new member of a cell, with their particulars (birth date, gender, national id)
    when given; `valid(new=True)` is the rule the admin page, the CLI, the API and the
    member imports all apply."""
    check_may_change(actor)
    parsed = valid(data, engine.clock.today(), new=True)
    with engine.session() as session:
        cell = _cell(session, parsed["cell_id"])
        person = new_person(parsed)
        if person is not None:
            session.add(person)
            session.flush()
        member = new_member(parsed, person.id if person else None)
        session.add(member)
        session.flush()
        log_added(session, actor, [(member, person, cell.path)], at=engine.clock.now())
        session.commit()
    return member


def new_member(parsed: dict[str, Any], person_id: int | None = None) -> Member:
    """A member from fields `valid` has checked, not yet added to a session."""
    member = Member(full_name="", cell_id=parsed["cell_id"], person_id=person_id)
    _fill(member, parsed)
    return member


def new_person(parsed: dict[str, Any]) -> Person | None:
    """The member's particulars as a Person (None when no birth date and gender given)."""
    if parsed.get("birth_date") is None:
        return None
    return Person(
        full_name=parsed["full_name"],
        birth_date=parsed["birth_date"],
        gender=parsed["gender"],
        national_id=parsed.get("national_id"),
    )


def log_added(
    session: Session,
    actor: Actor,
    added: list[tuple[Member, Person | None, str]],
    *,
    at: datetime,
    action: str = "add_member",
) -> None:
    """Log new members (flushed, each with its particulars and its cell's path) in the
    caller's transaction: the one action and the imports share this path."""
    with session.no_autoflush:  # the entries go in together, not one flush per entry
        for member, person, org_path in added:
            admin_log.append(
                session,
                actor,
                action=action,
                record=member,
                org_path=org_path,
                before={},
                after=_snapshot(member, person),
                at=at,
            )


def change_member(engine: Engine, member_id: int, data: Any, *, actor: Actor) -> Member:
    """Change what `data` names (a field it leaves out keeps its value): a status
    changed to official, a correction of a date or of the particulars, a transfer to
    another cell."""
    check_may_change(actor)
    if not isinstance(data, dict):
        raise InvalidData("data", "Dữ liệu phải là một đối tượng", "Data must be an object")
    with engine.session() as session:
        member = session.get(Member, member_id)
        if member is None:
            raise NotFound(member_id)
        person = session.get(Person, member.person_id) if member.person_id else None
        before = _snapshot(member, person)
        parsed = valid(before | data, engine.clock.today())
        cell = _cell(session, parsed["cell_id"])
        _fill(member, parsed)
        person = _keep_particulars(session, member, person, parsed)
        session.add(member)
        admin_log.append(
            session,
            actor,
            action="change_member",
            record=member,
            org_path=cell.path,
            before=before,
            after=_snapshot(member, person),
            at=engine.clock.now(),
        )
        session.commit()
    return member


def _keep_particulars(
    session: Session, member: Member, person: Person | None, parsed: dict[str, Any]
) -> Person | None:
    """The member's Person brought in line with the checked particulars: created when
    first given, changed when corrected (its name follows the member's)."""
    if person is None:
        person = new_person(parsed)
        if person is not None:
            session.add(person)
            session.flush()
            member.person_id = person.id
        return person
    if parsed["birth_date"] is not None:
        person.full_name = parsed["full_name"]
        person.birth_date, person.gender = parsed["birth_date"], parsed["gender"]
        person.national_id = parsed["national_id"]
        session.add(person)
    return person


def valid(data: Any, today: date, *, new: bool = False) -> dict[str, Any]:
    """The member's fields and particulars, typed and consistent with one another
    (InvalidData naming the first field at fault if not); their dates have happened by
    `today`. The one rule of every way a member is written: the admin pages, the CLI,
    the API and the imports. `new`: a member being added (official or probationary)."""
    parsed = schema.parse(RECORD_FIELDS, data)
    for name, spec, day in schema.dates(RECORD_FIELDS, parsed):
        if day > today:
            raise InvalidData(
                name,
                f"{spec.label_vi}: ngày {day:%d/%m/%Y} ở tương lai; hôm nay là {today:%d/%m/%Y}",
                f"{spec.label_en}: {day:%d/%m/%Y} is in the future; today is {today:%d/%m/%Y}",
            )
    if len(parsed["full_name"]) > MAX_NAME:
        raise InvalidData(
            "full_name",
            f"Họ và tên tối đa {MAX_NAME} ký tự",
            f"The full name has at most {MAX_NAME} characters",
        )
    if new and parsed["status"] not in NEW_STATUSES:
        raise InvalidData(
            "status",
            "Đảng viên được thêm là chính thức hoặc dự bị (official, probationary)",
            "A member is added as official or probationary",
        )
    _check_dates(parsed)
    _check_particulars(parsed)
    return parsed


def _check_dates(parsed: dict[str, Any]) -> None:
    """Each status has the date it began: probation runs from the admission decision."""
    joined, official, status = parsed["joined_on"], parsed["official_since"], parsed["status"]
    if status == "official" and official is None:
        raise InvalidData(
            "official_since",
            "Đảng viên chính thức cần có ngày được công nhận chính thức",
            "An official member needs the date they became official",
        )
    if status == "probationary" and joined is None:
        raise InvalidData(
            "joined_on",
            "Đảng viên dự bị cần có ngày vào Đảng (quyết định kết nạp): thời gian dự bị tính"
            " từ ngày đó",
            "A probationary member needs the date they joined (the admission decision):"
            " probation runs from it",
        )
    if status == "probationary" and official is not None:
        raise InvalidData(
            "official_since",
            "Đảng viên dự bị chưa có ngày chính thức",
            "A probationary member has no official date",
        )
    if joined and official and official < joined:
        raise InvalidData(
            "official_since",
            "Ngày chính thức không được trước ngày vào Đảng",
            "Official since cannot precede the day the member joined",
        )


def _check_particulars(parsed: dict[str, Any]) -> None:
    """Birth date and gender make a Person: both, or neither (nor a national id)."""
    birth, gender, joined = parsed["birth_date"], parsed["gender"], parsed["joined_on"]
    if (birth is None) != (gender is None) or (parsed["national_id"] and birth is None):
        missing = "gender" if birth is not None else "birth_date"
        raise InvalidData(
            missing,
            "Ghi cả ngày sinh và giới tính (cùng số CCCD nếu có), hoặc bỏ trống cả hai",
            "Give both the birth date and the gender (with the national id, if any), or neither",
        )
    if birth and joined and birth >= joined:
        raise InvalidData(
            "birth_date",
            f"Ngày sinh {birth:%d/%m/%Y} không trước ngày vào Đảng {joined:%d/%m/%Y}",
            f"Born {birth:%d/%m/%Y}, not before joining the Party on {joined:%d/%m/%Y}",
        )


def _cell(session: Session, cell_id: int) -> Organisation:
    cell = session.get(Organisation, cell_id)
    if cell is None or cell.kind not in CELL_KINDS:
        raise InvalidData("cell_id", f"Không có chi bộ số {cell_id}", f"There is no cell {cell_id}")
    return cell


def _snapshot(member: Member, person: Person | None) -> admin_log.Values:
    """What the admin log keeps of a member: its fields and its particulars."""
    values = admin_log.snapshot(member, LOGGED)
    if person is not None:
        return values | admin_log.snapshot(person, PARTICULAR_NAMES)
    return values | dict.fromkeys(PARTICULAR_NAMES)


def _fill(member: Member, parsed: dict[str, Any]) -> None:
    member.full_name = parsed["full_name"]
    member.cell_id = parsed["cell_id"]
    member.status = parsed["status"]
    member.joined_on = parsed["joined_on"]
    member.official_since = parsed["official_since"]
