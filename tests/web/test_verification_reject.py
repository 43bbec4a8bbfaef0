"""The background verification offers only "meets the standards"; for a candidate who
does not meet them its form links to the rejection, opened with that ground chosen."""

from __future__ import annotations

import json
import re

from flask import Flask
from sqlmodel import select

from tests.web.support import TODAY, fresh_case, login, text_of, user
from workflow.engine import Engine
from workflow.models import Case, HistoryEvent
from workflow.ops.demo import World

GROUND = "background_does_not_meet"


def _details(html: str, event: str) -> str:
    found = re.search(rf'<details id="event-{event}".*?</details>', html, re.S)
    assert found, f"no form for {event}"
    return found.group(0)


def _dossier(engine: Engine, world: World) -> Case:
    cell = user(engine, "secretary").organisation_id
    assert cell is not None
    return fresh_case(engine, world, cell, "dossier_complete")


def test_the_verification_links_to_the_rejection_with_its_ground(
    app: Flask, engine: Engine, world: World
) -> None:
    case = _dossier(engine, world)
    client = login(app, "secretary")
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    verify = _details(html, "verify_background")
    options = re.findall(r'<option value="(\w+)"', verify)
    assert options == ["meets_standards"]  # nothing offered that would be refused
    assert re.search(r'<option value="meets_standards"\s+selected>', verify)  # the default
    link = f"/cases/{case.id}?step=reject&amp;ground={GROUND}#event-reject"
    assert f'href="{link}"' in verify
    asked = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert re.findall(r'<details id="event-(\w+)"[^>]*\bopen\b', asked) == ["reject"]
    reject = _details(asked, "reject")
    assert re.search(rf'<option value="{GROUND}"\s+selected>', reject)
    assert "Kết luận thẩm tra lý lịch: không đủ tiêu chuẩn" in text_of(reject)
    # an unknown ground preselects nothing
    other = client.get(f"/cases/{case.id}?step=reject&ground=bogus").get_data(as_text=True)
    assert "selected>" not in re.sub(r"<select[^>]*by.*?</select>", "", _details(other, "reject"))


def test_the_rejection_records_the_ground(app: Flask, engine: Engine, world: World) -> None:
    case = _dossier(engine, world)
    response = login(app, "secretary").post(
        f"/cases/{case.id}/events/reject",
        data={
            "version": case.version,
            "f.by": "cell",
            "f.ground": GROUND,
            "f.reason": "Công văn thẩm tra trả lời chưa rõ",
            "on": TODAY.strftime("%d/%m/%Y"),
        },
        follow_redirects=True,
    )
    assert response.status_code == 200, text_of(response.get_data(as_text=True))[:500]
    with engine.session() as session:
        last = session.exec(
            select(HistoryEvent)
            .where(HistoryEvent.case_id == case.id)
            .order_by(HistoryEvent.seq.desc())  # type: ignore[union-attr]
        ).first()
        assert last is not None and last.event == "reject"
        assert json.loads(last.data)["ground"] == GROUND
