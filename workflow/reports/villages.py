"""Report 6, villages: at the period's first and last day, villages without a party
member, and heads and deputies in office who are party members."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlmodel import Session, col

from workflow.models import Organisation, Village, VillageCensus, VillageOfficial
from workflow.reports.figures import change, percent, vi_percent
from workflow.reports.period import Period
from workflow.reports.scope import Subtree
from workflow.reports.sql import in_subtree
from workflow.reports.tables import table


def villages(session: Session, org: Subtree, period: Period) -> dict[str, Any]:
    """At the period's first and last day: villages, those without a party member, and
    the share of heads and deputies in office who are party members."""
    moments = [_villages_on(session, org, day) for day in dict.fromkeys((period.start, period.end))]
    first, last = moments[0], moments[-1]
    # the change in points between the two days, from the exact shares (110/321 −
    # 107/321 = 0,93), never from the rounded ones (34,3 − 33,3 = 1,0)
    moved = {
        "heads_points": change(first["heads"]["percent"], last["heads"]["percent"]),
        "deputies_points": change(first["deputies"]["percent"], last["deputies"]["percent"]),
        "without_member": last["without_member"] - first["without_member"],
    }
    result: dict[str, Any] = {
        "at": moments,
        "change": moved,
        "without_member_names": _villages_without_member(session, org, period.end),
    }
    result["tables"] = [
        table(
            "Thôn, tổ dân phố",
            [
                ("Ngày", "text"),
                ("Số thôn", "int"),
                ("Chưa có đảng viên", "int"),
                ("Chưa có số liệu", "int"),
                ("Trưởng thôn", "int"),
                ("Trưởng thôn là đảng viên", "int"),
                ("Tỷ lệ", "percent"),
                ("Phó thôn", "int"),
                ("Phó thôn là đảng viên", "int"),
                ("Tỷ lệ", "percent"),
            ],
            [
                [
                    m["label"],
                    m["villages"],
                    m["without_member"],
                    m["unknown"],
                    m["heads"]["total"],
                    m["heads"]["members"],
                    m["heads"]["percent"],
                    m["deputies"]["total"],
                    m["deputies"]["members"],
                    m["deputies"]["percent"],
                ]
                for m in moments
            ],
        ),
        table(
            f"Thôn chưa có đảng viên ngày {period.end:%d/%m/%Y}",
            [("Thôn", "text"), ("Tổ chức", "text")],
            [[v["name"], v["organisation"]] for v in result["without_member_names"]],
        ),
    ]
    return result


def _existing_on(day: date) -> ColumnElement[bool]:
    return and_(
        or_(col(Village.established_on).is_(None), col(Village.established_on) <= day),
        or_(col(Village.dissolved_on).is_(None), col(Village.dissolved_on) > day),
    )


def _latest_census(day: date) -> Any:
    return (
        select(col(VillageCensus.party_members))
        .where(col(VillageCensus.village_id) == Village.id, col(VillageCensus.counted_on) <= day)
        .order_by(col(VillageCensus.counted_on).desc())
        .limit(1)
        .correlate(Village)
        .scalar_subquery()
    )


def _villages_on(session: Session, org: Subtree, day: date) -> dict[str, Any]:
    in_scope = and_(in_subtree(Organisation.path, org), _existing_on(day))
    counted = (
        select(_latest_census(day).label("members"))
        .select_from(Village)
        .join(Organisation, col(Organisation.id) == Village.organisation_id)
        .where(in_scope)
        .subquery()
    )
    villages_total, without, unknown = session.execute(
        select(
            func.count(),
            func.sum(case((counted.c.members == 0, 1), else_=0)),
            func.sum(case((counted.c.members.is_(None), 1), else_=0)),
        )
    ).one()
    officials = (
        select(
            col(VillageOfficial.role).label("role"),
            case(
                (
                    and_(
                        col(VillageOfficial.party_member_since).is_not(None),
                        col(VillageOfficial.party_member_since) <= day,
                    ),
                    1,
                ),
                else_=0,
            ).label("member"),
        )
        .join(Village, col(Village.id) == VillageOfficial.village_id)
        .join(Organisation, col(Organisation.id) == Village.organisation_id)
        .where(
            in_scope,
            col(VillageOfficial.starts_on) <= day,
            or_(col(VillageOfficial.ends_on).is_(None), col(VillageOfficial.ends_on) >= day),
        )
        .subquery()
    )
    by_role = {
        role: (int(n), int(members or 0))
        for role, n, members in session.execute(
            select(officials.c.role, func.count(), func.sum(officials.c.member)).group_by(
                officials.c.role
            )
        ).all()
    }
    return {
        "date": day.isoformat(),
        "label": f"{day:%d/%m/%Y}",
        "villages": int(villages_total or 0),
        "without_member": int(without or 0),
        "unknown": int(unknown or 0),
        "heads": _officials_share(*by_role.get("head", (0, 0))),
        "deputies": _officials_share(*by_role.get("deputy", (0, 0))),
    }


def _officials_share(total: int, members: int) -> dict[str, Any]:
    return {
        "total": total,
        "members": members,
        "percent": percent(members, total),
        "text": vi_percent(members, total),
    }


def _villages_without_member(session: Session, org: Subtree, day: date) -> list[dict[str, Any]]:
    rows = session.execute(
        select(col(Village.name), col(Organisation.name))
        .join(Organisation, col(Organisation.id) == Village.organisation_id)
        .where(
            in_subtree(Organisation.path, org),
            _existing_on(day),
            _latest_census(day) == 0,
        )
        .order_by(col(Organisation.name), col(Village.name))
    ).all()
    return [{"name": name, "organisation": org_name} for name, org_name in rows]
