"""Whose figures a report is about: the organisation a request names (`parse_query`),
whether the asking user may read it (`organisation_for`), and the subtree the SQL counts
in (`subtree_of`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from workflow import hygiene
from workflow.access import Actor, Forbidden
from workflow.engine import NotFound
from workflow.models import Organisation
from workflow.reports.period import period
from workflow.schema import InvalidData, parse_date

READERS = ("secretary", "officer", "auditor", "admin")


@dataclass(frozen=True)
class Subtree:
    """The organisation a report is for: its id and path, whether it is the only root
    (then every row is in its subtree and none needs its path checked), and whether the
    database compares paths as plain bytes (SQLite)."""

    id: int
    path: str
    whole: bool
    bytewise: bool


def subtree_of(session: Session, org: Organisation) -> Subtree:
    assert org.id is not None
    roots = select(func.count()).select_from(Organisation)
    whole = org.parent_id is None and (
        session.execute(roots.where(col(Organisation.parent_id).is_(None))).scalar_one() == 1
    )
    return Subtree(org.id, org.path, whole, session.get_bind().dialect.name == "sqlite")


def organisation_for(session: Session, actor: Actor, org_id: int | None) -> Organisation:
    """The organisation whose figures the actor asks for (default: their own).

    Sponsors see single cases, not figures (403); an organisation outside the actor's
    subtree does not exist for them (404)."""
    if actor.role not in READERS:
        raise Forbidden(f"role {actor.role} may not read reports")
    if org_id is None:
        org_id = actor.organisation_id or _root_id(session)
    org = session.get(Organisation, org_id) if org_id is not None else None
    if org is None or not actor.acts_for(org.path):
        raise NotFound(org_id)
    return org


def _root_id(session: Session) -> int | None:
    query = (
        select(col(Organisation.id))
        .where(col(Organisation.parent_id).is_(None))
        .order_by(col(Organisation.id))
    )
    return session.scalars(query).first()


def parse_query(args: Any, today: date) -> tuple[int | None, date, date]:
    """`org`, `from`, `to` from a query string (strings), with defaults: the actor's
    organisation, 1 January of this year, today. Bad values raise InvalidData (400)."""
    org_text = (args.get("org") or "").strip()
    org_id: int | None = None
    if org_text:
        org_id = hygiene.whole_number(org_text)
        if org_id is None or org_id > 2**31 - 1:
            raise InvalidData(
                "org",
                f"Mã tổ chức '{org_text[:20]}' không hợp lệ (chỉ dùng chữ số 0–9)",
                f"'{org_text[:20]}' is not an organisation id (the digits 0–9 only)",
            )
    date_to = _query_date(args.get("to"), "to", today)
    date_from = _query_date(args.get("from"), "from", date(date_to.year, 1, 1))
    period(date_from, date_to)
    return org_id, date_from, date_to


def _query_date(value: Any, field: str, default: date) -> date:
    if value is None or str(value).strip() == "":
        return default
    try:
        return parse_date(str(value), field)
    except InvalidData as error:
        label = "Từ ngày" if field == "from" else "Đến ngày"
        raise InvalidData(
            field, f"{label}: {error.text.vi}", f"'{field}': {error.text.en}"
        ) from error


def parse_precision(args: Any) -> int:
    """`precision` from a query string: the decimals of the printed shares, 1 (the
    default: a share under 1 % still gets two) or 2. Anything else is a 400."""
    text = (args.get("precision") or "").strip()
    if not text:
        return 1
    if text not in ("1", "2"):
        raise InvalidData(
            "precision",
            f"Số chữ số thập phân '{text[:20]}' không hợp lệ (1 hoặc 2)",
            f"'{text[:20]}' is not a precision (1 or 2 decimals)",
        )
    return int(text)
