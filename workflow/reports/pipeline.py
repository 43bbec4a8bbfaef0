"""Report 5, the pipeline: open cases per state, overdue cases per deadline, and the
period's flow — cases opened, and cases closed per outcome."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from workflow import process
from workflow.models import Case, CaseDeadline
from workflow.reports.period import Period
from workflow.reports.scope import Subtree
from workflow.reports.sql import between, in_subtree
from workflow.reports.tables import table


def pipeline(session: Session, org: Subtree, period: Period) -> dict[str, Any]:
    """Open cases per state (today's picture), overdue deadlines on `as_of`, and the
    period's flow: cases opened, and cases closed per outcome."""
    subtree = in_subtree(Case.org_path, org)
    # "state IN (open states)" rather than the `open` flag: the (org_path, state) index
    # then answers alone, without reading a row per case.
    is_open = col(Case.state).in_(process.OPEN_STATES)
    states = dict(
        session.execute(
            select(col(Case.state), func.count()).where(subtree, is_open).group_by(col(Case.state))
        ).all()
    )
    # Only open cases have live deadlines (the engine drops them on closing): for the
    # whole tree the deadlines alone answer, without reading a case per deadline.
    late = select(col(CaseDeadline.deadline), func.count()).where(
        col(CaseDeadline.due) < period.as_of
    )
    if not org.whole:
        late = late.join(Case, col(Case.id) == CaseDeadline.case_id).where(subtree, is_open)
    overdue = dict(session.execute(late.group_by(col(CaseDeadline.deadline))).all())
    # A case's next_due is its earliest live deadline (None once closed): it is late iff
    # that one is — one range on the next_due index.
    overdue_cases = session.execute(
        select(func.count()).select_from(Case).where(subtree, col(Case.next_due) < period.as_of)
    ).scalar_one()
    nominated = session.execute(
        select(func.count()).select_from(Case).where(subtree, between(Case.nominated_on, period))
    ).scalar_one()
    closed = dict(
        session.execute(
            select(col(Case.state), func.count())
            .where(subtree, between(Case.closed_on, period))
            .group_by(col(Case.state))
        ).all()
    )
    return _pipeline_result(states, overdue, int(overdue_cases), int(nominated), closed, period)


def _pipeline_result(
    states: dict[str, int],
    overdue: dict[str, int],
    overdue_cases: int,
    nominated: int,
    closed: dict[str, int],
    period: Period,
) -> dict[str, Any]:
    open_states = [
        {"state": s, "label": process.state(s).label_vi, "cases": int(states.get(s, 0))}
        for s in process.OPEN_STATES
    ]
    deadlines = [
        {"deadline": d.id, "label": d.label_vi, "overdue": int(overdue.get(d.id, 0))}
        for d in process.DEADLINES
    ]
    terminal = [s.name for s in process.STATES if s.terminal]
    outcomes = [
        {"state": s, "label": process.state(s).label_vi, "cases": int(closed.get(s, 0))}
        for s in terminal
    ]
    result: dict[str, Any] = {
        "open": sum(row["cases"] for row in open_states),
        "by_state": open_states,
        "as_of": period.as_of.isoformat(),
        "overdue_cases": overdue_cases,
        "overdue_by_deadline": deadlines,
        "nominated_in_period": nominated,
        "closed_in_period": outcomes,
    }
    result["tables"] = [
        table(
            "Hồ sơ đang xử lý theo bước",
            [("Bước", "text"), ("Số hồ sơ", "int")],
            [[r["label"], r["cases"]] for r in open_states] + [["Tổng số", result["open"]]],
        ),
        table(
            f"Quá hạn đến ngày {period.as_of:%d/%m/%Y}",
            [("Thời hạn", "text"), ("Số hồ sơ quá hạn", "int")],
            [[d["label"], d["overdue"]] for d in deadlines]
            + [["Số hồ sơ có hạn quá", overdue_cases]],
        ),
        table(
            "Trong kỳ",
            [("Chỉ số", "text"), ("Số hồ sơ", "int")],
            [["Giới thiệu mới (mở hồ sơ)", nominated]]
            + [[o["label"], o["cases"]] for o in outcomes],
        ),
    ]
    return result
