"""Who is calling: tokens, the caller's identity, and the process they work in."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_login import current_user

from web import auth
from web.api.blueprint import bp
from web.api.body import json_object
from web.api.openapi import api_doc, ref
from web.api.representation import me_json, process_json
from web.context import actor, engine
from web.errors import locale
from workflow.rules import in_force
from workflow.schema import InvalidData


@bp.post("/token")
@api_doc(
    "Exchange a username and password for a bearer token",
    description="Send the token as `Authorization: Bearer <token>` on every other call. "
    "Failed attempts count together with the login page's (per username and address, "
    "per address, per username; shared by every server process): past a limit the "
    "answer is 429 with Retry-After, the password unchecked.",
    request=ref("Credentials"),
    response=ref("Token"),
    public=True,
    errors=(401, 429),
    tag="identity",
)
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
    current = engine()
    return jsonify(process_json(in_force(current.params, current.clock.today())))
