"""Report 3, confirmations and removals: probationary members confirmed as official
members, and removed, in the period; those whose probation ended without a decision."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from workflow import process
from workflow.models import Case
from workflow.reports.period import Period
from workflow.reports.scope import Subtree
from workflow.reports.sql import in_subtree, outcomes, units_of
from workflow.reports.tables import monthly, table


def confirmations(
    session: Session, org: Subtree, period: Period, *, tallies: bool = True
) -> dict[str, Any]:
    """The report; the period's whole months from the outcome tally, `tallies=False`
    counting every case from "case" (the same figures: tests/reports/test_tallies.py)."""
    units = units_of(session, org)
    confirmed = outcomes(session, org, period, units, "confirmed", tallies=tallies)
    removed = outcomes(session, org, period, units, "removed", tallies=tallies)
    awaiting = session.execute(
        select(func.count())
        .select_from(Case)
        .where(
            in_subtree(Case.org_path, org),
            col(Case.state).in_(process.CONFIRMATION),
            col(Case.probation_end) < period.as_of,
        )
    ).scalar_one()
    confirmed_units, removed_units = confirmed.by_unit(), removed.by_unit()
    result: dict[str, Any] = {
        "confirmed": confirmed.total,
        "removed": removed.total,
        "awaiting_after_probation": int(awaiting),
        "as_of": period.as_of.isoformat(),
        "by_month": monthly(
            period, {"confirmed": confirmed.by_month(), "removed": removed.by_month()}
        ),
        "by_unit": [
            {
                "organisation_id": u.id,
                "name": u.name,
                "confirmed": confirmed_units.get(u.id, 0),
                "removed": removed_units.get(u.id, 0),
            }
            for u in units
        ],
    }
    result["tables"] = [
        table(
            "Công nhận đảng viên chính thức và xóa tên",
            [("Chỉ số", "text"), ("Số lượng", "int")],
            [
                ["Công nhận đảng viên chính thức", result["confirmed"]],
                ["Xóa tên đảng viên dự bị", result["removed"]],
                ["Hết thời gian dự bị, chưa được xét", result["awaiting_after_probation"]],
            ],
        ),
        table(
            "Theo tháng",
            [("Tháng", "text"), ("Công nhận chính thức", "int"), ("Xóa tên", "int")],
            [[m["label"], m["confirmed"], m["removed"]] for m in result["by_month"]],
        ),
        table(
            "Theo đơn vị trực thuộc",
            [("Đơn vị", "text"), ("Công nhận chính thức", "int"), ("Xóa tên", "int")],
            [[u["name"], u["confirmed"], u["removed"]] for u in result["by_unit"]],
        ),
    ]
    return result
