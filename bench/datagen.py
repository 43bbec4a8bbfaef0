"""Benchmark data: N cases over every state and a decade of dates, bulk-inserted.

The rows are written straight into the tables (executemany on SQLite, COPY on
PostgreSQL) — they BYPASS the engine. That is only acceptable for benchmark data,
and only because each case is built to be what the engine would have left:
its dates follow the procedure's steps (demo.PATH), its CaseDeadline rows are
`workflow.deadlines.live_deadlines` of the case, `next_due` is their minimum, and
its history is a valid hash chain (`ketnap verify` passes): a `nominate` row and,
for a case past `nominated`, one row for the event that brought it to its state.

Organisations: one province, `grassroots` committees (~100), ten cells each (~1000);
15 official members per cell; targets, classes and villages for the reports.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from pydantic_core import PydanticUndefined
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel
from werkzeug.security import generate_password_hash

from bench.figures import log
from workflow import db, history, models, process, rules, stays, tallies
from workflow.config import RuleParameters
from workflow.deadlines import live_deadlines
from workflow.history import ledger
from workflow.ops import demo
from workflow.text import fold

PASSWORD = demo.DEMO_PASSWORD
CELLS_PER_GRASSROOTS = 10
MEMBERS_PER_CELL = 15
BATCH = 20_000

# Share of cases in each open state, in proportion to how long a case stays there
# (days, from demo.PATH's gaps); the terminal states take the rest.
OPEN_SHARE = 0.55
DWELL = {
    "nominated": 20,
    "in_class": 12,
    "class_passed": 25,
    "sponsored": 40,
    "dossier_complete": 35,
    "verified": 10,
    "cell_resolved": 20,
    "committee_resolved": 25,
    "admission_decided": 20,
    "probationary": 365,
    "confirmation_cell_resolved": 15,
    "confirmation_committee_resolved": 15,
}
TERMINAL = {"official": 0.36, "rejected": 0.035, "withdrawn": 0.035, "removed": 0.02}
STALLED = 0.05  # open cases forgotten for up to three years: overdue, escalated
STEP_STATE = {**demo.STATE_AFTER}
PROBATION_PAPERS = [
    s
    for s in demo.PATH
    if s.event in {"complete_theory_class", "record_self_review", "record_helper_comment"}
]
ETHNICITIES = ["Kinh"] * 8 + ["Tày", "Nùng", "Mường", "Dao", "H'Mông", "Sán Dìu"]
RELIGIONS = [None] * 9 + ["Phật giáo", "Công giáo"]
EDUCATION = ["12/12"] * 6 + ["9/12", "Đại học", "Cao đẳng", "Thạc sĩ"]


@dataclass
class Dataset:
    """What was generated, and what the other benchmarks need to know of it."""

    url: str
    cases: int
    today: date
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    province_id: int = 1
    grassroots_ids: list[int] = field(default_factory=list)
    cell_ids: list[int] = field(default_factory=list)
    states: dict[str, int] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


# ── the tree, members, users ─────────────────────────────────────────────
@dataclass
class Tree:
    grassroots: list[dict[str, Any]]
    cells: list[dict[str, Any]]
    officials: dict[int, list[int]]  # cell id → official member ids
    grassroots_of: dict[int, int]  # cell id → grassroots id
    paths: dict[int, str]


def build_tree(
    grassroots_count: int, rng: random.Random, today: date, cells_each: int = CELLS_PER_GRASSROOTS
) -> tuple[Tree, list]:
    orgs: list[dict[str, Any]] = [
        {
            "id": 1,
            "name": "Đảng bộ tỉnh (benchmark)",
            "kind": "committee",
            "parent_id": None,
            "may_admit": True,
            "path": "/1/",
        }
    ]
    grassroots, cells = [], []
    next_id = 2
    for g in range(grassroots_count):
        kind = "phường" if g % 3 == 0 else "xã"
        node = {
            "id": next_id,
            "name": f"Đảng ủy {kind} số {g + 1}",
            "kind": "grassroots_committee",
            "parent_id": 1,
            "may_admit": g % 5 != 4,
            "path": f"/1/{next_id}/",
        }
        grassroots.append(node)
        next_id += 1
    for node in grassroots:
        for c in range(cells_each):
            cells.append(
                {
                    "id": next_id,
                    "name": f"Chi bộ thôn {c + 1} ({node['name']})",
                    "kind": "cell",
                    "parent_id": node["id"],
                    "may_admit": False,
                    "path": f"{node['path']}{next_id}/",
                }
            )
            next_id += 1
    orgs += grassroots + cells
    members: list[dict[str, Any]] = []
    officials: dict[int, list[int]] = {}
    for cell in cells:
        officials[cell["id"]] = []
        for _ in range(MEMBERS_PER_CELL):
            gender = rng.choice(["female", "male"])
            joined = today - timedelta(days=rng.randrange(3 * 365, 30 * 365))
            member_id = len(members) + 1
            members.append(
                {
                    "id": member_id,
                    "full_name": demo.vietnamese_name(rng, gender),
                    "cell_id": cell["id"],
                    "status": "official",
                    "joined_on": joined,
                    "official_since": joined + timedelta(days=366),
                    "person_id": None,
                }
            )
            officials[cell["id"]].append(member_id)
    tree = Tree(
        grassroots,
        cells,
        officials,
        {c["id"]: c["parent_id"] for c in cells},
        {o["id"]: o["path"] for o in orgs},
    )
    return tree, [("organisation", orgs), ("member", members)]


def users(tree: Tree) -> list[dict[str, Any]]:
    """One user per role; the web benchmark logs in as them."""
    password_hash = generate_password_hash(PASSWORD)
    grassroots = tree.grassroots[0]
    cell = next(c for c in tree.cells if c["parent_id"] == grassroots["id"])
    rows = [
        ("admin", "admin", 1, None),
        ("auditor", "auditor", 1, None),
        ("officer-tinh", "officer", 1, None),
        ("officer", "officer", grassroots["id"], None),
        ("secretary", "secretary", cell["id"], None),
        ("sponsor", "sponsor", cell["id"], tree.officials[cell["id"]][0]),
    ]
    return [
        {
            "id": n + 1,
            "username": name,
            "full_name": name,
            "password_hash": password_hash,
            "role": role,
            "organisation_id": org,
            "member_id": member,
            "email": f"{name}@ketnap.local",
        }
        for n, (name, role, org, member) in enumerate(rows)
    ]


# ── classes, targets, villages (the reports' inputs) ─────────────────────
def months_between(first: date, last: date) -> Iterator[date]:
    month = first.replace(day=1)
    while month <= last:
        yield month
        month = (month + timedelta(days=32)).replace(day=1)


def courses(tree: Tree, first: date, today: date) -> tuple[list[dict], dict[tuple, int]]:
    """An awareness and a theory class per grassroots committee per month."""
    rows: list[dict[str, Any]] = []
    index: dict[tuple[int, str, date], int] = {}
    for node in tree.grassroots:
        for month in months_between(first, today):
            for kind, name in (
                ("awareness", f"Lớp nhận thức về Đảng khóa {month:%m/%Y}"),
                ("theory", f"Lớp bồi dưỡng đảng viên mới khóa {month:%m/%Y}"),
            ):
                course_id = len(rows) + 1
                rows.append(
                    {
                        "id": course_id,
                        "kind": kind,
                        "name": name,
                        "issuer": "Trung tâm Chính trị",
                        "organisation_id": node["id"],
                        "starts_on": month,
                        "ends_on": month + timedelta(days=5),
                    }
                )
                index[(node["id"], kind, month)] = course_id
    return rows, index


def report_inputs(
    tree: Tree, course_rows: list[dict], cases: int, today: date, rng: random.Random
) -> list[tuple[str, list[dict[str, Any]]]]:
    """Targets, headcounts and villages — for the tables that exist in this schema."""
    tables = SQLModel.metadata.tables
    out: list[tuple[str, list[dict[str, Any]]]] = []
    per_year = max(1, int(cases * TERMINAL["official"] / 10 / max(1, len(tree.grassroots))))
    if "admissiontarget" in tables:
        targets = []
        for node in [{"id": 1}, *tree.grassroots]:
            scale = len(tree.grassroots) if node["id"] == 1 else 1
            for year in range(today.year - 10, today.year + 1):
                targets.append(
                    {
                        "organisation_id": node["id"],
                        "kind": "year",
                        "period_start": date(year, 1, 1),
                        "period_end": date(year, 12, 31),
                        "number": int(per_year * scale * rng.uniform(0.9, 1.3)),
                        "ref": f"NQ {year}",
                        "set_by": "admin",
                    }
                )
            for start in (today.year - 10, today.year - 5):
                targets.append(
                    {
                        "organisation_id": node["id"],
                        "kind": "congress_term",
                        "period_start": date(start, 1, 1),
                        "period_end": date(start + 4, 12, 31),
                        "number": int(per_year * scale * 5 * 1.1),
                        "ref": f"Nghị quyết Đại hội {start}-{start + 5}",
                        "set_by": "admin",
                    }
                )
        out.append(("admissiontarget", _with_ids(targets)))
    if "courseheadcount" in tables:
        counted = [c for c in course_rows if rng.random() < 0.2]
        out.append(
            (
                "courseheadcount",
                _with_ids(
                    {
                        "course_id": c["id"],
                        "attendees": rng.randrange(20, 120),
                        "recorded_by": "admin",
                    }
                    for c in counted
                ),
            )
        )
    if "village" in tables:
        villages, census, officials = [], [], []
        for node in tree.grassroots:
            for v in range(10):
                village_id = len(villages) + 1
                villages.append(
                    {"id": village_id, "organisation_id": node["id"], "name": f"Thôn {v + 1}"}
                )
                for years_ago in (5, 1):
                    census.append(
                        {
                            "village_id": village_id,
                            "counted_on": date(today.year - years_ago, 1, 1),
                            "party_members": rng.choice([0, 0, 3, 8, 15, 30]),
                        }
                    )
                for role in ("head", "deputy"):
                    member = rng.random() < 0.6
                    officials.append(
                        {
                            "village_id": village_id,
                            "role": role,
                            "full_name": demo.vietnamese_name(rng, "male"),
                            "starts_on": date(today.year - 4, 1, 1),
                            "party_member_since": date(2010, 1, 1) if member else None,
                        }
                    )
        out.append(("village", villages))
        if "villagecensus" in tables:
            out.append(("villagecensus", _with_ids(census)))
        if "villageofficial" in tables:
            out.append(("villageofficial", _with_ids(officials)))
    return out


def _with_ids(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": n + 1, **row} for n, row in enumerate(rows)]


# ── one case ─────────────────────────────────────────────────────────────
class CaseFactory:
    """Builds one case and all its rows, as the engine would have left them."""

    def __init__(self, tree: Tree, course_index: dict, today: date, rng: random.Random) -> None:
        self.tree, self.course_index, self.today, self.rng = tree, course_index, today, rng
        self.params = RuleParameters()
        self.first_day = today - timedelta(days=3652)
        self.next_member_id = sum(len(v) for v in tree.officials.values()) + 1
        self.next_ids = {
            "history": 1,
            "deadline": 1,
            "sponsorship": 1,
            "helper": 1,
            "attendance": 1,
            "reminder": 1,
            "stay": 1,
        }
        self.reminders: list[dict[str, Any]] = []
        self.ledger_seq, self.ledger_hash = 0, history.GENESIS  # the ledger over all cases
        states = list(DWELL) + list(TERMINAL)
        total_dwell = sum(DWELL.values())
        weights = [OPEN_SHARE * d / total_dwell for d in DWELL.values()] + list(TERMINAL.values())
        self.states, self.weights = states, weights
        self.cell_ids = [c["id"] for c in tree.cells]

    def pick_state(self) -> str:
        return self.rng.choices(self.states, self.weights)[0]

    def steps_for(self, state: str) -> tuple[list[demo.Step], str | None]:
        """The PATH steps a case in `state` went through, and its closing event if any."""
        rng = self.rng
        if state in ("rejected", "withdrawn"):
            before = rng.choice(process.BEFORE_PROBATION)
            return demo.steps_to(before), "reject" if state == "rejected" else "withdraw"
        if state == "removed":
            return demo.steps_to("probationary") + PROBATION_PAPERS[: rng.randrange(3)], "remove"
        if state == "official":
            return list(demo.PATH), None
        return demo.steps_to(state), None

    def dates(self, steps: list[demo.Step], closing: str | None, state: str) -> list[date]:
        """The date of each act (nomination first), ending on a plausible last date."""
        rng = self.rng
        gaps = [max(1, round(s.after_days * rng.uniform(0.7, 1.4))) for s in steps]
        if closing:
            gaps.append(rng.randrange(10, 120))
        total = sum(gaps)
        if state in DWELL:
            stalled = rng.random() < STALLED
            back = rng.randrange(0, 3 * 365) if stalled else rng.randrange(0, DWELL[state] * 2)
            last = self.today - timedelta(days=back)
        else:
            span = max(1, (self.today - self.first_day).days - total)
            last = self.first_day + timedelta(days=total + rng.randrange(span))
        on = [last - timedelta(days=total)]
        for gap in gaps:
            on.append(on[-1] + timedelta(days=gap))
        return on

    def build(self, case_id: int) -> dict[str, list[dict[str, Any]]]:
        rng, tree = self.rng, self.tree
        state = self.pick_state()
        steps, closing = self.steps_for(state)
        on = self.dates(steps, closing, state)
        cell_id = rng.choice(self.cell_ids)
        grassroots_id = tree.grassroots_of[cell_id]
        nominated_on = on[0]
        gender = rng.choice(["female", "male"])
        age = rng.randrange(19, 45)
        youth = age <= 30 and rng.random() < 0.5
        full_name = demo.vietnamese_name(rng, gender)
        person = {
            "id": case_id,
            "full_name": full_name,
            "name_key": fold(full_name),
            "birth_date": date(nominated_on.year - age, rng.randrange(1, 13), rng.randrange(1, 28)),
            "gender": gender,
            "ethnicity": rng.choice(ETHNICITIES),
            "religion": rng.choice(RELIGIONS),
            "education": rng.choice(EDUCATION),
            "occupation": rng.choice(demo.OCCUPATIONS),
            "village": f"Thôn {rng.randrange(1, 11)}",
            "youth_union_member": youth,
            "trade_union_member": rng.random() < 0.2,
            "national_id": f"0{10**10 + case_id}",
        }
        case: dict[str, Any] = {
            "id": case_id,
            "person_id": case_id,
            "cell_id": cell_id,
            "org_path": tree.paths[cell_id],
            "state": "nominated",
            "open": True,
            "nominated_by": "youth_union" if youth else "cell",
            "nomination_ref": f"{rng.randrange(1, 99)}-GT",
            "nominated_on": nominated_on,
            "extensions": "{}",
            "failed_confirm_votes": 0,
            "escalated": False,
            "imported": False,
            "member_id": None,
            "version": 0,
            "head_hash": "",
        }
        rows: dict[str, list[dict[str, Any]]] = {
            "person": [person],
            "member": [],
            "sponsorship": [],
            "helperassignment": [],
            "attendance": [],
        }
        previous = "nominated"
        last_event, last_from = "nominate", None
        case["state_since"] = nominated_on
        rows["case_stay"] = []
        for step, day in zip(steps, on[1:], strict=False):
            last_from = case["state"]
            self.apply(step.event, day, case, rows, grassroots_id)
            previous = STEP_STATE.get(step.event, previous)
            if previous != case["state"]:
                rows["case_stay"].append(self.stay(case, step.event, previous, day))
                case["state_since"] = day  # the act that brought the case into its state
            case["state"] = previous
            last_event = step.event
        if closing:
            last_from = case["state"]
            self.apply(closing, on[-1], case, rows, grassroots_id)
            rows["case_stay"].append(self.stay(case, closing, state, on[-1]))
            case["state"], case["state_since"] = state, on[-1]
            last_event = closing
        case["updated_at"] = datetime.combine(on[-1], datetime.min.time()).replace(hour=3)
        rows["case"] = [case]
        rows["historyevent"] = self.history(case, last_event, last_from, on)
        rows["ledger"] = [self.chain(row) for row in rows["historyevent"]]
        rows["casedeadline"] = self.deadlines(case)
        rows["reminder"], self.reminders = self.reminders, []
        return rows

    def apply(self, event: str, day: date, case: dict, rows: dict, grassroots_id: int) -> None:
        """The fields each event's effect sets (workflow/effects.py), as plain values."""
        rng = self.rng
        if event == "enrol_in_class":
            case["class_started_on"] = day
            self.attend(rows, case, grassroots_id, "awareness", day)
        elif event == "pass_class":
            case["certificate_on"] = day
            case["certificate_no"] = f"GCN-{day:%y%m%d}"
        elif event == "assign_sponsors":
            for member_id in rng.sample(self.tree.officials[case["cell_id"]], 2):
                rows["sponsorship"].append(
                    {
                        "id": self.take("sponsorship"),
                        "case_id": case["id"],
                        "member_id": member_id,
                        "alongside_since": day - timedelta(days=rng.randrange(400, 2000)),
                    }
                )
        elif event == "submit_dossier":
            case["verification_requested_on"] = day
        elif event == "cell_vote":
            case["cell_resolution_on"] = day
        elif event == "committee_vote":
            case["committee_resolution_on"] = day
        elif event == "decide_admission":
            case["decision_on"] = case["decision_received_on"] = day
            case["decision_no"] = f"{day:%d%m}-QĐ/ĐU"
        elif event == "hold_ceremony":
            self.ceremony(day, case, rows)
        elif event == "complete_theory_class":
            case["theory_class_on"] = day
            self.attend(rows, case, grassroots_id, "theory", day)
        elif event == "record_self_review":
            case["self_review_on"] = day
        elif event == "record_helper_comment":
            case["helper_comment_on"] = day
        elif event == "cell_confirm_vote":
            case["confirmation_cell_resolution_on"] = day
        elif event == "confirm":
            case["official_on"] = rules.official_date(case["probation_end"])
            rows["member"][-1].update(status="official", official_since=case["official_on"])
            case["open"], case["closed_on"] = False, day
        elif event == "remove":
            rows["member"][-1].update(status="removed")
            case["open"], case["closed_on"] = False, day
        elif event in ("reject", "withdraw"):
            case["open"], case["closed_on"] = False, day

    def ceremony(self, day: date, case: dict, rows: dict) -> None:
        case["ceremony_on"] = day
        case["probation_end"] = rules.probation_end(day, self.params.probation_months)
        member_id = self.next_member_id
        self.next_member_id += 1
        person = rows["person"][0]
        rows["member"].append(
            {
                "id": member_id,
                "full_name": person["full_name"],
                "cell_id": case["cell_id"],
                "status": "probationary",
                "joined_on": rules.seniority_start(case["decision_on"]),
                "official_since": None,
                "person_id": person["id"],
            }
        )
        case["member_id"] = member_id
        helper = self.rng.choice(self.tree.officials[case["cell_id"]])
        rows["helperassignment"].append(
            {"id": self.take("helper"), "case_id": case["id"], "member_id": helper}
        )

    def attend(self, rows: dict, case: dict, grassroots_id: int, kind: str, day: date) -> None:
        course_id = self.course_index.get((grassroots_id, kind, day.replace(day=1)))
        if course_id is not None:
            rows["attendance"].append(
                {"id": self.take("attendance"), "course_id": course_id, "case_id": case["id"]}
            )

    def take(self, kind: str) -> int:
        value = self.next_ids[kind]
        self.next_ids[kind] = value + 1
        return value

    def chain(self, row: dict[str, Any]) -> dict[str, Any]:
        """The history row's ledger entry, chained in generation order (workflow.history.ledger)."""
        self.ledger_seq += 1
        entry = SimpleNamespace(
            seq=self.ledger_seq,
            case_id=row["case_id"],
            case_seq=row["seq"],
            history_hash=row["hash"],
            recorded_at=row["recorded_at"],
            prev_hash=self.ledger_hash,
            hash="",
        )
        entry.hash = self.ledger_hash = ledger.entry_hash(entry)  # type: ignore[arg-type]
        return vars(entry)

    def stay(self, case: dict, event: str, next_state: str, day: date) -> dict[str, Any]:
        """The stay the case leaves on `day` (workflow/stays.py, as the engine writes it)."""
        org_path, entered = case["org_path"], case["state_since"]
        row = stays.stay(case["id"], org_path, case["state"], entered, day, event, next_state)
        return {"id": self.take("stay"), **row}

    def history(self, case: dict, last_event: str, last_from: str | None, on: list[date]) -> list:
        """A valid chain: `nominate`, then the event that brought the case to its state."""
        events = [("nominate", None, "nominated", on[0])]
        if last_event != "nominate":
            events.append((last_event, last_from, case["state"], on[-1]))
        rows, previous = [], history.GENESIS
        for seq, (event, from_state, to_state, day) in enumerate(events, start=1):
            actor = (
                "officer"
                if event
                in {
                    "committee_vote",
                    "decide_admission",
                    "confirm",
                    "remove",
                    "committee_confirm_vote",
                }
                else "secretary"
            )
            row = SimpleNamespace(
                id=self.take("history"),
                case_id=case["id"],
                seq=seq,
                event=event,
                outcome="accepted",
                from_state=from_state,
                to_state=to_state,
                on=day,
                recorded_at=datetime.combine(day, datetime.min.time()).replace(hour=3),
                actor=actor,
                data="{}",
                note=None,
                prev_hash=previous,
                hash="",
            )
            row.hash = history.compute_hash(row)  # type: ignore[arg-type]
            previous = row.hash
            rows.append(vars(row))
        case["version"], case["head_hash"] = len(rows), previous
        return rows

    def deadlines(self, case: dict) -> list[dict[str, Any]]:
        wanted = live_deadlines(SimpleNamespace(**{**_CASE_BLANK, **case}), self.params)  # type: ignore[arg-type]
        case["next_due"] = min(wanted.values()) if wanted else None
        self.remind_yesterday(case, wanted)
        return [
            {"id": self.take("deadline"), "case_id": case["id"], "deadline": d, "due": due}
            for d, due in wanted.items()
        ]

    def remind_yesterday(self, case: dict, wanted: dict[str, date]) -> None:
        """The steady state: yesterday's sweep recorded the reminders of yesterday's stage,
        so today's sweep finds only what moved on since (not a decade of backlog)."""
        if _reminders is None:
            return
        yesterday = self.today - timedelta(days=1)
        for deadline_id, due in wanted.items():
            spec = process.deadline(deadline_id)
            stage = _reminders.reminder_stage(spec, due, yesterday, self.params)
            if stage is None:
                continue
            self.reminders.append(
                {
                    "id": self.take("reminder"),
                    "case_id": case["id"],
                    "deadline": deadline_id,
                    "due": due,
                    "stage": stage[0],
                    "warn": stage[1],
                    "cell_id": case["cell_id"],
                    "cause": "deadline",
                    "swept_on": yesterday,
                    "created_at": datetime.combine(yesterday, datetime.min.time()),
                }
            )


try:  # the reminders' own rule for stages, when that module exists
    from workflow.reminders import stages as _reminders
except ImportError:  # pragma: no cover
    _reminders = None  # type: ignore[assignment]

_CASE_BLANK = {
    name: None
    for name in models.Case.model_fields
    if name not in {"id", "state", "open", "extensions"}
}


# ── writing ──────────────────────────────────────────────────────────────
def _defaults(table_name: str) -> dict[str, Any]:
    model = next(m for m in _models() if getattr(m, "__tablename__", None) == table_name)
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.default is not PydanticUndefined:
            out[name] = info.default
    return out


def _models() -> list[type[SQLModel]]:
    found: list[type[SQLModel]] = []
    pending = list(SQLModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if getattr(model, "__table__", None) is not None:
            found.append(model)
    return found


class Writer:
    """Bulk rows into a database whose schema `db.migrate` created."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.tables = SQLModel.metadata.tables
        self.columns = {name: [c.name for c in t.columns] for name, t in self.tables.items()}
        self.defaults = {name: _defaults(name) for name in self.tables}
        self.rows: dict[str, int] = {}

    def tuples(self, table: str, rows: list[dict[str, Any]]) -> list[tuple]:
        columns, defaults = self.columns[table], self.defaults[table]
        return [tuple(row[c] if c in row else defaults.get(c) for c in columns) for row in rows]

    def write(self, table: str, rows: list[dict[str, Any]]) -> None:
        if rows:
            self._write(table, self.tuples(table, rows))
            self.rows[table] = self.rows.get(table, 0) + len(rows)

    def _write(self, table: str, rows: list[tuple]) -> None:
        raise NotImplementedError

    def secondary_indexes(self) -> list[sa.Index]:
        return [index for table in self.tables.values() for index in table.indexes]


class SqliteWriter(Writer):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        path = make_url(url).database
        assert path
        self.connection = sqlite3.connect(path, isolation_level=None)
        for pragma in (
            "journal_mode=WAL",
            "synchronous=OFF",
            "cache_size=-400000",
            "temp_store=MEMORY",
        ):
            self.connection.execute(f"PRAGMA {pragma}")
        self.connection.execute("BEGIN")

    def drop_indexes(self) -> None:
        for index in self.secondary_indexes():
            self.connection.execute(f'DROP INDEX IF EXISTS "{index.name}"')

    def _write(self, table: str, rows: list[tuple]) -> None:
        columns = self.columns[table]
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        self.connection.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)

    def commit(self) -> None:
        self.connection.execute("COMMIT")
        self.connection.execute("BEGIN")

    def finish(self) -> None:
        self.connection.execute("COMMIT")
        engine = sa.create_engine(self.url)
        with engine.begin() as connection:
            for index in self.secondary_indexes():
                index.create(connection, checkfirst=True)
        engine.dispose()
        self.connection.execute("ANALYZE")
        self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.connection.close()


# As SQLAlchemy stores them on SQLite: ISO dates, datetimes with microseconds.
sqlite3.register_adapter(date, date.isoformat)
sqlite3.register_adapter(datetime, lambda value: value.strftime("%Y-%m-%d %H:%M:%S.%f"))


class PostgresWriter(Writer):
    def __init__(self, url: str) -> None:
        import psycopg

        super().__init__(url)
        parsed = make_url(url)
        self.connection = psycopg.connect(
            dbname=parsed.database,
            user=parsed.username,
            password=parsed.password or None,
            host=parsed.query.get("host") or parsed.host,  # type: ignore[arg-type]
            port=parsed.port,
        )
        with self.connection.cursor() as cursor:
            try:  # FK triggers off while loading (superuser only); rows are consistent
                cursor.execute("SET session_replication_role = replica")
            except psycopg.Error:
                self.connection.rollback()

    def drop_indexes(self) -> None:
        with self.connection.cursor() as cursor:
            for index in self.secondary_indexes():
                cursor.execute(f'DROP INDEX IF EXISTS "{index.name}"')
        self.connection.commit()

    def _write(self, table: str, rows: list[tuple]) -> None:
        names = ", ".join(f'"{c}"' for c in self.columns[table])
        with (
            self.connection.cursor() as cursor,
            cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def commit(self) -> None:
        self.connection.commit()

    def finish(self) -> None:
        self.connection.commit()
        engine = sa.create_engine(self.url)
        with engine.begin() as connection:
            for index in self.secondary_indexes():
                index.create(connection, checkfirst=True)
            # the load ran with triggers off (replica): the case tally is counted afresh
            connection.execute(sa.text("DELETE FROM case_tally"))
            connection.execute(sa.text(tallies.TALLY_FILL))
            for table in self.tables.values():
                if "id" in table.columns and table.columns["id"].autoincrement is not False:
                    connection.execute(
                        sa.text(
                            f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                            f'COALESCE((SELECT max(id) FROM "{table.name}"), 0) + 1, false)'
                        )
                    )
        engine.dispose()
        self.connection.autocommit = True
        # VACUUM too: it sets the visibility map, so index-only scans need no heap visit.
        self.connection.execute("VACUUM (ANALYZE)")
        self.connection.close()


def writer_for(url: str) -> Writer:
    return SqliteWriter(url) if url.startswith("sqlite") else PostgresWriter(url)


# ── the whole dataset ────────────────────────────────────────────────────
CASE_TABLES = (
    "person",
    "member",
    "case",
    "historyevent",
    "ledger",
    "casedeadline",
    "sponsorship",
    "helperassignment",
    "attendance",
    "reminder",
    "case_stay",
)


@dataclass
class World:
    """What a dataset is made of before its cases, and the factory of its cases: made
    from one seeded random stream, so a reused dataset can be given again any part of
    its cases' rows (`fill_stays`)."""

    tree: Tree
    fixed: list[tuple[str, list[dict[str, Any]]]]
    courses: list[dict[str, Any]]
    report_inputs: list[tuple[str, list[dict[str, Any]]]]
    factory: CaseFactory

    @staticmethod
    def made(
        cases: int,
        today: date,
        seed: int = 2026,
        grassroots: int = 100,
        cells_per_grassroots: int = CELLS_PER_GRASSROOTS,
    ) -> World:
        rng = random.Random(seed)
        tree, fixed = build_tree(grassroots, rng, today, cells_per_grassroots)
        first = today - timedelta(days=3652 + 400)
        course_rows, course_index = courses(tree, first, today)
        inputs = list(report_inputs(tree, course_rows, cases, today, rng))
        factory = CaseFactory(tree, course_index, today, rng)
        return World(tree, list(fixed), course_rows, inputs, factory)


def fill_stays(url: str, today: date, progress: Callable[[str], None] = log) -> None:
    """A dataset made before stays existed: its cases' stays, made again from the same
    seeded stream (each case built anew, only its stays kept), checked against the
    stored cases' states before anything is written."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            if connection.execute(sa.text("SELECT 1 FROM case_stay LIMIT 1")).first():
                return
            cases = connection.execute(sa.text('SELECT count(*) FROM "case"')).scalar_one()
            found = connection.execute(sa.text('SELECT id, state FROM "case" WHERE id <= 2000'))
            stored = {int(case_id): str(state) for case_id, state in found}
        if not cases:
            return
        progress(f"  stays for {cases:,} cases (made again from the seed) …")
        factory = World.made(cases, today).factory
        writer = writer_for(url)
        for batch_start in range(1, cases + 1, BATCH):
            batch: list[dict[str, Any]] = []
            for case_id in range(batch_start, min(cases, batch_start + BATCH - 1) + 1):
                rows = factory.build(case_id)
                if case_id in stored and rows["case"][0]["state"] != stored[case_id]:
                    raise RuntimeError(f"case {case_id}: the seed no longer makes this dataset")
                batch.extend(rows["case_stay"])
            writer.write("case_stay", batch)
            writer.commit()
        writer.commit()
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    sa.text(
                        "SELECT setval(pg_get_serial_sequence('case_stay', 'id'), "
                        "COALESCE((SELECT max(id) FROM case_stay), 0) + 1, false)"
                    )
                )
            connection.execute(sa.text("ANALYZE case_stay"))
        progress(f"  {writer.rows.get('case_stay', 0):,} stays written")
    finally:
        engine.dispose()


def generate(
    url: str,
    cases: int,
    today: date,
    *,
    seed: int = 2026,
    grassroots: int = 100,
    cells_per_grassroots: int = CELLS_PER_GRASSROOTS,
    progress: Callable[[str], None] = log,
) -> Dataset:
    """Create the schema at `url` (empty database) and fill it with `cases` cases."""
    started = time.perf_counter()
    database = db.connect(url)
    db.migrate(database)
    database.dispose()
    world = World.made(cases, today, seed, grassroots, cells_per_grassroots)
    tree, factory = world.tree, world.factory
    writer = writer_for(url)
    writer.drop_indexes()
    for table, rows in world.fixed:
        writer.write(table, rows)
    writer.write("user", users(tree))
    writer.write("course", world.courses)
    for table, rows in world.report_inputs:
        writer.write(table, rows)
    writer.commit()
    states: dict[str, int] = {}
    for batch_start in range(1, cases + 1, BATCH):
        batch: dict[str, list[dict[str, Any]]] = {t: [] for t in CASE_TABLES}
        for case_id in range(batch_start, min(cases, batch_start + BATCH - 1) + 1):
            for table, rows in factory.build(case_id).items():
                batch[table].extend(rows)
            state = batch["case"][-1]["state"]
            states[state] = states.get(state, 0) + 1
        for table in CASE_TABLES:
            if table in writer.tables:
                writer.write(table, batch[table])
        writer.commit()
        done = min(cases, batch_start + BATCH - 1)
        if done % (BATCH * 10) == 0 or done == cases:
            progress(f"  {done:,} cases written ({time.perf_counter() - started:.0f} s)")
    writer.finish()
    database = sa.create_engine(url)
    with database.begin() as connection:
        swept_yesterday(connection, today)
    database.dispose()
    return Dataset(
        url=url,
        cases=cases,
        today=today,
        seconds=time.perf_counter() - started,
        rows=dict(writer.rows),
        grassroots_ids=[g["id"] for g in tree.grassroots],
        cell_ids=[c["id"] for c in tree.cells],
        states=states,
    )


def missing_columns(url: str) -> list[str]:
    """Columns the models have and the dataset lacks: such a dataset must be made anew."""
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        present = set(inspector.get_table_names())
        return [
            f"{table.name}.{column.name}"
            for table in SQLModel.metadata.tables.values()
            if table.name in present
            for column in table.columns
            if column.name not in {c["name"] for c in inspector.get_columns(table.name)}
        ]
    finally:
        engine.dispose()


def ensure_schema(url: str, today: date) -> None:
    """On a reused dataset: add the tables and indexes the models gained since."""
    engine = sa.create_engine(url)
    try:
        SQLModel.metadata.create_all(engine, checkfirst=True)
        fill_stays(url, today)
        with engine.begin() as connection:
            for table in SQLModel.metadata.tables.values():
                existing = {i["name"]: i for i in sa.inspect(connection).get_indexes(table.name)}
                for index in table.indexes:
                    found = existing.get(index.name)
                    if found is not None and not _same_index(connection, index, found):
                        log(f"  index {index.name} changed: rebuilding it")
                        index.drop(connection)
                    index.create(connection, checkfirst=True)
            swept_yesterday(connection, today)
    finally:
        engine.dispose()


def _same_index(connection: sa.Connection, index: sa.Index, found: dict[str, Any]) -> bool:
    if list(found.get("column_names") or []) != [c.name for c in index.columns]:
        return False
    if connection.dialect.name != "postgresql":
        return True
    definition = connection.execute(
        sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"), {"name": index.name}
    ).scalar_one()
    wanted_ops = set((index.dialect_options["postgresql"].get("ops") or {}).values())
    return all(op in definition for op in wanted_ops) and (
        bool(wanted_ops) or "_pattern_ops" not in definition
    )


def swept_yesterday(connection: sa.Connection, today: date) -> None:
    """Yesterday's sweep completed (SweepDay): today's reads only what changed since."""
    table = SQLModel.metadata.tables.get("sweepday")
    if table is None or connection.execute(sa.select(sa.func.count()).select_from(table)).scalar():
        return
    yesterday = today - timedelta(days=1)
    started = datetime.combine(yesterday, datetime.min.time()).replace(hour=1)
    connection.execute(table.insert().values(day=yesterday, started_at=started))


def summary_lines(cases: int) -> list[str]:
    grassroots = 100
    open_states = ", ".join(DWELL)
    return [
        f"{cases:,} cases over every state and the ten years up to the run's date; "
        f"{OPEN_SHARE:.0%} open ({open_states}, in proportion to how long a case stays in "
        f"each; {STALLED:.0%} of them stalled up to three years: overdue and escalated), "
        f"the rest official {TERMINAL['official']:.0%}, rejected {TERMINAL['rejected']:.1%}, "
        f"withdrawn {TERMINAL['withdrawn']:.1%}, removed {TERMINAL['removed']:.0%}.",
        f"One province, {grassroots} grassroots committees (4 in 5 may admit), "
        f"{grassroots * CELLS_PER_GRASSROOTS:,} cells, {MEMBERS_PER_CELL} official members per "
        "cell plus a member row per admitted case; a person per case; two sponsors and a "
        "helper where the step was reached; class attendance; targets, class headcounts, "
        "villages.",
        "History: a valid hash chain per case — the `nominate` row and the row of the event "
        "that brought the case to its state (2 rows for most cases).",
        "Deadlines: `live_deadlines` of each case; reminders already recorded for the stage "
        "each deadline was at yesterday (the steady state of a daily sweep), so the measured "
        "sweep finds what moved on today.",
    ]


def describe(dataset: Dataset) -> str:
    shares = ", ".join(
        f"{state} {count / dataset.cases:.1%}"
        for state, count in sorted(dataset.states.items(), key=lambda item: -item[1])
    )
    return json.dumps({"rows": dataset.rows, "states": shares}, ensure_ascii=False)
