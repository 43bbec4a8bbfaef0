"""Fixtures of the scale-independence tests: generated datasets of a chosen size.

The data comes from the benchmark generator (bench/datagen.py: bulk rows, built as the
engine leaves them), so a dataset of a few hundred cases costs a second, not minutes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bench import datagen
from bench.advance import world_of
from web.app import create_app
from workflow import db
from workflow.clock import FixedClock
from workflow.config import Config, RuleParameters
from workflow.engine import Engine
from workflow.ops import demo

TODAY = date(2026, 3, 16)


@dataclass
class Site:
    """A generated dataset served by the app, and a case walked through the engine."""

    engine: Engine
    app: Flask
    dataset: datagen.Dataset
    walked_case: int  # probationary, with a full history made by engine.advance
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self) -> FlaskClient:
        return self.app.test_client(use_cookies=False)

    def bearer(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            response = self.client().post(
                "/api/v1/token", json={"username": username, "password": datagen.PASSWORD}
            )
            assert response.status_code == 200, response.get_data(as_text=True)
            self.tokens[username] = response.get_json()["token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}


def make_site(directory: Path, cases: int, page_size: int, url: str | None = None) -> Site:
    url = url or f"sqlite:///{directory / 'ketnap.db'}"
    dataset = datagen.generate(
        url, cases, TODAY, grassroots=1, cells_per_grassroots=2, progress=lambda _m: None
    )
    engine = Engine(db.connect(url), RuleParameters(), FixedClock.on(TODAY))
    world = world_of(engine, dataset.cell_ids[:1])
    cell = world.cell_ids[0]
    steps = demo.steps_to("probationary") + list(demo.PATH[9:11])
    start = TODAY - timedelta(days=demo.path_days(steps) + 3)
    data = demo.nomination(random.Random(cases), cell, start)
    data["person"]["youth_union_member"] = False
    outcome = engine.nominate(data, world.secretary[cell], on=start.isoformat())
    assert outcome.case.id is not None
    demo.walk(engine, world, outcome.case.id, cell, start, steps)
    app = create_app(
        engine,
        Config(),
        TESTING=True,
        WTF_CSRF_ENABLED=False,
        RATELIMIT_ENABLED=False,
        SECRET_KEY="perf-tests",
        KETNAP_PAGE_SIZE=page_size,
    )
    return Site(engine, app, dataset, outcome.case.id)


@pytest.fixture(scope="module")
def small_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    # A small page too, so that every list page of the small site shows rows.
    return make_site(tmp_path_factory.mktemp("perf-small"), 30, page_size=2)


@pytest.fixture(scope="module")
def large_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return make_site(tmp_path_factory.mktemp("perf-large"), 300, page_size=25)
