"""Figures as the articles print them: half-up rounding to one decimal, Vietnamese number
formatting, a dash where there is nothing to divide by, and the narrative's phrases.
Pure functions: no database."""

from __future__ import annotations

from datetime import date

import pytest

from workflow.reports import catalogue, narrative, period, scope
from workflow.reports.figures import (
    Share,
    change,
    percent,
    percent_tenths,
    restate,
    vi_number,
    vi_percent,
    vi_share,
)
from workflow.schema import InvalidData


@pytest.mark.parametrize(
    ("part", "whole", "printed"),
    [
        (625, 1100, "56,8%"),  # Hiệp Hòa: 56,818…
        (625, 1000, "62,5%"),
        (846, 750, "112,8%"),  # Ba Bể
        (248, 250, "99,2%"),  # Lộc Bình
        (226, 625, "36,2%"),  # the article printed 36,1% (rounded down by hand)
        (1, 8, "12,5%"),  # exactly half: up
        (1, 16, "6,3%"),  # 6,25 → 6,3 (binary floats would say 6,2)
        (0, 5, "0,0%"),
        (5, 5, "100,0%"),
    ],
)
def test_percentages_round_half_up_to_one_decimal(part: int, whole: int, printed: str) -> None:
    assert vi_percent(part, whole) == printed


@pytest.mark.parametrize(
    ("part", "whole", "one", "two", "api"),
    [
        (4, 625, "0,64%", "0,64%", 0.64),  # Hiệp Hòa's pupils: under 1 %, two decimals
        (1, 625, "0,16%", "0,16%", 0.16),
        (110, 321, "34,3%", "34,27%", 34.27),  # 34,2679…
        (107, 321, "33,3%", "33,33%", 33.33),
        (263, 625, "42,1%", "42,08%", 42.08),
        (1, 800, "0,13%", "0,13%", 0.13),  # 0,125 → 0,13: half away from zero
        (0, 7, "0,0%", "0,00%", 0.0),
    ],
)
def test_shares_are_exact_and_rounded_once_where_shown(
    part: int, whole: int, one: str, two: str, api: float
) -> None:
    share = Share.of(part, whole)
    assert share is not None and share.exact * whole == 100 * part
    assert (vi_share(share), vi_share(share, 2), float(share)) == (one, two, api)


def test_a_change_is_the_difference_of_the_exact_shares() -> None:
    """110/321 − 107/321 = 0,93 points; the rounded shares would say 34,3 − 33,3 = 1,0."""
    moved = change(Share.of(107, 321), Share.of(110, 321))
    assert moved is not None and moved.exact * 321 == 300
    assert (vi_share(moved), float(moved)) == ("0,93%", 0.93)
    fell = change(Share.of(2, 3), Share.of(1, 3))
    assert fell is not None and (vi_share(fell), float(fell)) == ("-33,3%", -33.33)
    assert change(None, Share.of(1, 3)) is None


def test_a_report_restated_at_two_decimals_rewrites_every_share_from_its_exact_value() -> None:
    result = {"a": {"percent": Share.of(110, 321), "text": "34,3%"}, "rows": [{"x": 1}]}
    restate(result, 2)
    assert result["a"]["text"] == "34,27%"


def test_a_share_of_nothing_is_a_dash_not_a_division_by_zero() -> None:
    assert vi_percent(0, 0) == "—"
    assert vi_percent(3, None) == "—"
    assert percent(3, 0) is None and percent_tenths(0, 0) is None


@pytest.mark.parametrize(
    ("value", "printed"), [(625, "625"), (2365, "2.365"), (1681, "1.681"), (1000000, "1.000.000")]
)
def test_thousands_are_grouped_with_a_dot(value: int, printed: str) -> None:
    assert vi_number(value) == printed


def test_small_counts_take_a_leading_zero_as_in_the_articles() -> None:
    assert [narrative.count(n) for n in (0, 2, 8, 10, 2365)] == ["0", "02", "08", "10", "2.365"]


@pytest.mark.parametrize(
    ("start", "end", "phrase"),
    [
        (date(2010, 11, 1), date(2013, 8, 31), "Từ đầu nhiệm kỳ đến hết tháng 8/2013"),
        (date(2009, 1, 1), date(2009, 12, 31), "Năm 2009"),
        (date(2010, 1, 1), date(2020, 12, 31), "Từ năm 2010 đến năm 2020"),
        (date(2025, 1, 1), date(2025, 6, 30), "Từ đầu năm 2025 đến hết tháng 6/2025"),
        (date(2025, 3, 15), date(2025, 6, 20), "Từ ngày 15/03/2025 đến ngày 20/06/2025"),
    ],
)
def test_the_period_is_said_the_way_reports_say_it(start: date, end: date, phrase: str) -> None:
    assert narrative.period_phrase(start, end, {date(2010, 11, 1)}) == phrase


def test_a_period_that_ends_before_it_starts_is_refused_in_vietnamese() -> None:
    with pytest.raises(InvalidData) as refused:
        period.period(date(2025, 6, 1), date(2025, 1, 1))
    assert refused.value.field == "to"
    assert "trước ngày bắt đầu" in refused.value.message_vi


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2025-13-01"}, "from"),
        ({"to": "hôm qua"}, "to"),
        ({"org": "abc"}, "org"),
        ({"org": "99999999999999"}, "org"),
        ({"from": "2025-06-01", "to": "2025-01-01"}, "to"),
        ({"from": "1800-01-01"}, "from"),
    ],
)
def test_bad_query_parameters_name_the_field(query: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidData) as refused:
        scope.parse_query(query, date(2026, 6, 30))
    assert refused.value.field == field


def test_the_query_defaults_to_this_year_up_to_today() -> None:
    assert scope.parse_query({}, date(2026, 6, 30)) == (
        None,
        date(2026, 1, 1),
        date(2026, 6, 30),
    )


def test_every_report_is_listed_with_a_title() -> None:
    listed = catalogue.catalogue()
    assert [r["name"] for r in listed] == [
        "admissions",
        "breakdown",
        "confirmations",
        "classes",
        "pipeline",
        "villages",
        "step_durations",
        "forecast",
    ]
    assert all(r["title"] for r in listed)


def _result_with(text: str) -> dict[str, object]:
    return {
        "title": "Lớp bồi dưỡng và học viên",
        "organisation": {"id": 1, "name": "Đảng bộ xã"},
        "from": "2025-01-01",
        "to": "2025-12-31",
        "tables": [
            {
                "title": "Danh sách lớp",
                "columns": [
                    {"label": "Tên lớp", "type": "text"},
                    {"label": "Học viên", "type": "int"},
                ],
                "rows": [[text, 12]],
            }
        ],
    }


def test_text_that_looks_like_a_formula_stays_text_in_csv_and_xlsx() -> None:
    import io

    from openpyxl import load_workbook

    from workflow.reports.files import to_csv, to_xlsx

    trap = '=HYPERLINK("http://x.example","bấm")'
    assert f"'{trap}" in to_csv(_result_with(trap)).replace('""', '"')
    sheet = load_workbook(io.BytesIO(to_xlsx(_result_with(trap)))).worksheets[1]
    assert sheet.cell(2, 1).value == "'" + trap and sheet.cell(2, 1).data_type == "s"
    assert sheet.cell(2, 2).value == 12


@pytest.mark.parametrize(
    ("committee", "organisation"),
    [
        ("Huyện ủy Hiệp Hòa", "Đảng bộ huyện Hiệp Hòa"),
        ("Huyện uỷ Hiệp Hòa", "Đảng bộ huyện Hiệp Hòa"),
        ("Tỉnh ủy Bắc Giang", "Đảng bộ tỉnh Bắc Giang"),
        ("Thành ủy Lạng Sơn", "Đảng bộ thành phố Lạng Sơn"),
        ("Thị ủy Phú Thọ", "Đảng bộ thị xã Phú Thọ"),
        ("Quận ủy Ba Đình", "Đảng bộ quận Ba Đình"),
        ("Đảng ủy xã Đông Lỗ", "Đảng bộ xã Đông Lỗ"),
        ("Đảng uỷ Khối cơ quan", "Đảng bộ Khối cơ quan"),
        ("Đảng bộ huyện Ba Bể", "Đảng bộ huyện Ba Bể"),
    ],
)
def test_the_narrative_names_the_party_organisation_a_committee_leads(
    committee: str, organisation: str
) -> None:
    from workflow.directory.organisations import party_organisation_name

    assert party_organisation_name(committee) == organisation


def test_village_officials_are_three_occupations_counted_as_one_group() -> None:
    """The articles print "trưởng phó thôn 18" in the breakdown, and elsewhere "04 trưởng
    thôn, khu phố; 06 phó thôn, khu phố; 07 trưởng, phó xóm, tổ dân phố"."""
    from workflow.reports.breakdown import _breakdown_result
    from workflow.reports.narrative import breakdown_paragraph

    def group(occupation: str, n: int) -> tuple[object, ...]:
        return ("male", False, "Kinh", None, "12/12", occupation, 1, n)

    result = _breakdown_result(
        [
            group("village_head", 4),
            group("village_deputy", 6),
            group("hamlet_leader", 8),
            group("farmer", 82),
        ]
    )
    officials = next(r for r in result["by_occupation"] if r["key"] == "village_head")
    assert (officials["label"], officials["count"], officials["text"]) == (
        "Trưởng, phó thôn",
        18,
        "18,0%",
    )
    assert [(p["key"], p["count"]) for p in officials["parts"]] == [
        ("village_head", 4),
        ("village_deputy", 6),
        ("hamlet_leader", 8),
    ]
    text = breakdown_paragraph(result)
    assert "trưởng, phó thôn 18 (18,0%)" in text
    assert (
        "Trong đó có 04 trưởng thôn, khu phố; 06 phó thôn, khu phố; 08 trưởng, phó xóm, "
        "tổ dân phố được kết nạp."
    ) in text
