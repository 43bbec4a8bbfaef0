"""The demo world on a throw-away SQLite file, and a small client for the JSON API.

Populating the demo takes seconds, so each test process builds it once and every
test gets its own copy of the file (tests stay independent and parallel-safe).
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from web.app import create_app
from workflow import db
from workflow.clock import FixedClock
from workflow.config import Config, RuleParameters
from workflow.engine import Engine
from workflow.ops import demo
from workflow.ops.demo import World

TODAY = date(2026, 3, 2)  # a Monday
PASSWORD = demo.DEMO_PASSWORD
ROLES = ("secretary", "sponsor", "officer", "auditor", "admin")


@dataclass(frozen=True)
class DemoTemplate:
    path: Path
    world: World


def build_template(directory: Path) -> DemoTemplate:
    path = directory / "demo.db"
    database = db.connect(f"sqlite:///{path}")
    db.migrate(database)
    world = demo.populate(Engine(database, RuleParameters(), FixedClock.on(TODAY)))
    database.dispose()  # the last connection's close folds the WAL into the file
    return DemoTemplate(path, world)


def copy_engine(template: DemoTemplate, directory: Path) -> Engine:
    target = directory / "ketnap.db"
    shutil.copyfile(template.path, target)
    return Engine(db.connect(f"sqlite:///{target}"), RuleParameters(), FixedClock.on(TODAY))


def make_app(engine: Engine, **overrides: Any) -> Flask:
    settings: dict[str, Any] = {"TESTING": True, "SECRET_KEY": "test-secret"} | overrides
    return create_app(engine, config=Config(), **settings)


class Api:
    """The JSON API as one user or another: `api.get(path, as_="secretary")`."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self.tokens:
            answer = self.client.post(
                "/api/v1/token", json={"username": username, "password": PASSWORD}
            )
            assert answer.status_code == 200, answer.get_data(as_text=True)
            self.tokens[username] = answer.get_json()["token"]
        return self.tokens[username]

    def headers(self, username: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"} if username else {}

    def get(self, path: str, as_: str | None = None, **kwargs: Any) -> TestResponse:
        return self.client.get(path, headers=self.headers(as_), **kwargs)

    def post(self, path: str, as_: str | None = None, **kwargs: Any) -> TestResponse:
        return self.client.post(path, headers=self.headers(as_), **kwargs)

    def case(self, case_id: int, as_: str = "admin") -> dict[str, Any]:
        answer = self.get(f"/api/v1/cases/{case_id}", as_=as_)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return answer.get_json()  # type: ignore[no-any-return]

    def record(
        self,
        case_id: int,
        event: str,
        data: dict[str, Any] | None,
        on: date | str,
        as_: str,
        version: int | None = None,
        note: str | None = None,
    ) -> TestResponse:
        if version is None:
            version = self.case(case_id)["version"]
        body: dict[str, Any] = {
            "event": event,
            "on": on.isoformat() if isinstance(on, date) else on,
            "data": data,
            "version": version,
        }
        if note is not None:
            body["note"] = note
        return self.post(f"/api/v1/cases/{case_id}/events", as_=as_, json=body)


def error_of(answer: TestResponse) -> dict[str, Any]:
    assert answer.is_json, answer.get_data(as_text=True)[:300]
    body = answer.get_json()
    assert set(body) <= {"error", "errors"}
    assert {"rule", "message", "source", "field"} <= set(body["error"])
    if "errors" in body:  # every problem of the input, the first being `error`
        assert body["errors"][0] == body["error"]
    return body["error"]  # type: ignore[no-any-return]


class Walker:
    """Cases walked over HTTP to a state with demo.PATH's data, cached per variant.

    Tests that only provoke refusals (which write nothing) can share these cases.
    """

    def __init__(self, api: Api, world: World) -> None:
        self.api, self.world = api, world
        self.walked: dict[tuple[Any, ...], tuple[dict[str, Any], date]] = {}

    def users(self, cell: int) -> dict[str, str]:
        w = self.world
        return {
            "secretary": w.secretary[cell].username,
            "committee": w.committee_officer[cell].username,
            "authority": w.authority_officer[cell].username,
        }

    def case(
        self,
        state: str,
        cell_index: int = 0,
        start: date | None = None,
        age: int | None = None,
        youth: bool = False,
    ) -> tuple[dict[str, Any], date]:
        """A case in `state` and the date of its last act."""
        key = (state, cell_index, start, age, youth)
        if key not in self.walked:
            self.walked[key] = self._walk(state, self.world.cell_ids[cell_index], start, age, youth)
        return self.walked[key]

    def _walk(
        self, state: str, cell: int, start: date | None, age: int | None, youth: bool
    ) -> tuple[dict[str, Any], date]:
        steps = demo.steps_to(state)
        on = start or TODAY - timedelta(days=demo.path_days(steps) + 10)
        nomination = demo.nomination(random.Random(len(self.walked) + 11), cell, on, age)
        nomination["person"]["youth_union_member"] = youth
        users = self.users(cell)
        answer = self.api.post(
            "/api/v1/cases", as_=users["secretary"], json={"on": on.isoformat(), **nomination}
        )
        assert answer.status_code == 201, answer.get_json()
        case = answer.get_json()
        for step in steps:
            on += timedelta(days=step.after_days)
            data = step.data(self.world, cell, on)
            answer = self.api.record(case["id"], step.event, data, on, users[step.actor])
            assert answer.status_code == 200, (step.event, answer.get_json())
            case = answer.get_json()
        return case, on

    def members(self, cell_index: int, status: str) -> list[int]:
        cell = self.world.cell_ids[cell_index]
        listed = self.api.get(f"/api/v1/members?cell={cell}", as_="admin").get_json()
        return [m["id"] for m in listed if m["status"] == status]
