"""Fixtures of the web UI tests: a demo world per test (copied from one built per worker)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.web.support import DemoTemplate, build_template, copy_engine, make_app
from workflow.engine import Engine
from workflow.ops.demo import World


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> DemoTemplate:
    return build_template(tmp_path_factory.mktemp("web-demo"))


@pytest.fixture
def engine(demo_template: DemoTemplate, tmp_path: Path) -> Engine:
    return copy_engine(demo_template, tmp_path)


@pytest.fixture
def app(engine: Engine) -> Flask:
    return make_app(engine)


@pytest.fixture(scope="module")
def shared_app(demo_template: DemoTemplate, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """One database per module, for tests that only read or get refused."""
    return make_app(copy_engine(demo_template, tmp_path_factory.mktemp("web-shared")))


@pytest.fixture
def world(demo_template: DemoTemplate) -> World:
    return demo_template.world
