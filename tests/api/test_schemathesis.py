"""schemathesis over /api/v1/openapi.json against the app itself (WSGI, no server).

Positive and negative examples for every operation, each sent as the demo admin, the
demo officer and nobody: no answer may be a server error, and every answer must
match the schema the document declares for its status.

(schemathesis's own pytest plugin does not run under pytest 9 — it sets
`Node._nodeid` — so the operations are driven with Hypothesis directly.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.api.support import Api, DemoTemplate, copy_engine, make_app

CHECKS = [not_a_server_error, response_schema_conformance]
EXAMPLES = 20  # per operation and generation mode
EXAMPLES_PER_CASE = 10  # per real case, in the test that targets them
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api_schema(demo_template: DemoTemplate, tmp_path_factory: pytest.TempPathFactory) -> Any:
    engine = copy_engine(demo_template, Path(tmp_path_factory.mktemp("schemathesis")))
    app = make_app(engine, RATELIMIT_ENABLED=False)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture(scope="module")
def callers(api_schema: Any) -> list[dict[str, str]]:
    api = Api(api_schema.app.test_client())
    return [api.headers("admin"), api.headers("officer"), {}]


def _run(strategy: Any, exercise: Any, examples: int = EXAMPLES) -> None:
    settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )(given(case=strategy)(exercise))()


def _operations(api_schema: Any) -> list[Any]:
    return [result.ok() for result in api_schema.get_all_operations()]


def test_the_document_yields_every_operation(api_schema: Any) -> None:
    labels = {operation.label for operation in _operations(api_schema)}
    assert "POST /api/v1/cases/{case_id}/events" in labels
    assert "GET /api/v1/cases" in labels


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_input_gives_a_server_error_or_breaks_the_schema(
    api_schema: Any, callers: list[dict[str, str]], mode: GenerationMode
) -> None:
    failures: list[str] = []
    for operation in _operations(api_schema):

        def exercise(case: Any) -> None:
            for headers in callers:
                case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            _run(operation.as_strategy(generation_mode=mode), exercise)
        except Exception as failure:  # collect them all: one run names every bad operation
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)


def test_events_with_the_right_version_reach_the_rules_without_a_server_error(
    api_schema: Any, callers: list[dict[str, str]]
) -> None:
    """Random ids rarely name a case, random versions are stale and random events are
    not allowed: here each example targets a real case in every state, with an event
    its state allows and its current version, so the generated data meets the rules."""
    api = Api(api_schema.app.test_client())
    officer = callers[1]
    listed = api.get("/api/v1/cases?per_page=100", as_="officer").get_json()["items"]
    one_per_state = {case["state"]: case["id"] for case in listed}
    record = next(
        o for o in _operations(api_schema) if o.label == "POST /api/v1/cases/{case_id}/events"
    )
    failures: list[str] = []
    for state, case_id in sorted(one_per_state.items()):
        allowed = set(api.case(case_id, as_="officer")["allowed_events"]) or {"withdraw"}
        strategy = record.as_strategy(path_parameters={"case_id": case_id}).filter(
            lambda case, allowed=allowed: (
                isinstance(case.body, dict) and case.body.get("event") in allowed
            )
        )
        try:
            _run(strategy, _with_current_version(api, case_id, officer), EXAMPLES_PER_CASE)
        except Exception as failure:
            failures.append(f"case {case_id} ({state}): {failure}")
    assert not failures, "\n\n".join(failures)


def _with_current_version(api: Api, case_id: int, headers: dict[str, str]) -> Any:
    def exercise(case: Any) -> None:
        if isinstance(case.body, dict):
            case.body["version"] = api.case(case_id)["version"]
        case.call_and_validate(headers=headers, checks=CHECKS)

    return exercise
