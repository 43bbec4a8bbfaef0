"""Rules in force by date: an act is judged by the set of rule parameters in force on its
`on` date, a deadline counted by the set in force on its anchor, and a refusal cites the
text in force. The later set here is FICTIONAL (a test configuration): it only proves
the switch."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from tests.engine.conftest import Setup
from workflow import config, rules
from workflow.models import CaseDeadline
from workflow.refusal import Refusal

FICTIONAL = """
[rules]
effective_from = 2025-07-01

[[rules.later]]
effective_from = 2026-01-01
text_vi = "Quy định 999-QĐ/TW (giả định)"
text_en = "Regulation 999-QĐ/TW (fictional)"
sponsor_shared_months = 9
decision_working_days = 45
sources = { sponsor_shared_months = "QĐ 999 §3.2" }
"""
SWITCH = date(2026, 1, 1)


def fictional_book(tmp_path: Path) -> rules.RuleBook:
    path = tmp_path / "rules.toml"
    path.write_text(FICTIONAL, encoding="utf-8")
    return config.load(path, environ={}).rules


def test_the_book_picks_the_set_in_force_on_a_date(tmp_path: Path) -> None:
    book = fictional_book(tmp_path)
    shipped, later = book.sets
    assert book.on(date(2025, 12, 31)) is shipped and book.on(SWITCH) is later
    assert book.on(date(2012, 5, 1)) is shipped  # no earlier text configured
    assert book.until(shipped) == date(2025, 12, 31) and book.until(later) is None
    # what the later set does not name carries over; what it changes cites its text
    assert later.cell_quorum == shipped.cell_quorum == 3
    assert later.source_of("decision_working_days") == "Quy định 999-QĐ/TW (giả định)"
    assert later.source_of("sponsor_shared_months") == "QĐ 999 §3.2"
    assert later.source_of("min_age") == shipped.source_of("min_age") == "QĐ 294 §1.1"


def test_a_later_set_must_take_effect_later(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        "[rules]\neffective_from = 2025-07-01\n[[rules.later]]\neffective_from = 2025-01-01\n",
        encoding="utf-8",
    )
    with pytest.raises(config.ConfigError, match="must be after"):
        config.load(path, environ={})
    path.write_text("[[rules.later]]\neffective_from = 2026-01-01\nyuoth_age = 3\n")
    with pytest.raises(config.ConfigError, match="yuoth_age: unknown key"):
        config.load(path, environ={})


def _sponsors(setup: Setup, cell: int, since: date) -> dict[str, object]:
    first, second = setup.world.officials[cell][:2]
    return {
        "sponsors": [
            {"member_id": first, "alongside_since": since.isoformat()},
            {"member_id": second, "alongside_since": since.isoformat()},
        ]
    }


def test_the_same_act_is_refused_under_one_set_and_accepted_under_the_next(
    setup: Setup, tmp_path: Path
) -> None:
    setup.engine.params = fictional_book(tmp_path)
    cell = setup.dong_lo_cell
    case_id = setup.case_in("class_passed", end=date(2025, 12, 1))
    secretary = setup.secretary(cell)
    data = _sponsors(setup, cell, date(2025, 3, 1))  # 9 months alongside from 01/12/2025

    with pytest.raises(Refusal) as refused:
        setup.advance(case_id, "assign_sponsors", data, secretary, date(2025, 12, 20))
    assert refused.value.rule == "sponsor_shared_time"
    assert refused.value.source == "QĐ 294 §3.2.1"
    message = refused.value.message("vi")
    assert "cần ít nhất 12 tháng" in message
    assert "theo Quy định 294-QĐ/TW, hiệu lực từ 01/07/2025" in message
    assert "under Regulation 294-QĐ/TW, in force from 01/07/2025" in refused.value.message("en")
    assert setup.case(case_id).state == "class_passed"

    # the same sponsors, the same dates: recorded on a day the fictional set is in force
    outcome = setup.advance(case_id, "assign_sponsors", data, secretary, date(2026, 1, 5))
    assert outcome.accepted and outcome.case.state == "sponsored"


def test_the_later_set_refuses_citing_its_own_text(setup: Setup, tmp_path: Path) -> None:
    setup.engine.params = fictional_book(tmp_path)
    cell = setup.dong_lo_cell
    case_id = setup.case_in("class_passed", end=date(2026, 1, 10))
    data = _sponsors(setup, cell, date(2025, 6, 1))  # 7 months on 20/01/2026
    with pytest.raises(Refusal) as refused:
        setup.advance(case_id, "assign_sponsors", data, setup.secretary(cell), date(2026, 1, 20))
    assert refused.value.source == "QĐ 999 §3.2"
    message = refused.value.message("vi")
    assert "cần ít nhất 9 tháng" in message
    assert "theo Quy định 999-QĐ/TW (giả định), hiệu lực từ 01/01/2026" in message


def _decision_due(setup: Setup, case_id: int) -> date:
    with setup.engine.session() as session:
        query = select(CaseDeadline.due).where(
            CaseDeadline.case_id == case_id, CaseDeadline.deadline == "decision"
        )
        return session.exec(query).one()


def test_a_deadline_is_counted_by_the_set_in_force_on_its_anchor(
    setup: Setup, tmp_path: Path
) -> None:
    setup.engine.params = fictional_book(tmp_path)
    cell = setup.bang_lung_cell  # its committee votes before the authority decides
    before = setup.case_in("cell_resolved", cell=cell, end=date(2025, 12, 10))
    after = setup.case_in("cell_resolved", cell=cell, end=date(2026, 1, 12))
    resolved_before = setup.case(before).cell_resolution_on
    resolved_after = setup.case(after).cell_resolution_on
    assert resolved_before is not None and resolved_before < SWITCH <= resolved_after

    assert _decision_due(setup, before) == rules.add_working_days(resolved_before, 60)
    assert _decision_due(setup, after) == rules.add_working_days(resolved_after, 45)

    # an act after the switch recomputes the deadlines: the older case keeps its 60 days
    vote = {"members": 7, "votes_for": 7, "resolution_ref": "NQ-ĐU-1"}
    officer = setup.actor_for("committee_vote", cell)
    setup.advance(before, "committee_vote", vote, officer, date(2026, 1, 20))
    assert setup.case(before).state == "committee_resolved"
    assert _decision_due(setup, before) == rules.add_working_days(resolved_before, 60)
    assert setup.case(before).next_due is not None
    assert _decision_due(setup, before) - resolved_before > timedelta(days=60)


def test_every_parameter_has_a_vietnamese_label_a_unit_and_a_source() -> None:
    assert rules.number_fields() == tuple(rules.PARAMETERS)
    for parameter in rules.PARAMETERS.values():
        assert parameter.label.vi and parameter.label.en and parameter.source
        assert parameter.unit in rules.UNITS


def test_ketnap_rules_lists_every_set_with_labels_units_and_sources(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli.rules import rules_command

    path = tmp_path / "rules.toml"
    path.write_text(FICTIONAL, encoding="utf-8")
    runner = CliRunner()
    answer = runner.invoke(rules_command, ["--config", str(path), "--now", "2026-02-01", "--json"])
    assert answer.exit_code == 0, answer.output
    shipped, later = json.loads(answer.output)["sets"]
    assert (shipped["effective_from"], shipped["until"]) == ("2025-07-01", "2025-12-31")
    assert not shipped["in_force"] and later["in_force"]
    sponsor = {p["name"]: p for p in later["parameters"]}["sponsor_shared_months"]
    assert sponsor["value"] == 9 and sponsor["unit_label"]["vi"] == "tháng"
    assert sponsor["source"] == "QĐ 999 §3.2"
    assert sponsor["label"]["vi"].startswith("Thời gian người giới thiệu")

    shown = runner.invoke(rules_command, ["--config", str(path), "--now", "2025-08-01"]).output
    assert "Quy định 294-QĐ/TW — từ 01/07/2025 đến 31/12/2025 (đang có hiệu lực" in shown
    assert "Thời hạn cấp ủy có thẩm quyền ra quyết định kết nạp: 45 ngày làm việc" in shown
    assert "sponsor_shared_months" not in shown  # labels, never the parameter's name
