"""Who may call what: every route of the app, pages and API, for every role.

ONE table below says, for each (method, rule) of `app.url_map`, the status each role
gets. A route without a row fails `test_the_matrix_covers_every_route`, so a new
endpoint cannot ship without someone deciding who may use it.

Each role logs in once through /login (the API accepts the same session cookie) and
every request goes out on a fresh client carrying that cookie, so a logout or a
locale switch in one row cannot change another. Requests that would write are shaped
to be refused by a rule (422) or to add rows nothing else reads, so the rows do not
depend on their order. 302 for an anonymous page is the redirect to /login.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import col, select

from tests.api.support import TODAY, DemoTemplate, build_template, copy_engine, make_app
from workflow.engine import Engine
from workflow.models import Case, Member, Person, User
from workflow.ops import demo

ROLES = ("anonymous", "secretary", "sponsor", "officer", "auditor", "admin")


def row(
    anonymous: int, secretary: int, sponsor: int, officer: int, auditor: int, admin: int
) -> dict[str, int]:
    return dict(zip(ROLES, (anonymous, secretary, sponsor, officer, auditor, admin), strict=True))


# (method, rule): row(anonymous, secretary, sponsor, officer, auditor, admin)
MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/"): row(302, 200, 200, 200, 200, 200),
    ("GET", "/admin/"): row(302, 403, 403, 403, 403, 200),
    ("GET", "/admin/members"): row(302, 403, 403, 403, 403, 200),
    ("POST", "/admin/members"): row(302, 403, 403, 403, 403, 400),
    ("GET", "/admin/members/<int:member_id>"): row(302, 403, 403, 403, 403, 200),
    ("POST", "/admin/members/<int:member_id>"): row(302, 403, 403, 403, 403, 400),
    ("GET", "/admin/organisations"): row(302, 403, 403, 403, 403, 200),
    ("POST", "/admin/organisations"): row(302, 403, 403, 403, 403, 400),
    ("GET", "/admin/organisations/<int:org_id>"): row(302, 403, 403, 403, 403, 200),
    ("POST", "/admin/organisations/<int:org_id>"): row(302, 403, 403, 403, 403, 400),
    ("GET", "/admin/users"): row(302, 403, 403, 403, 403, 200),
    ("POST", "/admin/users"): row(302, 403, 403, 403, 403, 400),
    ("GET", "/admin/users/<int:user_id>"): row(302, 403, 403, 403, 403, 200),
    ("POST", "/admin/users/<int:user_id>"): row(302, 403, 403, 403, 403, 400),
    ("GET", "/api/docs"): row(200, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/admin-log"): row(401, 403, 403, 403, 200, 200),
    ("GET", "/api/v1/history/verify"): row(401, 403, 403, 403, 200, 200),
    ("GET", "/api/v1/history/checkpoints"): row(401, 403, 403, 403, 200, 200),
    ("GET", "/api/v1/cases"): row(401, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/members/search"): row(401, 200, 200, 200, 200, 200),
    ("POST", "/api/v1/cases"): row(401, 422, 403, 422, 403, 403),
    ("GET", "/api/v1/cases/<int:case_id>"): row(401, 200, 200, 200, 200, 200),
    ("POST", "/api/v1/cases/<int:case_id>/events"): row(401, 422, 403, 422, 403, 403),
    ("GET", "/api/v1/cases/<int:case_id>/history"): row(401, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/cases/<int:case_id>/history/verify"): row(401, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/inbox"): row(401, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/tasks"): row(401, 200, 200, 200, 200, 200),
    # the case waits for its cell's vote, no committee's step: an officer is told so
    ("POST", "/api/v1/tasks/<int:case_id>/<event>/claim"): row(401, 403, 403, 400, 403, 403),
    ("POST", "/api/v1/tasks/<int:case_id>/<event>/unclaim"): row(401, 403, 403, 400, 403, 403),
    ("GET", "/api/v1/me"): row(401, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/members"): row(401, 200, 403, 200, 200, 200),  # the export's rule
    ("POST", "/api/v1/members"): row(401, 403, 403, 403, 403, 201),
    ("PATCH", "/api/v1/members/<int:member_id>"): row(401, 403, 403, 403, 403, 400),
    ("GET", "/api/v1/narrative"): row(401, 200, 403, 200, 200, 200),
    ("GET", "/api/v1/narrative.docx"): row(401, 200, 403, 200, 200, 200),
    ("GET", "/api/v1/openapi.json"): row(200, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/organisations"): row(401, 200, 200, 200, 200, 200),
    ("POST", "/api/v1/organisations"): row(401, 403, 403, 403, 403, 201),
    ("PATCH", "/api/v1/organisations/<int:org_id>"): row(401, 403, 403, 403, 403, 400),
    ("GET", "/api/v1/process"): row(401, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/reports"): row(401, 200, 403, 200, 200, 200),
    ("GET", "/api/v1/reports/<name>"): row(401, 200, 403, 200, 200, 200),
    ("GET", "/api/v1/reports/<name>.csv"): row(401, 200, 403, 200, 200, 200),
    ("GET", "/api/v1/reports/<name>.xlsx"): row(401, 200, 403, 200, 200, 200),
    ("GET", "/api/v1/targets"): row(401, 200, 403, 200, 200, 200),
    ("POST", "/api/v1/targets"): row(401, 403, 403, 201, 403, 201),
    ("DELETE", "/api/v1/targets/<int:target_id>"): row(401, 403, 403, 404, 403, 404),
    ("POST", "/api/v1/token"): row(200, 200, 200, 200, 200, 200),
    ("PATCH", "/api/v1/village-officials/<int:official_id>"): row(401, 403, 403, 400, 403, 400),
    ("GET", "/api/v1/villages"): row(401, 200, 403, 200, 200, 200),
    ("POST", "/api/v1/villages"): row(401, 403, 403, 400, 403, 400),
    ("PATCH", "/api/v1/villages/<int:village_id>"): row(401, 403, 403, 400, 403, 400),
    ("POST", "/api/v1/villages/<int:village_id>/censuses"): row(401, 403, 403, 400, 403, 400),
    ("POST", "/api/v1/villages/<int:village_id>/officials"): row(401, 403, 403, 400, 403, 400),
    ("GET", "/audit/admin-log"): row(302, 403, 403, 403, 200, 200),
    ("GET", "/audit/admin-log.csv"): row(302, 403, 403, 403, 200, 200),
    ("GET", "/audit/ledger"): row(302, 403, 403, 403, 200, 200),
    ("GET", "/audit/ledger/checkpoints.json"): row(302, 403, 403, 403, 200, 200),
    ("POST", "/audit/integrity"): row(302, 403, 403, 403, 302, 302),  # queues a check
    ("GET", "/audit/integrity/<int:check_id>.json"): row(302, 403, 403, 403, 404, 404),
    ("GET", "/audit/cases/<int:case_id>"): row(302, 200, 200, 200, 200, 200),
    ("GET", "/audit/cases/<int:case_id>/history.csv"): row(302, 200, 200, 200, 200, 200),
    ("GET", "/audit/cases/<int:case_id>/print"): row(302, 200, 200, 200, 200, 200),
    ("GET", "/cases"): row(302, 200, 200, 200, 200, 200),
    ("GET", "/cases/<int:case_id>"): row(302, 200, 200, 200, 200, 200),
    ("POST", "/cases/<int:case_id>/events/<event_name>"): row(302, 400, 403, 400, 403, 403),
    # a step's form alone (fetched when opened): 404 to a role that may not record it
    ("GET", "/cases/<int:case_id>/events/<event_name>"): row(302, 200, 404, 200, 404, 404),
    ("GET", "/cases/<int:case_id>/forms/<form_name>.docx"): row(302, 200, 200, 200, 200, 200),
    ("GET", "/cases/new"): row(302, 200, 403, 200, 403, 403),
    ("POST", "/cases/new"): row(302, 400, 403, 400, 403, 403),
    ("GET", "/export"): row(302, 200, 200, 200, 200, 200),
    ("GET", "/export/<what>.<fmt>"): row(302, 200, 200, 200, 200, 200),
    ("GET", "/import"): row(302, 403, 403, 200, 403, 200),
    ("POST", "/import"): row(302, 403, 403, 400, 403, 400),
    ("GET", "/import/jobs/<int:job_id>"): row(302, 403, 403, 404, 403, 404),
    ("GET", "/import/jobs/<int:job_id>.json"): row(302, 403, 403, 404, 403, 404),
    ("GET", "/import/jobs/<int:job_id>/rejected.csv"): row(302, 403, 403, 404, 403, 404),
    ("GET", "/import/templates/<kind>.csv"): row(302, 403, 403, 200, 403, 200),
    ("GET", "/inbox"): row(302, 200, 200, 200, 200, 200),
    ("GET", "/tasks"): row(302, 200, 200, 200, 200, 200),
    ("POST", "/tasks/<int:case_id>/<event>/claim"): row(302, 403, 403, 400, 403, 403),
    ("POST", "/tasks/<int:case_id>/<event>/unclaim"): row(302, 403, 403, 400, 403, 403),
    ("POST", "/locale"): row(302, 302, 302, 302, 302, 302),
    ("GET", "/login"): row(200, 302, 302, 302, 302, 302),
    ("GET", "/resume"): row(302, 302, 302, 302, 302, 302),  # nothing kept: to the overview
    ("POST", "/login"): row(401, 401, 401, 401, 401, 401),
    ("POST", "/logout"): row(302, 302, 302, 302, 302, 302),
    ("GET", "/process"): row(302, 200, 200, 200, 200, 200),
    ("GET", "/reports"): row(302, 200, 403, 200, 200, 200),
    ("GET", "/rules"): row(302, 200, 200, 200, 200, 200),
    ("GET", "/reports/<name>"): row(302, 200, 403, 200, 200, 200),
    ("GET", "/reports/class-records"): row(302, 200, 403, 200, 200, 200),
    ("POST", "/reports/class-records"): row(302, 403, 403, 400, 403, 400),
    ("GET", "/reports/summary"): row(302, 200, 403, 200, 200, 200),
    ("GET", "/reports/targets"): row(302, 200, 403, 200, 200, 200),
    ("POST", "/reports/targets"): row(302, 403, 403, 400, 403, 400),
    ("POST", "/reports/targets/<int:target_id>/delete"): row(302, 403, 403, 404, 403, 404),
    ("GET", "/reports/village-records"): row(302, 200, 403, 200, 200, 200),
    ("POST", "/reports/village-records"): row(302, 403, 403, 400, 403, 400),
}


# ── what each request carries ────────────────────────────────────────────
class Fixture:
    """The rows the requests point at, found once in the demo world."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with engine.session() as session:
            secretary = session.exec(select(User).where(User.username == "secretary")).one()
            sponsor = session.exec(select(User).where(User.username == "sponsor")).one()
            cell = secretary.organisation_id
            # a case of the secretary's cell that the demo sponsor sponsors
            case = session.exec(
                select(Case)
                .where(Case.cell_id == cell, Case.state == "verified")
                .order_by(col(Case.id))
            ).first()
            person = session.get(Person, case.person_id) if case else None
            member = session.exec(select(Member).where(Member.cell_id == cell)).first()
        assert cell is not None and case is not None and person is not None and member is not None
        self.cell_id, self.case_id, self.member_id = cell, case.id, member.id
        self.user_id, self.person = sponsor.id, person

    def version(self) -> int:
        with self.engine.session() as session:
            case = session.get(Case, self.case_id)
            assert case is not None
            return case.version

    def url_values(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "member_id": self.member_id,
            "org_id": self.cell_id,
            "user_id": self.user_id,
            "target_id": 999_999,  # none: allowed roles get 404, deleting nothing
            "event": "cell_vote",  # the verified case's step: its cell's, no queue's
            "name": "pipeline",
            "event_name": "cell_vote",
            "filename": "css/ketnap.css",
            "form_name": "20-knd",  # due once sponsors are assigned: the case is verified
            "what": "cases",
            "fmt": "csv",
            "job_id": 999_999,  # an import job of nobody: 404 for those who may import
            "check_id": 999_999,  # an integrity check of nobody: 404 for its readers
            "kind": "cases",
            "village_id": 999_999,  # none: nothing changes
            "official_id": 999_999,
        }


def _same_person_again(f: Fixture) -> dict[str, Any]:
    """A nomination refused by one_open_case: nothing is written."""
    body = demo.nomination(random.Random(1), f.cell_id, TODAY)
    body["person"] |= {
        "full_name": f.person.full_name,
        "birth_date": f.person.birth_date.isoformat(),
        "national_id": f.person.national_id,
    }
    return {"json": {"on": TODAY.isoformat(), **body}}


def _too_few_voters(f: Fixture) -> dict[str, Any]:
    """A cell vote refused by quorum_base: nothing is written."""
    data = {"voters": 2, "votes_for": 2, "resolution_ref": "NQ-1"}
    body = {"event": "cell_vote", "on": TODAY.isoformat(), "data": data, "version": f.version()}
    return {"json": body}


# Bodies of the requests that need one (default: none).
BODIES: dict[tuple[str, str], Callable[[Fixture], dict[str, Any]]] = {
    ("POST", "/api/v1/token"): lambda f: {
        "json": {"username": "auditor", "password": demo.DEMO_PASSWORD}
    },
    ("POST", "/api/v1/cases"): _same_person_again,
    ("POST", "/api/v1/cases/<int:case_id>/events"): _too_few_voters,
    ("POST", "/api/v1/organisations"): lambda f: {
        "json": {"name": "Chi bộ thôn Mới", "kind": "cell", "parent_id": 2}
    },
    ("POST", "/api/v1/members"): lambda f: {
        "json": {"full_name": "Hà Văn Mới", "cell_id": f.cell_id, "official_since": "2020-01-01"}
    },
    ("POST", "/api/v1/tasks/<int:case_id>/<event>/claim"): lambda f: {"json": {}},
    ("POST", "/api/v1/tasks/<int:case_id>/<event>/unclaim"): lambda f: {"json": {}},
    ("POST", "/api/v1/targets"): lambda f: {  # setting the same target again changes nothing
        "json": {"organisation_id": 2, "kind": "year", "year": 2026, "number": 40}
    },
}


# ── the harness ──────────────────────────────────────────────────────────
LOGOUT = ("POST", "/logout")


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> tuple[Flask, Fixture, dict[str, str]]:
    template: DemoTemplate = build_template(tmp_path_factory.mktemp("matrix-template"))
    engine = copy_engine(template, Path(tmp_path_factory.mktemp("matrix")))
    app = make_app(engine, RATELIMIT_ENABLED=False, WTF_CSRF_ENABLED=False)
    cookies: dict[str, str] = {}
    for role in ROLES[1:]:
        client = app.test_client()
        answer = client.post("/login", data={"username": role, "password": demo.DEMO_PASSWORD})
        assert answer.status_code == 302, role
        cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
        assert cookie is not None
        cookies[role] = cookie.value
    return app, Fixture(engine), cookies


def _routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and not rule.endpoint.endswith(".static")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }


def _call(app: Flask, fixture: Fixture, cookie: str | None, method: str, rule: str) -> int:
    client = app.test_client()
    if cookie is not None:
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    values = fixture.url_values()
    path = rule
    for name, value in values.items():
        for converter in ("", "int:", "path:"):
            path = path.replace(f"<{converter}{name}>", str(value))
    assert "<" not in path, f"no value for a placeholder of {rule}"
    kwargs = BODIES.get((method, rule), lambda f: {})(fixture)
    return client.open(path, method=method, **kwargs).status_code


def test_the_matrix_covers_every_route(setting: tuple[Flask, Fixture, dict[str, str]]) -> None:
    app, _, _ = setting
    routes = _routes(app)
    missing = sorted(routes - set(MATRIX))
    stale = sorted(set(MATRIX) - routes)
    assert not missing and not stale, f"add rows for {missing}; remove rows for {stale}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_status_the_matrix_says(
    setting: tuple[Flask, Fixture, dict[str, str]], role: str
) -> None:
    app, fixture, cookies = setting
    cookie = cookies.get(role)
    wrong = []
    # logout ends the cookie's session for good (its generation): replay it last
    for (method, rule), expected in sorted(MATRIX.items(), key=lambda r: (r[0] == LOGOUT, r)):
        if (method, rule) not in _routes(app):
            continue  # reported by test_the_matrix_covers_every_route
        got = _call(app, fixture, cookie, method, rule)
        if got != expected[role]:
            wrong.append(f"{method} {rule}: expected {expected[role]}, got {got}")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


def probe(setting: tuple[Flask, Fixture, dict[str, str]]) -> str:
    """The rows as the app answers today (for writing the table; review before pasting)."""
    app, fixture, cookies = setting
    lines = []
    for method, rule in sorted(_routes(app), key=lambda r: (r[1], r[0])):
        statuses = [_call(app, fixture, cookies.get(role), method, rule) for role in ROLES]
        lines.append(f'    ("{method}", "{rule}"): row({", ".join(map(str, statuses))}),')
    return "\n".join(lines)
