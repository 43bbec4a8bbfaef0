"""Fixtures of the API tests: a demo world per test, the app around it, an API client."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.api.support import Api, DemoTemplate, Walker, build_template, copy_engine, make_app
from workflow.engine import Engine


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> DemoTemplate:
    return build_template(tmp_path_factory.mktemp("demo-template"))


@pytest.fixture
def engine(demo_template: DemoTemplate, tmp_path: Path) -> Engine:
    return copy_engine(demo_template, tmp_path)


@pytest.fixture
def app(engine: Engine) -> Flask:
    return make_app(engine, RATELIMIT_ENABLED=False)


@pytest.fixture
def api(app: Flask) -> Api:
    return Api(app.test_client())


@pytest.fixture(scope="module")
def walker(demo_template: DemoTemplate, tmp_path_factory: pytest.TempPathFactory) -> Walker:
    """One database per test module, for tests that only read or get refused."""
    engine = copy_engine(demo_template, tmp_path_factory.mktemp("shared"))
    app = make_app(engine, RATELIMIT_ENABLED=False)
    return Walker(Api(app.test_client()), demo_template.world)
