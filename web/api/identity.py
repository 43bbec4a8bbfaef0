"""Who is calling: tokens, the caller's identity, and the process they work in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from web import auth
from web.api.blueprint import bp
from web.api.body import json_object
from web.api.openapi import api_doc, ref
from web.api.representation import me_json, process_json
from web.context import actor, engine
from web.errors import locale
from workflow.schema import InvalidData


def _attempt_key() -> str:
    """Like the login page: attempts count per address and username."""
    from flask_limiter.util import get_remote_address

    try:
        body = request.get_json(silent=True) if request.is_json else None
    except RecursionError:  # the view answers 400 for it; the key just must not fail
        body = None
    username = body.get("username") if isinstance(body, dict) else None
    name = username.strip().lower()[:64] if isinstance(username, str) else ""
    return f"{get_remote_address()}|{name}"


def _login_limit() -> str:
    return str(current_app.config.get("KETNAP_LOGIN_LIMIT", "10 per 5 minutes"))


def _limited(view: Callable[..., Any]) -> Callable[..., Any]:
    """The login page's limiter, when the web side has one (only failures count)."""
    limiter = getattr(auth, "limiter", None)
    if limiter is None:
        return view
    decorated: Callable[..., Any] = limiter.limit(
        _login_limit,
        key_func=_attempt_key,
        methods=["POST"],
        deduct_when=lambda response: response.status_code != 200,
    )(view)
    return decorated


@bp.post("/token")
@api_doc(
    "Exchange a username and password for a bearer token",
    description="Send the token as `Authorization: Bearer <token>` on every other call. "
    "Failed attempts are limited like the login page's.",
    request=ref("Credentials"),
    response=ref("Token"),
    public=True,
    errors=(401, 429),
    tag="identity",
)
@_limited
def token() -> ResponseReturnValue:
    body = json_object(("username", "password"))
    username, password = body.get("username"), body.get("password")
    for name, value in (("username", username), ("password", password)):
        if not isinstance(value, str) or not value:
            raise InvalidData(name, f"Thiếu '{name}'", f"'{name}' is required (text)")
    assert isinstance(username, str) and isinstance(password, str)
    user = auth.authenticate(username.strip(), password)
    if user is None:
        body = {
            "error": {
                "rule": "unauthorized",
                "message": "Wrong username or password"
                if locale() == "en"
                else "Sai tên đăng nhập hoặc mật khẩu",
                "source": None,
                "field": "password",
            }
        }
        return jsonify(body), 401, {"WWW-Authenticate": 'Bearer realm="ketnap"'}
    return jsonify(token=auth.issue_token(user), token_type="Bearer", expires_in=auth.TOKEN_MAX_AGE)


@bp.get("/me")
@api_doc("Who the caller is", response=ref("Me"), tag="identity")
def me() -> ResponseReturnValue:
    actor()  # 401 unless logged in
    return jsonify(me_json(current_user.record))


@bp.get("/process")
@api_doc(
    "The admission process: states, events with their fields, deadlines",
    description="Derived from the process table; each event carries the JSON Schema of "
    "its `data` (the same one POST /cases/{id}/events validates against).",
    response=ref("Process"),
    tag="process",
)
def process_table() -> ResponseReturnValue:
    actor()
    return jsonify(process_json(engine().params))
