"""Several processes on one PostgreSQL: 2 gunicorn workers, `ketnap scheduler`, and extra
sweeps — many concurrent advances over HTTP, and reminders that fall due meanwhile.

No lost update (each case's version counts exactly the accepted events), no duplicate
history row (one row per (case, seq), every chain verifies), no reminder recorded or
e-mailed twice.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, text
from sqlmodel import select

from tests.scale.conftest import Deployment
from workflow import history
from workflow.models import Case, Delivery, HistoryEvent, InboxItem, Reminder
from workflow.ops import demo

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CLIENTS = 6  # concurrent writers, each with its own connection and bearer token
CASES = 3
STEPS = demo.steps_to("probationary")  # 9 steps, every one with dates in the past


def call(port: int, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        payload = json.dumps(body) if body is not None else None
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        connection.close()


def token_of(port: int, username: str) -> str:
    status, body = call(
        port, "POST", "/api/v1/token", "", {"username": username, "password": demo.DEMO_PASSWORD}
    )
    assert status == 200, body
    return str(body["token"])


def nominate_cases(deployed: Deployment) -> tuple[list[int], int, Any]:
    world, engine = deployed.world, deployed.engine
    cell = world.cell_ids[0]  # its grassroots committee may admit: secretary + officer act
    start = engine.clock.today() - timedelta(days=demo.path_days(STEPS) + 5)
    ids = []
    for n in range(CASES):
        data = demo.nomination(random.Random(n), cell, start)
        data["person"]["youth_union_member"] = False
        data["person"]["full_name"] += f" (đa tiến trình {n})"
        outcome = engine.nominate(data, world.secretary[cell], on=start.isoformat())
        assert outcome.case.id is not None
        ids.append(outcome.case.id)
    return ids, cell, start


def race(port: int, case_id: int, body: dict[str, Any], tokens: list[str]) -> list[int]:
    """Every client reads the case, then all post the same next event at once — each
    with its own note: different acts, so one wins and the others conflict (the very
    same act sent twice is answered as the first: tests/api/test_resubmission.py)."""
    gate = threading.Barrier(len(tokens))
    statuses: list[int] = [0] * len(tokens)

    def client(n: int) -> None:
        status, case = call(port, "GET", f"/api/v1/cases/{case_id}", tokens[n])
        assert status == 200, case
        gate.wait(timeout=60)
        statuses[n], _ = call(
            port,
            "POST",
            f"/api/v1/cases/{case_id}/events",
            tokens[n],
            {**body, "version": case["version"], "note": f"client {n}"},
        )

    threads = [threading.Thread(target=client, args=(n,)) for n in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def test_concurrent_writers_workers_and_sweepers_lose_nothing_and_repeat_nothing(
    deployment: Deployment,
) -> None:
    port, world = deployment.port, deployment.world
    case_ids, cell, start = nominate_cases(deployment)
    tokens = {
        "secretary": [token_of(port, "secretary") for _ in range(CLIENTS)],
        "committee": [token_of(port, "officer") for _ in range(CLIENTS)],
        "authority": [token_of(port, "officer") for _ in range(CLIENTS)],
    }
    accepted: Counter[int] = Counter()
    conflicts = 0
    sweeps = []
    on = start
    for number, step in enumerate(STEPS):
        on = on + timedelta(days=step.after_days)
        if number in (2, 5):  # extra sweepers racing the scheduler while cases move
            sweeps += [deployment.ketnap("remind"), deployment.ketnap("remind")]
        for case_id in case_ids:
            body = {"event": step.event, "data": step.data(world, cell, on), "on": on.isoformat()}
            statuses = race(port, case_id, body, tokens[step.actor])
            assert sorted(statuses) == [200] + [409] * (CLIENTS - 1), (step.event, statuses)
            accepted[case_id] += 1
            conflicts += statuses.count(409)
    for sweep in sweeps:
        _out, errors = sweep.communicate(timeout=300)
        assert sweep.returncode == 0, errors[-2000:]
    assert conflicts == len(case_ids) * len(STEPS) * (CLIENTS - 1)

    with deployment.engine.session() as session:
        for case_id in case_ids:
            case = session.get(Case, case_id)
            assert case is not None and case.state == "probationary"
            # No lost update: one version per accepted event (+1 for the nomination).
            assert case.version == 1 + accepted[case_id]
            rows = history.rows_of(session, case_id)
            assert [r.seq for r in rows] == list(range(1, case.version + 1))
            assert history.verify_case(session, case_id).intact
        duplicated_seq = session.exec(
            select(HistoryEvent.case_id, HistoryEvent.seq)
            .group_by(HistoryEvent.case_id, HistoryEvent.seq)
            .having(func.count() > 1)
        ).all()
        assert duplicated_seq == []
        assert history.verify_all(session) == []
    assert_reminders_once(deployment)


def assert_reminders_once(deployment: Deployment) -> None:
    """Each reminder key recorded once, each inbox item once, each e-mail sent once."""
    final = [deployment.ketnap("remind"), deployment.ketnap("remind")]  # a last race
    for sweep in final:
        _, errors = sweep.communicate(timeout=300)
        assert sweep.returncode == 0, errors[-2000:]
    with deployment.engine.session() as session:
        assert session.exec(select(func.count()).select_from(Reminder)).one() > 0
        keys = session.exec(
            select(Reminder.case_id, Reminder.deadline, Reminder.due, Reminder.stage,
                   Reminder.warn, Reminder.cell_id)
            .group_by(Reminder.case_id, Reminder.deadline, Reminder.due, Reminder.stage,
                      Reminder.warn, Reminder.cell_id)
            .having(func.count() > 1)
        ).all()  # fmt: skip
        assert keys == []
        items = session.exec(
            select(InboxItem.reminder_id, InboxItem.user_id)
            .group_by(InboxItem.reminder_id, InboxItem.user_id)
            .having(func.count() > 1)
        ).all()
        assert items == []
        sent = set(
            session.exec(
                select(Delivery.id).where(Delivery.status == "sent", Delivery.channel == "email")
            ).all()
        )
        pending = session.execute(
            text("SELECT count(*) FROM delivery WHERE status = 'pending' AND NOT digest")
        ).scalar()
    assert sent, "the sweeps sent no e-mail: nothing was checked"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _delivered(deployment) < len(sent):
        time.sleep(0.2)
    mailed = Counter(
        int(delivery_id)
        for message in deployment.smtp.messages
        for delivery_id in str(message.message["X-Ketnap-Deliveries"] or "").split(",")
        if delivery_id
    )
    assert set(mailed) == sent
    assert all(count == 1 for count in mailed.values()), mailed.most_common(3)
    assert pending == 0


def _delivered(deployment: Deployment) -> int:
    return sum(
        len(str(m.message["X-Ketnap-Deliveries"] or "").split(","))
        for m in deployment.smtp.messages
    )
