"""Admission targets (chỉ tiêu kết nạp đảng viên): an organisation sets how many new
members its subtree should admit in a calendar year, over a resolution's period
("Nghị quyết 130-NQ/HU, giai đoạn 2011–2015") or over a congress term. Report 1 and the
narrative state the share achieved of every target that applies to the period.

Officers and admins set the targets of organisations they act for — their own and the
units below, to which committees hand out targets ("giao chỉ tiêu cho từng đơn vị").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from workflow.access import Actor, Forbidden
from workflow.directory import admin_log, fields
from workflow.engine import NotFound
from workflow.models import AdmissionTarget, Organisation
from workflow.schema import InvalidData


@dataclass(frozen=True)
class Kind:
    name: str
    label_vi: str
    label_en: str
    default_ref_vi: str  # how the narrative names a target set without a reference


KINDS: tuple[Kind, ...] = (
    Kind("year", "Chỉ tiêu năm", "Yearly target", "chỉ tiêu năm"),
    Kind("resolution", "Chỉ tiêu nghị quyết", "Resolution target", "Nghị quyết"),
    Kind("congress_term", "Chỉ tiêu nhiệm kỳ đại hội", "Congress-term target", "Đại hội"),
)
KIND_NAMES = tuple(k.name for k in KINDS)
SETTERS = ("officer", "admin")
MAX_NUMBER = 1_000_000
LOGGED = ("organisation_id", "kind", "period_start", "period_end", "number", "ref")


def kind(name: str) -> Kind:
    return next(k for k in KINDS if k.name == name)


@dataclass(frozen=True)
class TargetSpec:
    organisation_id: int
    kind: str
    period_start: date
    period_end: date
    number: int
    ref: str


def parse(data: Any) -> TargetSpec:
    """Validate a target as the API, the page and the CLI send it (InvalidData if bad).

    A year target gives `year`; the others give `period_start` and `period_end`.
    """
    data = fields.record(
        data, {"organisation_id", "kind", "year", "period_start", "period_end", "number", "ref"}
    )
    kind_name = fields.choice(data, "kind", "Loại chỉ tiêu", KIND_NAMES)
    start, end = _period(kind_name, data)
    ref = fields.text(data, "ref", "Số hiệu văn bản", required=kind_name == "resolution")
    number = fields.whole_number(data, "number", "Số chỉ tiêu", minimum=1, maximum=MAX_NUMBER)
    assert number is not None
    return TargetSpec(
        fields.identifier(data, "organisation_id", "Tổ chức"), kind_name, start, end, number, ref
    )


def _period(kind_name: str, data: dict[str, Any]) -> tuple[date, date]:
    if kind_name == "year":
        year = fields.whole_number(
            data, "year", "Năm", minimum=fields.FIRST_YEAR, maximum=fields.LAST_YEAR
        )
        assert year is not None
        return date(year, 1, 1), date(year, 12, 31)
    start = fields.day(data, "period_start", "Ngày bắt đầu giai đoạn")
    end = fields.day(data, "period_end", "Ngày kết thúc giai đoạn")
    assert start is not None and end is not None
    fields.not_before(start, end, "period_end")
    return start, end


def organisation_for(session: Session, actor: Actor, organisation_id: int) -> Organisation:
    """The organisation, if the actor may read its figures (NotFound otherwise)."""
    org = session.get(Organisation, organisation_id)
    if org is None or not actor.acts_for(org.path):
        raise NotFound(organisation_id)
    return org


def check_may_set(actor: Actor) -> None:
    if actor.role not in SETTERS:
        raise Forbidden(f"role {actor.role} may not set admission targets")


def set_target(session: Session, actor: Actor, spec: TargetSpec, now: datetime) -> AdmissionTarget:
    """Create the target, or change the number/reference of the same kind and period."""
    check_may_set(actor)
    org = organisation_for(session, actor, spec.organisation_id)
    if spec.kind == "congress_term":
        _refuse_overlapping_term(session, spec)
    target = session.exec(
        select(AdmissionTarget).where(
            AdmissionTarget.organisation_id == spec.organisation_id,
            AdmissionTarget.kind == spec.kind,
            AdmissionTarget.period_start == spec.period_start,
            AdmissionTarget.period_end == spec.period_end,
        )
    ).first()
    before = admin_log.snapshot(target, LOGGED) if target else {}
    target = target or AdmissionTarget(
        organisation_id=spec.organisation_id,
        kind=spec.kind,
        period_start=spec.period_start,
        period_end=spec.period_end,
        number=spec.number,
    )
    target.number, target.ref = spec.number, spec.ref
    target.set_by, target.set_at = actor.username, now
    session.add(target)
    session.flush()
    admin_log.append(
        session,
        actor,
        action="set_target",
        record=target,
        org_path=org.path,
        before=before,
        after=admin_log.snapshot(target, LOGGED),
        at=now,
    )
    session.commit()
    session.refresh(target)
    return target


def _refuse_overlapping_term(session: Session, spec: TargetSpec) -> None:
    """Congress terms follow one another: two terms of one organisation never overlap."""
    other = session.exec(
        select(AdmissionTarget).where(
            AdmissionTarget.organisation_id == spec.organisation_id,
            AdmissionTarget.kind == "congress_term",
            col(AdmissionTarget.period_start) <= spec.period_end,
            col(AdmissionTarget.period_end) >= spec.period_start,
            (col(AdmissionTarget.period_start) != spec.period_start)
            | (col(AdmissionTarget.period_end) != spec.period_end),
        )
    ).first()
    if other is not None:
        raise InvalidData(
            "period_start",
            f"Nhiệm kỳ chồng lấn nhiệm kỳ {other.period_start:%d/%m/%Y}–"
            f"{other.period_end:%d/%m/%Y} đã có chỉ tiêu",
            f"The term overlaps the term {other.period_start:%d/%m/%Y}–"
            f"{other.period_end:%d/%m/%Y}, which already has a target",
        )


def delete_target(session: Session, actor: Actor, target_id: int, *, now: datetime) -> None:
    check_may_set(actor)
    target = session.get(AdmissionTarget, target_id)
    if target is None:
        raise NotFound(target_id)
    org = organisation_for(session, actor, target.organisation_id)
    admin_log.append(
        session,
        actor,
        action="delete_target",
        record=target,
        org_path=org.path,
        before=admin_log.snapshot(target, LOGGED),
        after={},
        at=now,
    )
    session.delete(target)
    session.commit()


def visible(session: Session, actor: Actor, organisation_id: int | None = None) -> list[Any]:
    """(target, organisation) pairs the actor may read, newest period first."""
    query = select(AdmissionTarget, Organisation).join(
        Organisation, col(Organisation.id) == AdmissionTarget.organisation_id
    )
    if organisation_id is not None:
        query = query.where(AdmissionTarget.organisation_id == organisation_id)
    if actor.role != "admin":
        if not actor.org_path:
            return []
        query = query.where(col(Organisation.path).startswith(actor.org_path))
    query = query.order_by(
        col(Organisation.path), col(AdmissionTarget.kind), col(AdmissionTarget.period_start).desc()
    )
    return list(session.exec(query).all())


def applicable(
    session: Session, organisation_ids: list[int], date_from: date, date_to: date
) -> dict[int, list[AdmissionTarget]]:
    """Each organisation's targets whose period overlaps [date_from, date_to]."""
    result: dict[int, list[AdmissionTarget]] = {org_id: [] for org_id in organisation_ids}
    if not organisation_ids:
        return result
    rows = session.exec(
        select(AdmissionTarget)
        .where(
            col(AdmissionTarget.organisation_id).in_(organisation_ids),
            col(AdmissionTarget.period_start) <= date_to,
            col(AdmissionTarget.period_end) >= date_from,
        )
        .order_by(col(AdmissionTarget.period_start))
    )
    for target in rows:
        result[target.organisation_id].append(target)
    return result


def as_dict(target: AdmissionTarget, organisation: Organisation | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": target.id,
        "organisation_id": target.organisation_id,
        "kind": target.kind,
        "kind_label": kind(target.kind).label_vi,
        "period_start": target.period_start.isoformat(),
        "period_end": target.period_end.isoformat(),
        "number": target.number,
        "ref": target.ref,
        "set_by": target.set_by,
    }
    if target.kind == "year":
        out["year"] = target.period_start.year
    if organisation is not None:
        out["organisation_name"] = organisation.name
    return out
