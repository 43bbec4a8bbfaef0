"""What a request knows: the engine, and who is acting (from the session or a token)."""

from __future__ import annotations

from flask import abort, current_app
from flask_login import current_user

from workflow.access import Actor
from workflow.engine import Engine


def engine() -> Engine:
    return current_app.extensions["ketnap.engine"]  # type: ignore[no-any-return]


def actor() -> Actor:
    """The Actor of the logged-in user (401 when nobody is logged in)."""
    if not current_user.is_authenticated:
        abort(401)
    with engine().session() as session:
        return Actor.of(session, current_user.record)
