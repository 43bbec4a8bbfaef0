"""A believable demo: a province committee, two grassroots committees, five cells,
their members, one user per role, and ~40 candidates spread over every state.

`PATH` is the procedure walked step by step with plausible data; tests use it too.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, select
from werkzeug.security import generate_password_hash

from workflow.access import Actor
from workflow.engine import Engine
from workflow.models import Case, Member, Organisation, User

DEMO_PASSWORD = "ketnap-demo"

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương"]
MIDDLE_F = ["Thị", "Thu", "Ngọc", "Thị Minh", "Thanh"]
MIDDLE_M = ["Văn", "Đức", "Minh", "Quang", "Hữu"]
GIVEN_F = ["Hoa", "Lan", "Hương", "Mai", "Trang", "Linh", "Thảo", "Hằng", "Nga", "Yến"]
GIVEN_M = ["Hùng", "Dũng", "Nam", "Tuấn", "Long", "Sơn", "Thắng", "Hải", "Quân", "Phúc"]
VILLAGES = ["Thôn Hương Câu", "Thôn Trung Hưng", "Thôn Đông Lỗ", "Tổ dân phố 3", "Thôn Nà Pài"]
OCCUPATIONS = [
    "farmer",
    "worker",
    "civil_servant",
    "public_employee",
    "student",
    "armed_forces",
    "business_owner",
    "village_head",
    "other",
]


def vietnamese_name(rng: random.Random, gender: str) -> str:
    middle, given = (MIDDLE_F, GIVEN_F) if gender == "female" else (MIDDLE_M, GIVEN_M)
    return f"{rng.choice(FAMILY)} {rng.choice(middle)} {rng.choice(given)}"


@dataclass
class World:
    """Who acts where, so a script can walk a case without knowing the tree."""

    cell_ids: list[int]
    officials: dict[int, list[int]]  # cell id → official member ids
    secretary: dict[int, Actor]  # cell id → its secretary
    committee_officer: dict[int, Actor]  # cell id → officer of its grassroots committee
    authority_officer: dict[int, Actor]  # cell id → officer of its competent authority


@dataclass(frozen=True)
class Step:
    event: str
    after_days: int  # typical gap after the previous step
    actor: str  # secretary | committee | authority
    data: Callable[[World, int, date], dict[str, Any]]


def _sponsors(world: World, cell: int, on: date) -> dict[str, Any]:
    first, second = world.officials[cell][:2]
    since = on - timedelta(days=500)
    return {
        "sponsors": [
            {"member_id": first, "alongside_since": since.isoformat()},
            {"member_id": second, "alongside_since": since.isoformat()},
        ]
    }


def _dossier(world: World, cell: int, on: date) -> dict[str, Any]:
    return {
        "application_on": (on - timedelta(days=12)).isoformat(),
        "declaration_on": (on - timedelta(days=10)).isoformat(),
        "introductions_on": (on - timedelta(days=8)).isoformat(),
        "comments_on": (on - timedelta(days=3)).isoformat(),
        "requests_sent_on": on.isoformat(),
    }


PATH: tuple[Step, ...] = (
    Step(
        "enrol_in_class",
        20,
        "secretary",
        lambda w, c, on: {
            "class_name": f"Lớp nhận thức về Đảng khóa {on:%m/%Y}",
            "issuer": "Trung tâm Chính trị",
        },
    ),
    Step("pass_class", 12, "secretary", lambda w, c, on: {"certificate_no": f"GCN-{on:%y%m%d}"}),
    Step("assign_sponsors", 25, "secretary", _sponsors),
    Step("submit_dossier", 40, "secretary", _dossier),
    Step(
        "verify_background",
        35,
        "secretary",
        lambda w, c, on: {
            "requests_sent_on": (on - timedelta(days=30)).isoformat(),
            "conclusion": "meets_standards",
        },
    ),
    Step(
        "cell_vote",
        10,
        "secretary",
        lambda w, c, on: {"voters": 9, "votes_for": 9, "resolution_ref": f"NQ-{on:%y%m%d}"},
    ),
    Step(
        "committee_vote",
        20,
        "committee",
        lambda w, c, on: {"members": 7, "votes_for": 7, "resolution_ref": f"NQ-ĐU-{on:%y%m%d}"},
    ),
    Step("decide_admission", 25, "authority", lambda w, c, on: {"decision_no": f"{on:%d%m}-QĐ/ĐU"}),
    Step("hold_ceremony", 20, "secretary", lambda w, c, on: {"helpers": [w.officials[c][0]]}),
    Step(
        "complete_theory_class",
        120,
        "secretary",
        lambda w, c, on: {"class_name": "Lớp bồi dưỡng đảng viên mới", "certificate_no": "LL-1"},
    ),
    Step("record_self_review", 210, "secretary", lambda w, c, on: {}),
    Step(
        "record_helper_comment",
        5,
        "secretary",
        lambda w, c, on: {
            "helper_id": w.officials[c][0],
            "comment": "Gương mẫu, nhiệt tình, hoàn thành tốt nhiệm vụ.",
        },
    ),
    Step(
        "cell_confirm_vote",
        40,
        "secretary",
        lambda w, c, on: {"voters": 9, "votes_for": 8, "resolution_ref": f"NQ-CT-{on:%y%m%d}"},
    ),
    Step(
        "committee_confirm_vote",
        15,
        "committee",
        lambda w, c, on: {"members": 7, "votes_for": 7, "resolution_ref": f"NQ-CT-{on:%y%m%d}"},
    ),
    Step("confirm", 15, "authority", lambda w, c, on: {"decision_no": f"{on:%d%m}-QĐ/CT"}),
)
STATE_AFTER = {
    "enrol_in_class": "in_class",
    "pass_class": "class_passed",
    "assign_sponsors": "sponsored",
    "submit_dossier": "dossier_complete",
    "verify_background": "verified",
    "cell_vote": "cell_resolved",
    "committee_vote": "committee_resolved",
    "decide_admission": "admission_decided",
    "hold_ceremony": "probationary",
    "cell_confirm_vote": "confirmation_cell_resolved",
    "committee_confirm_vote": "confirmation_committee_resolved",
    "confirm": "official",
}


def steps_to(target: str) -> list[Step]:
    """The steps from `nominated` to `target` (one of STATE_AFTER's states)."""
    if target == "nominated":
        return []
    out: list[Step] = []
    for step in PATH:
        out.append(step)
        if STATE_AFTER.get(step.event) == target:
            return out
    raise ValueError(f"no scripted path to {target}")


def walk(
    engine: Engine, world: World, case_id: int, cell: int, start: date, steps: list[Step]
) -> date:
    """Advance a case through `steps` from `start`; returns the last act's date."""
    on = start
    for step in steps:
        on = on + timedelta(days=step.after_days)
        actor = {
            "secretary": world.secretary,
            "committee": world.committee_officer,
            "authority": world.authority_officer,
        }[step.actor][cell]
        with engine.session() as session:
            case = session.get(Case, case_id)
            assert case is not None
            version = case.version
        engine.advance(
            case_id, step.event, step.data(world, cell, on), actor, version, on=on.isoformat()
        )
    return on


def path_days(steps: list[Step]) -> int:
    return sum(s.after_days for s in steps)


# ── the demo organisation tree ────────────────────────────────────────────
def add_organisation(
    session: Session, name: str, kind: str, parent: Organisation | None, may_admit: bool = False
) -> Organisation:
    org = Organisation(
        name=name, kind=kind, parent_id=parent.id if parent else None, may_admit=may_admit
    )
    session.add(org)
    session.flush()
    org.path = f"{parent.path if parent else '/'}{org.id}/"
    session.add(org)
    return org


def add_user(
    session: Session,
    username: str,
    role: str,
    org: Organisation | None,
    full_name: str,
    member_id: int | None = None,
    password: str = DEMO_PASSWORD,
    email: str | None = None,
) -> User:
    user = User(
        username=username,
        role=role,
        organisation_id=org.id if org else None,
        full_name=full_name,
        member_id=member_id,
        password_hash=generate_password_hash(password),
        email=email or f"{username}@ketnap.local",
    )
    session.add(user)
    return user


def build_world(session: Session, rng: random.Random, members_per_cell: int = 9) -> World:
    province = add_organisation(session, "Đảng bộ tỉnh Bắc Giang", "committee", None, True)
    dong_lo = add_organisation(
        session, "Đảng ủy xã Đông Lỗ", "grassroots_committee", province, True
    )
    bang_lung = add_organisation(
        session, "Đảng ủy thị trấn Bằng Lũng", "grassroots_committee", province, False
    )
    cells = [
        add_organisation(session, name, "cell", parent)
        for name, parent in (
            ("Chi bộ thôn Hương Câu", dong_lo),
            ("Chi bộ thôn Trung Hưng", dong_lo),
            ("Chi bộ Trường THCS Đông Lỗ", dong_lo),
            ("Chi bộ Tổ dân phố 3", bang_lung),
            ("Chi bộ Trường Mầm non Bằng Lũng", bang_lung),
        )
    ]
    officials: dict[int, list[int]] = {}
    for cell in cells:
        assert cell.id is not None
        officials[cell.id] = []
        for n in range(members_per_cell + 2):
            gender = rng.choice(["female", "male"])
            status = "official" if n < members_per_cell else "probationary"
            joined = date(2000 + rng.randrange(20), rng.randrange(1, 13), 1)
            member = Member(
                full_name=vietnamese_name(rng, gender),
                cell_id=cell.id,
                status=status,
                joined_on=joined,
                official_since=joined.replace(year=joined.year + 1)
                if status == "official"
                else None,
            )
            session.add(member)
            session.flush()
            if status == "official":
                assert member.id is not None
                officials[cell.id].append(member.id)
    session.flush()

    def actor_of(user: User, org: Organisation) -> Actor:
        return Actor(user.username, user.role, org.id, org.path, user.member_id)

    first = cells[0]
    assert first.id is not None
    add_user(session, "secretary", "secretary", first, "Nguyễn Văn Bình (Bí thư chi bộ)")
    add_user(
        session,
        "sponsor",
        "sponsor",
        first,
        "Đảng viên giới thiệu",
        member_id=officials[first.id][0],
    )
    add_user(session, "officer", "officer", dong_lo, "Trần Thị Mai (Ban Tổ chức Đảng ủy)")
    add_user(session, "auditor", "auditor", province, "Lê Văn Cường (Ủy ban Kiểm tra)")
    add_user(session, "admin", "admin", province, "Quản trị hệ thống")
    add_user(session, "officer-tinh", "officer", province, "Ban Tổ chức Tỉnh ủy")
    add_user(session, "officer-bang-lung", "officer", bang_lung, "Đảng ủy thị trấn Bằng Lũng")
    secretaries: dict[int, Actor] = {}
    for i, cell in enumerate(cells):
        assert cell.id is not None
        name = "secretary" if i == 0 else f"secretary-{i + 1}"
        if i:
            add_user(session, name, "secretary", cell, f"Bí thư {cell.name}")
        secretaries[cell.id] = Actor(name, "secretary", cell.id, cell.path)
    committee: dict[int, Actor] = {}
    authority: dict[int, Actor] = {}
    for cell in cells:
        assert cell.id is not None
        parent = dong_lo if cell.parent_id == dong_lo.id else bang_lung
        name = "officer" if parent is dong_lo else "officer-bang-lung"
        committee[cell.id] = Actor(name, "officer", parent.id, parent.path)
        authority[cell.id] = (
            committee[cell.id]
            if parent.may_admit
            else Actor("officer-tinh", "officer", province.id, province.path)
        )
    session.commit()
    return World(
        [c.id for c in cells if c.id is not None], officials, secretaries, committee, authority
    )


def nomination(
    rng: random.Random,
    cell_id: int,
    on: date,
    age_years: int | None = None,
) -> dict[str, Any]:
    gender = rng.choice(["female", "male"])
    age = age_years if age_years is not None else rng.randrange(19, 45)
    birth = date(on.year - age, rng.randrange(1, 13), rng.randrange(1, 28))
    youth = age <= 30 and rng.random() < 0.3
    return {
        "person": {
            "full_name": vietnamese_name(rng, gender),
            "birth_date": birth.isoformat(),
            "gender": gender,
            "ethnicity": rng.choice(["Kinh"] * 4 + ["Tày", "Nùng"]),
            "religion": None,
            "education": "12/12",
            "occupation": rng.choice(OCCUPATIONS),
            "village": rng.choice(VILLAGES),
            "youth_union_member": youth,
            "trade_union_member": False,
            "national_id": f"0{rng.randrange(10**10, 10**11)}",
        },
        "cell_id": cell_id,
        "nominated_by": "youth_union" if youth else "cell",
        "nomination_ref": f"{rng.randrange(1, 99)}-GT",
    }


DEMO_TARGETS = (
    ["nominated"] * 3
    + ["in_class"] * 3
    + ["class_passed"] * 3
    + ["sponsored"] * 3
    + ["dossier_complete"] * 3
    + ["verified"] * 3
    + ["cell_resolved"] * 3
    + ["committee_resolved"] * 2
    + ["admission_decided"] * 3
    + ["probationary"] * 7
    + ["confirmation_cell_resolved"] * 2
    + ["official"] * 5
)


def populate(engine: Engine, seed: int = 2026) -> World:
    """Build the demo organisation and walk ~40 candidates to believable states."""
    rng = random.Random(seed)
    today = engine.clock.today()
    with engine.session() as session:
        world = build_world(session, rng)
    for n, target in enumerate(DEMO_TARGETS):
        cell = world.cell_ids[n % len(world.cell_ids)]
        steps = steps_to(target)
        if target == "probationary" and n % 2:
            steps = steps_to("probationary") + list(PATH[9:11])  # class and self-review done
        start = today - timedelta(days=path_days(steps) + rng.randrange(3, 40))
        # Youth Union members of youth age need the union's resolution: keep the demo simple
        data = nomination(rng, cell, start)
        data["person"]["youth_union_member"] = False
        outcome = engine.nominate(data, world.secretary[cell], on=start.isoformat())
        assert outcome.case.id is not None
        walk(engine, world, outcome.case.id, cell, start, steps)
    for event, data in (
        ("reject", {"by": "cell", "reason": "Không đủ tiêu chuẩn"}),
        ("withdraw", {"reason": "Chuyển công tác ra khỏi địa phương"}),
    ):
        cell = world.cell_ids[0]
        start = today - timedelta(days=200)
        person = nomination(rng, cell, start) | {"nominated_by": "cell"}
        outcome = engine.nominate(person, world.secretary[cell], on=start.isoformat())
        assert outcome.case.id is not None
        steps = steps_to("class_passed")
        last = walk(engine, world, outcome.case.id, cell, start, steps)
        engine.advance(
            outcome.case.id,
            event,
            data,
            world.secretary[cell],
            outcome.case.version + len(steps),
            on=(last + timedelta(days=5)).isoformat(),
        )
    return world


def has_data(engine: Engine) -> bool:
    with engine.session() as session:
        return session.exec(select(Organisation.id).limit(1)).first() is not None


# ── historical rows for the importer ──────────────────────────────────────
def _days_after_nomination() -> dict[str, int]:
    """Each PATH event's day counted from the nomination."""
    days, offsets = 0, {}
    for step in PATH:
        days += step.after_days
        offsets[step.event] = days
    return offsets


def import_row(
    n: int,
    cell: int,
    sponsors: list[int],
    start: date,
    *,
    target: str = "official",
    committee: bool = True,
    full_name: str | None = None,
    occupation: str = "farmer",
    village: str = "Thôn Hương Câu",
) -> dict[str, Any]:
    """A row of the importer's `cases` layout for a candidate nominated on `start` who
    walked PATH to `target` — historical data for the import, its tests and benchmark.
    `committee`: the cell's committee votes (it may not admit by itself)."""
    from workflow.exchange import layouts  # the importer replays through the engine, like walk()

    sponsor1, sponsor2 = sponsors[:2]
    row: dict[str, Any] = {
        "full_name": full_name or f"Nguyễn Thị Thử {n}",
        "birth_date": date(1990, 1, 1) + timedelta(days=n % 3000),
        "gender": "female" if n % 2 else "male",
        "ethnicity": "Tày" if n % 5 == 0 else "Kinh",
        "occupation": occupation,
        "village": village,
        "national_id": f"0{n:011d}",
        "cell": cell,
        "nominated_on": start,
        "nominated_by": "cell",
        "nomination_ref": f"{n}-GT/CB",
        "target_state": target,
        "class_name": f"Lớp nhận thức về Đảng khóa {start:%m/%Y}",
        "class_issuer": "Trung tâm Chính trị huyện",
        "certificate_no": f"GCN-{n}",
        "sponsor1": sponsor1,
        "sponsor1_since": start - timedelta(days=500),
        "sponsor2": sponsor2,
        "sponsor2_since": start - timedelta(days=500),
        "cell_voters": 9,
        "cell_votes_for": 9,
        "cell_resolution_ref": f"{n}-NQ/CB",
        "committee_members": 7,
        "committee_votes_for": 7,
        "committee_resolution_ref": f"{n}-NQ/ĐU",
        "decision_no": f"{n}-QĐ/ĐU",
        "theory_certificate_no": f"LL-{n}",
        "confirmation_voters": 9,
        "confirmation_votes_for": 8,
        "confirmation_resolution_ref": f"{n}-NQ/CT",
        "confirmation_committee_members": 7,
        "confirmation_committee_votes_for": 7,
        "confirmation_committee_resolution_ref": f"{n}-NQ/CT-ĐU",
        "official_decision_no": f"{n}-QĐ/CT",
    }
    reached = layouts.PATH_STATES.index(target) if target in layouts.PATH_STATES else 0
    steps = list(layouts.MAIN_STEPS[:reached])
    if reached >= layouts.PATH_STATES.index("probationary"):
        steps += layouts.PROBATION_STEPS
    offsets = _days_after_nomination()
    for step in steps:
        if committee or step.event not in ("committee_vote", "committee_confirm_vote"):
            row[step.date_column] = start + timedelta(days=offsets[step.event])
    return row
