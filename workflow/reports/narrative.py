"""The narrative summary: the period's figures stated in the sentences district reports
use ("Từ đầu nhiệm kỳ đến hết tháng 8/2013, toàn Đảng bộ huyện kết nạp được 625 đảng
viên, đạt 56,8% so với mục tiêu Nghị quyết số 130-NQ/HU …"). Every number comes from
`catalogue.compute`, so the text can never disagree with the tables.

Counts below ten are written with a leading zero ("02 tháng", "04 lớp") as the
administrative style of the articles does; thousands are grouped with "." (2.365).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from workflow.directory import targets
from workflow.directory.organisations import party_organisation_name
from workflow.models import AdmissionTarget, Organisation
from workflow.reports.catalogue import compute
from workflow.reports.categories import NO_RELIGION, NOT_RECORDED, OCCUPATION_LABELS
from workflow.reports.figures import exact, vi_number, vi_share


def count(n: int) -> str:
    """625 → "625"; 2365 → "2.365"; 4 → "04" (the articles' style)."""
    return f"{n:02d}" if 0 < n < 10 else vi_number(n)


def _join(items: list[str]) -> str:
    """ "a, b và c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " và " + items[-1]


def whole_of(org: Organisation) -> str:
    """How the articles name an organisation's whole membership: "toàn Đảng bộ xã …"."""
    if org.kind in ("cell", "grassroots_cell"):
        return org.name
    return "toàn " + party_organisation_name(org.name)


def _term_starts(session: Session, org_id: int) -> set[date]:
    query = select(col(AdmissionTarget.period_start)).where(
        AdmissionTarget.organisation_id == org_id, AdmissionTarget.kind == "congress_term"
    )
    return set(session.exec(query).all())


def period_phrase(start: date, end: date, term_starts: set[date]) -> str:
    """ "Từ đầu nhiệm kỳ đến hết tháng 8/2013", "Năm 2009", "Từ đầu năm 2024 đến ngày …"."""
    month_end = (end + timedelta(days=1)).day == 1
    whole_years = start == date(start.year, 1, 1) and end == date(end.year, 12, 31)
    if whole_years and start.year == end.year:
        return f"Năm {start.year}"
    if whole_years and start not in term_starts:
        return f"Từ năm {start.year} đến năm {end.year}"
    if start in term_starts:
        opening = "Từ đầu nhiệm kỳ"
    elif start == date(start.year, 1, 1):
        opening = f"Từ đầu năm {start.year}" if start.year == end.year else f"Từ năm {start.year}"
    else:
        opening = f"Từ ngày {start:%d/%m/%Y}"
    closing = f"đến hết tháng {end.month}/{end.year}" if month_end else f"đến ngày {end:%d/%m/%Y}"
    return f"{opening} {closing}"


def _target_phrase(row: dict[str, Any], report_from: str) -> str:
    """ "56,8% so với mục tiêu Nghị quyết số 130-NQ/HU"; when the target counts from
    another day than the report (a resolution older than the period), the phrase says
    what it counted: "(09 đảng viên tính từ 01/01/2021)"."""
    achieved = row["text"]
    since = ""
    if row["counted_from"] != report_from:
        counted_from = date.fromisoformat(row["counted_from"])
        since = f" ({count(row['admitted'])} đảng viên tính từ {counted_from:%d/%m/%Y})"
    if row["kind"] == "year":
        return f"{achieved} chỉ tiêu {row['label']}{since}"
    ref = row["ref"].strip()
    if row["kind"] == "resolution" and not ref.casefold().startswith("nghị quyết"):
        ref = f"Nghị quyết số {ref}"
    return f"{achieved} so với mục tiêu {ref or row['label']}{since}"


def _years_phrase(admissions: dict[str, Any], from_term_start: bool) -> str:
    """ "(02 tháng đầu nhiệm kỳ kết nạp 63 đảng viên, năm 2011 kết nạp 205 đảng viên …)"."""
    years = admissions["by_year"]
    if len(years) < 2:
        return ""
    year_targets = {
        row["year"]: row
        for row in admissions["targets"]
        if row["kind"] == "year" and row["number"] is not None
    }
    parts = []
    for index, year in enumerate(years):
        if year["months"] == 12:
            label = f"năm {year['year']}"
        elif index == 0:
            label = (
                f"{year['months']:02d} tháng đầu nhiệm kỳ"
                if from_term_start
                else f"{year['months']:02d} tháng cuối năm {year['year']}"
            )
        else:
            label = f"{year['months']:02d} tháng năm {year['year']}"
        part = f"{label} kết nạp {count(year['admitted'])} đảng viên"
        target = year_targets.get(year["year"])
        if target is not None:
            part += f", đạt {target['text']} chỉ tiêu năm"
        parts.append(part)
    return f" ({_join(parts)})"


def admissions_paragraph(
    admissions: dict[str, Any], org: Organisation, opening: str, from_term_start: bool
) -> str:
    set_targets = [row for row in admissions["targets"] if row["number"] is not None]
    if len(admissions["by_year"]) > 1:  # year targets then belong to each year's figure
        set_targets = [row for row in set_targets if row["kind"] != "year"]
    phrases = [_target_phrase(r, admissions["from"]) for r in set_targets]
    achieved = f", đạt {_join(phrases)}" if set_targets else ""
    return (
        f"{opening}, {whole_of(org)} kết nạp được {count(admissions['admitted'])} đảng viên"
        f"{achieved}{_years_phrase(admissions, from_term_start)}."
    )


def _share(label: str, figure: dict[str, Any]) -> str:
    return f"{label} {count(figure['count'])} ({figure['text']})"


def breakdown_paragraph(breakdown: dict[str, Any]) -> str:
    if not breakdown["admitted"]:
        return ""
    headline = [
        _share("nữ", breakdown["women"]),
        _share("đoàn viên TNCS Hồ Chí Minh", breakdown["youth_union"]),
    ]
    if breakdown["ethnic_minorities"]["count"]:
        headline.append(_share("dân tộc ít người", breakdown["ethnic_minorities"]))
    sentences = [f"Trong đó: {'; '.join(headline)}."]
    groups = [
        (label, [r for r in breakdown[key] if r["count"]])
        for label, key in (
            ("Phân loại theo lĩnh vực bao gồm", "by_occupation"),
            ("Theo độ tuổi khi kết nạp", "by_age_band"),
            ("Theo trình độ học vấn", "by_education"),
        )
    ]
    religious = [r for r in breakdown["by_religion"] if r["count"] and r["key"] != NO_RELIGION]
    if religious:
        groups.append(("Theo tôn giáo", religious))
    for label, rows in groups:
        if label == "Phân loại theo lĩnh vực bao gồm":
            items = [_share(_lower_first(r["label"]), r) for r in rows]
        elif label == "Theo độ tuổi khi kết nạp":
            items = [_share(f"{r['label'].lower()} tuổi", r) for r in rows]
        else:  # free text as recorded ("12/12", "Công giáo"): set off with a colon
            items = [_share(f"{_lower_first(r['label'])}:", r) for r in rows]
        sentences.append(f"{label}: {'; '.join(items)}.")
    sentences.append(_village_officials_sentence(breakdown["by_occupation"]))
    return " ".join(s for s in sentences if s)


def _village_officials_sentence(by_occupation: list[dict[str, Any]]) -> str:
    """ "Trong đó có 04 trưởng thôn, khu phố; 06 phó thôn, khu phố; 07 trưởng, phó xóm, tổ
    dân phố được kết nạp." — the article's split of the village officials' group."""
    parts = [part for row in by_occupation for part in row.get("parts", []) if part["count"]]
    if not parts:
        return ""
    items = [f"{count(p['count'])} {p['label'][0].lower()}{p['label'][1:]}" for p in parts]
    return f"Trong đó có {'; '.join(items)} được kết nạp."


def _lower_first(text: str) -> str:
    """ "Nông dân" → "nông dân" mid-sentence; free-text values ("12/12") stay as typed."""
    return text[0].lower() + text[1:] if text in _COMMON_LABELS else text


_COMMON_LABELS = set(OCCUPATION_LABELS.values()) | {NOT_RECORDED}


def confirmations_paragraph(confirmations: dict[str, Any], as_of: date) -> str:
    sentence = (
        "Xét công nhận thành đảng viên chính thức đối với "
        f"{count(confirmations['confirmed'])} đảng viên dự bị"
    )
    if confirmations["removed"]:
        sentence += f"; xóa tên {count(confirmations['removed'])} đảng viên dự bị"
    sentence += "."
    if confirmations["awaiting_after_probation"]:
        sentence += (
            f" Đến ngày {as_of:%d/%m/%Y} còn "
            f"{count(confirmations['awaiting_after_probation'])} đảng viên dự bị đã hết thời "
            "gian dự bị nhưng chưa được xét công nhận chính thức."
        )
    return sentence


def classes_paragraph(classes: dict[str, Any]) -> str:
    kinds = {k["kind"]: k for k in classes["by_kind"]}
    awareness, theory = kinds["awareness"], kinds["theory"]
    parts = []
    if awareness["classes"]:
        parts.append(
            f"tổ chức mở được {count(awareness['classes'])} lớp bồi dưỡng nhận thức về Đảng, "
            f"với {count(awareness['attendees'])} quần chúng tham dự"
        )
    if theory["classes"]:
        parts.append(
            "tổ chức bồi dưỡng lý luận chính trị cho đảng viên mới được "
            f"{count(theory['classes'])} lớp, với {count(theory['attendees'])} đảng viên tham dự"
        )
    text = "; ".join(parts)
    return f"{text[:1].upper()}{text[1:]}." if text else ""


def pipeline_paragraph(pipeline: dict[str, Any]) -> str:
    if not pipeline["open"]:
        return ""
    sentence = (
        f"Hiện có {count(pipeline['open'])} hồ sơ quần chúng đang được xem xét kết nạp "
        "hoặc đảng viên dự bị đang chờ công nhận chính thức"
    )
    late = [d for d in pipeline["overdue_by_deadline"] if d["overdue"]]
    if late:
        details = "; ".join(f"{d['label'].lower()}: {count(d['overdue'])}" for d in late)
        sentence += f", trong đó {count(pipeline['overdue_cases'])} hồ sơ đã quá hạn ({details})"
    return sentence + "."


def forecast_paragraph(forecast: dict[str, Any]) -> str:
    """ "Với tiến độ hiện nay, dự kiến đến hết năm 2026 kết nạp được khoảng 118 đảng viên
    (110 – 126), đạt khoảng 98,3% chỉ tiêu năm 2026." — one clause per open target; the
    report's reason when the history is too thin to forecast from."""
    rows = forecast["targets"]
    if not rows:
        return ""
    if forecast["message"]:
        return str(forecast["message"])
    clauses = [_forecast_clause(row) for row in rows]
    return f"Với tiến độ hiện nay, dự kiến {'; '.join(clauses)}."


def _forecast_clause(row: dict[str, Any]) -> str:
    end = date.fromisoformat(row["period_end"])
    if row["kind"] == "year" and end == date(end.year, 12, 31):
        until = f"đến hết năm {end.year}"
    elif (end + timedelta(days=1)).day == 1:
        until = f"đến hết tháng {end.month}/{end.year}"
    else:
        until = f"đến ngày {end:%d/%m/%Y}"
    if row["kind"] == "year":
        measured = f"chỉ tiêu {row['label']}"
    else:
        ref = row["ref"].strip()
        if row["kind"] == "resolution" and ref and not ref.casefold().startswith("nghị quyết"):
            ref = f"Nghị quyết số {ref}"
        measured = f"so với mục tiêu {ref or row['label']}"
    clause = (
        f"{until} kết nạp được khoảng {count(row['expected_count'])} đảng viên "
        f"({count(row['low'])} – {count(row['high'])}), đạt khoảng {row['text']} "
        f"{measured}"
    )
    if row["nominations_needed"]:
        clause += (
            f", cần giới thiệu thêm ngay khoảng {count(row['nominations_needed'])} quần chúng "
            "để đạt chỉ tiêu"
        )
    elif not row["reachable"]:
        clause += ", số hồ sơ giới thiệu mới từ nay không còn kịp kết nạp trước khi hết kỳ"
    return clause


def villages_paragraph(villages: dict[str, Any], org: Organisation) -> str:
    first, last = villages["at"][0], villages["at"][-1]
    if not last["villages"]:
        return ""
    intro = (
        f"{whole_of(org)[:1].upper()}{whole_of(org)[1:]} hiện có {count(last['villages'])} "
        f"thôn, tổ dân phố, với {count(last['heads']['total'])} trưởng thôn, "
        f"{count(last['deputies']['total'])} phó thôn"
    )
    if last["without_member"]:
        intro += f"; còn {count(last['without_member'])} thôn chưa có đảng viên"
    sentences = [intro + "."]
    if first is not last:
        sentences.append(
            f"Ngày {first['label']}, có {_officials(first, 'heads', 'trưởng thôn')}; có "
            f"{_officials(first, 'deputies', 'phó thôn')}."
        )
    change = villages["change"] if first is not last else {}
    precision = villages.get("precision", 1)
    heads = _officials(last, "heads", "trưởng thôn")
    deputies = _officials(last, "deputies", "phó thôn")
    heads += _change(change.get("heads_points"), precision)
    deputies += _change(change.get("deputies_points"), precision)
    sentences.append(f"Đến ngày {last['label']}, có {heads}; có {deputies}.")
    return " ".join(sentences)


def _officials(moment: dict[str, Any], key: str, title: str) -> str:
    share = moment[key]
    return (
        f"{count(share['members'])} {title} là đảng viên, chiếm tỷ lệ "
        f"{share['text']} trong tổng số {title}"
    )


def _change(points: Any, precision: int) -> str:
    """ ", tăng 0,93%": the change of the exact shares, printed like a share."""
    moved = exact(points)
    if moved is None:
        return ""
    if not moved:
        return ", không đổi"
    return f", {'tăng' if moved > 0 else 'giảm'} {vi_share(abs(moved), precision)}"


# The reports the paragraphs are made of: only these are computed (the forecast only
# when the period reaches today and a target of the organisation is open then),
# whatever else the catalogue holds.
PARAGRAPH_REPORTS = ("admissions", "breakdown", "confirmations", "classes", "pipeline", "villages")


def narrative(
    session: Session,
    org_id: int,
    date_from: date,
    date_to: date,
    *,
    today: date,
    precision: int = 1,
) -> dict[str, Any]:
    """{"title", "paragraphs": [{"topic", "text"}], "figures": the reports used}. Shares
    print one decimal, two under 1 % or with `precision=2` (figures.vi_share)."""
    reaches_today = date_to >= today
    forward = reaches_today and bool(targets.applicable(session, [org_id], today, today)[org_id])
    used = [*PARAGRAPH_REPORTS, *(["forecast"] if forward else [])]
    figures = {
        name: compute(session, name, org_id, date_from, date_to, as_of=today, precision=precision)
        for name in used
    }
    org = session.get(Organisation, org_id)
    assert org is not None
    term_starts = _term_starts(session, org_id)
    opening = period_phrase(date_from, date_to, term_starts)
    paragraphs = [
        (
            "admissions",
            admissions_paragraph(figures["admissions"], org, opening, date_from in term_starts),
        ),
        ("breakdown", breakdown_paragraph(figures["breakdown"])),
        ("confirmations", confirmations_paragraph(figures["confirmations"], min(today, date_to))),
        ("classes", classes_paragraph(figures["classes"])),
        ("pipeline", pipeline_paragraph(figures["pipeline"]) if reaches_today else ""),
        ("forecast", forecast_paragraph(figures["forecast"]) if forward else ""),
        ("villages", villages_paragraph(figures["villages"], org)),
    ]
    return {
        "title": f"Kết quả công tác phát triển đảng viên — {org.name}",
        "period": opening,
        "organisation": {"id": org.id, "name": org.name},
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "paragraphs": [{"topic": topic, "text": text} for topic, text in paragraphs if text],
        "figures": figures,
    }


def as_text(summary: dict[str, Any]) -> str:
    return "\n\n".join([summary["title"], *(p["text"] for p in summary["paragraphs"])])
