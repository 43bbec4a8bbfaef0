"""Report 2, the new members' breakdown: women, Youth Union members, ethnic minorities,
religion, occupation group, education and age band at admission — one GROUP BY over the
period's ceremonies."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Integer, cast, func, select
from sqlmodel import Session, col

from workflow import process
from workflow.models import Case, Person
from workflow.reports.categories import AGE_BANDS, NO_RELIGION, NOT_RECORDED, OCCUPATION_GROUPS
from workflow.reports.figures import percent
from workflow.reports.period import Period
from workflow.reports.scope import Subtree
from workflow.reports.sql import AgeBand, between, ceremony_keys, in_subtree, split, tallied
from workflow.reports.tables import share, table

# The breakdown's keys, in the order of the scan's GROUP BY (tallies.CEREMONY_DIMENSIONS).
KEYS = ("gender", "youth", "ethnicity", "religion", "education", "occupation", "band")
Counts = dict[str, dict[Any, int]]  # key → value as the scan reads it → ceremonies


def breakdown(
    session: Session, org: Subtree, period: Period, *, tallies: bool = True
) -> dict[str, Any]:
    """The report. Each figure is a count per value of ONE key, so the period's whole
    months are read from the ceremony tally (models.CeremonyTally: per organisation,
    month, key and value) and only the cases of a cell at the organisation's own path
    and the days of the months the period cuts from "case"; `tallies=False` counts every
    ceremony from "case" (the same figures: tests/reports/test_tallies.py)."""
    parts = split(period)
    if not tallies or not tallied(org.path) or parts.whole is None:
        return _breakdown_result(_groups(session, org, period))
    counts: Counts = {key: defaultdict(int) for key in KEYS}
    for dim, value, n in ceremony_keys(session, org.path, parts.months, KEYS):
        counts[dim][int(value) if dim in ("youth", "band") else value] += int(n)
    own = _groups(session, org, parts.whole, col(Case.org_path) == org.path)
    edges = [_groups(session, org, edge) for edge in parts.edges]
    for groups in (own, *edges):
        _add_groups(counts, groups)
    return _result_of(counts)


def _groups(
    session: Session, org: Subtree, period: Period, *conditions: ColumnElement[bool]
) -> list[Any]:
    """The period's ceremonies in the subtree, per combination of the keys (from "case")."""
    inner = (
        select(
            col(Person.gender).label("gender"),
            cast(Person.youth_union_member, Integer).label("youth"),
            func.coalesce(col(Person.ethnicity), "Kinh").label("ethnicity"),
            func.coalesce(col(Person.religion), "").label("religion"),
            func.coalesce(col(Person.education), "").label("education"),
            col(Person.occupation).label("occupation"),
            AgeBand(Person.birth_date, Case.ceremony_on).label("band"),
        )
        .select_from(Case)
        .join(Person, col(Person.id) == Case.person_id)
        .where(in_subtree(Case.org_path, org), between(Case.ceremony_on, period), *conditions)
        .subquery()
    )
    keys = [inner.c[k] for k in KEYS]
    return list(session.execute(select(*keys, func.count()).group_by(*keys)).all())


def _add_groups(counts: Counts, groups: Iterable[Any]) -> None:
    for *values, n in groups:
        for key, value in zip(KEYS, values, strict=True):
            counts[key][value] += n


def _occupation_group(key: str, counts: dict[str, int], total: int) -> dict[str, Any]:
    """A group's count and share, with each of its occupations when it has several."""
    label, codes = OCCUPATION_GROUPS[key]
    row: dict[str, Any] = {
        "key": key,
        "label": label,
        **share(sum(counts.get(c, 0) for c in codes), total),
    }
    if len(codes) > 1:
        row["parts"] = [
            {"key": c, "label": process.CHOICE_LABELS[c].vi, **share(counts.get(c, 0), total)}
            for c in codes
        ]
    return row


def _breakdown_result(groups: Iterable[Any]) -> dict[str, Any]:
    """The report from the ceremonies per combination of the keys."""
    counts: Counts = {key: defaultdict(int) for key in KEYS}
    _add_groups(counts, groups)
    return _result_of(counts)


def _result_of(counts: Counts) -> dict[str, Any]:
    """The report from the ceremonies per value of each key (values counted 0 are none)."""
    present = {key: {v: n for v, n in values.items() if n} for key, values in counts.items()}
    total = sum(present["gender"].values())
    women = present["gender"].get("female", 0)
    youth = sum(n for is_youth, n in present["youth"].items() if is_youth)
    minorities = 0
    dims: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for ethnicity, n in present["ethnicity"].items():
        ethnicity = (ethnicity or "").strip() or "Kinh"
        if ethnicity.casefold() != "kinh":
            minorities += n
            dims["ethnicity"][ethnicity] += n
    for religion, n in present["religion"].items():
        dims["religion"][_religion(religion)] += n
    for education, n in present["education"].items():
        dims["education"][(education or "").strip() or NOT_RECORDED] += n
    for occupation, n in present["occupation"].items():
        dims["occupation"][occupation if occupation in process.OCCUPATIONS else "other"] += n
    for band, n in present["band"].items():
        dims["band"][AGE_BANDS[int(band)][2]] += n
    occupation = [_occupation_group(key, dims["occupation"], total) for key in OCCUPATION_GROUPS]
    bands = [
        {"key": label, "label": label, **share(dims["band"].get(label, 0), total)}
        for _, _, label in AGE_BANDS
        if label != AGE_BANDS[0][2] or dims["band"].get(label)
    ]
    result: dict[str, Any] = {
        "admitted": total,
        "women": share(women, total),
        "youth_union": share(youth, total),
        "ethnic_minorities": share(minorities, total),
        "by_occupation": occupation,
        "by_ethnicity": _ranked(dims["ethnicity"], total),
        "by_religion": _ranked(dims["religion"], total),
        "by_education": _ranked(dims["education"], total),
        "by_age_band": bands,
    }
    result["tables"] = _breakdown_tables(result)
    return result


def _religion(value: str | None) -> str:
    text = (value or "").strip()
    return NO_RELIGION if text.casefold() in ("", "không", "khong", "none") else text


def _ranked(counts: dict[str, int], total: int) -> list[dict[str, Any]]:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"key": key, "label": key, **share(n, total)} for key, n in ordered]


def _breakdown_tables(result: dict[str, Any]) -> list[dict[str, Any]]:
    columns = [("Nhóm", "text"), ("Số lượng", "int"), ("Tỷ lệ", "percent")]
    total = result["admitted"]
    headline = table(
        "Đảng viên mới kết nạp",
        columns,
        [
            ["Tổng số", total, percent(total, total)],
            ["Nữ", result["women"]["count"], result["women"]["percent"]],
            [
                "Đoàn viên TNCS Hồ Chí Minh",
                result["youth_union"]["count"],
                result["youth_union"]["percent"],
            ],
            [
                "Dân tộc ít người",
                result["ethnic_minorities"]["count"],
                result["ethnic_minorities"]["percent"],
            ],
        ],
    )
    sections = (
        ("Theo lĩnh vực, nghề nghiệp", "by_occupation"),
        ("Theo độ tuổi khi kết nạp", "by_age_band"),
        ("Theo trình độ học vấn", "by_education"),
        ("Theo tôn giáo", "by_religion"),
        ("Dân tộc ít người", "by_ethnicity"),
    )
    return [headline] + [
        table(title, columns, [[r["label"], r["count"], r["percent"]] for r in result[key]])
        for title, key in sections
    ]
