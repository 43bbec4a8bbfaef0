"""Shared helpers of the web UI tests: a demo database built once per worker and
copied per test, an app around it, and a logged-in test client."""

from __future__ import annotations

import pickle
import re
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import col, select

from web.app import create_app
from workflow import db
from workflow.clock import FixedClock
from workflow.config import Config, RuleParameters
from workflow.engine import Engine
from workflow.models import Case, Member, User
from workflow.ops.demo import DEMO_PASSWORD, World, populate

TODAY = date(2026, 3, 16)


@dataclass(frozen=True)
class DemoTemplate:
    path: Path
    world: World


def build_template(folder: Path) -> DemoTemplate:
    path = folder / "demo.db"
    database = db.connect(f"sqlite:///{path}")
    db.migrate(database)
    world = populate(Engine(database, RuleParameters(), FixedClock.on(TODAY)))
    database.dispose()
    (folder / "world.pickle").write_bytes(pickle.dumps(world))
    return DemoTemplate(path, world)


def copy_engine(template: DemoTemplate, folder: Path) -> Engine:
    target = folder / "ketnap.db"
    shutil.copy(template.path, target)
    return Engine(db.connect(f"sqlite:///{target}"), RuleParameters(), FixedClock.on(TODAY))


def make_app(engine: Engine, **overrides: Any) -> Flask:
    settings: dict[str, Any] = {
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SECRET_KEY": "test-secret",
    }
    settings.update(overrides)
    return create_app(engine, Config(), **settings)


def login(app: Flask, username: str, password: str = DEMO_PASSWORD) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, f"{username} could not log in"
    return client


def text_of(html: str) -> str:
    """The visible text of a page, roughly: tags dropped, spaces squeezed."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()


def case_in_state(engine: Engine, state: str, cell_id: int | None = None) -> Case:
    with engine.session() as session:
        query = select(Case).where(Case.state == state)
        if cell_id is not None:
            query = query.where(Case.cell_id == cell_id)
        case = session.exec(query.order_by(col(Case.id))).first()
    assert case is not None, f"the demo has no case in {state}"
    return case


def user(engine: Engine, username: str) -> User:
    with engine.session() as session:
        record = session.exec(select(User).where(User.username == username)).one()
    return record


def members_of(engine: Engine, cell_id: int, status: str) -> list[Member]:
    with engine.session() as session:
        query = select(Member).where(Member.cell_id == cell_id, Member.status == status)
        return list(session.exec(query.order_by(col(Member.id))))


def fresh_case(engine: Engine, world: World, cell_id: int, state: str, seed: int = 7) -> Case:
    """A new candidate of `cell_id` walked by the demo's script to `state`."""
    import random

    from workflow.ops.demo import nomination, path_days, steps_to, walk

    steps = steps_to(state)
    start = TODAY - timedelta(days=path_days(steps) + 5)
    data = nomination(random.Random(seed), cell_id, start, age_years=30)
    data["person"]["youth_union_member"] = False
    data["nominated_by"] = "cell"
    outcome = engine.nominate(data, world.secretary[cell_id], on=start.isoformat())
    assert outcome.case.id is not None
    walk(engine, world, outcome.case.id, cell_id, start, steps)
    with engine.session() as session:
        case = session.get(Case, outcome.case.id)
    assert case is not None and case.state == state
    return case
