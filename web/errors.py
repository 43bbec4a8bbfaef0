"""Engine exceptions become HTTP answers: JSON under /api, a page elsewhere.

One mapping for the whole app, so a refusal looks the same wherever it happens and
nothing turns into a 500.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import get_locale
from werkzeug.exceptions import HTTPException

from workflow.access import Forbidden
from workflow.engine import Conflict, NotFound
from workflow.refusal import Refusal
from workflow.schema import InvalidData
from workflow.text import Explained, Text


def wants_json() -> bool:
    return request.path.startswith("/api/")


def locale() -> str:
    try:
        return str(get_locale() or "vi")
    except (RuntimeError, KeyError):  # no Babel configured (bare test apps)
        return "vi"


def _problem(exc: Explained, loc: str) -> dict[str, Any]:
    if isinstance(exc, Refusal):
        return {
            "rule": exc.rule,
            "message": exc.message(loc),
            "source": exc.source,
            "field": exc.field,
        }
    return {"rule": "invalid_data", "message": exc.message(loc), "source": None, "field": exc.field}


def error_body(exc: Exception) -> tuple[dict[str, Any], int]:
    """The JSON error and status for an engine exception. A refusal or malformed input
    names its first problem in `error` and every one (that first included) in `errors`."""
    loc = locale()
    if isinstance(exc, Refusal | InvalidData):
        every = [_problem(each, loc) for each in exc.every()]
        return {"error": every[0], "errors": every}, 422 if isinstance(exc, Refusal) else 400
    if isinstance(exc, Conflict):
        message = exc.message(loc)
        return {
            "error": {
                "rule": "version_conflict",
                "message": message,
                "source": None,
                "field": "version",
                "version": exc.actual,
            }
        }, 409
    if isinstance(exc, NotFound):
        return {
            "error": {
                "rule": "not_found",
                "message": Text("Không tìm thấy", "Not found").say(loc),
                "source": None,
                "field": None,
            }
        }, 404
    if isinstance(exc, Forbidden):
        return {
            "error": {
                "rule": "forbidden",
                "message": Text(
                    "Vai trò của bạn không được làm việc này", "Your role may not do this"
                ).say(loc),
                "source": None,
                "field": None,
            }
        }, 403
    raise exc


def _http_error(exc: HTTPException) -> Response | tuple[Any, int]:
    status = exc.code or 500
    if wants_json():
        body = {
            "error": {
                "rule": exc.name.lower().replace(" ", "_"),
                "message": exc.description,
                "source": None,
                "field": None,
            }
        }
        response = jsonify(body)
        # keep what HTTP says alongside the error: WWW-Authenticate on 401, Allow on 405
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response, status
    try:
        return render_template("error.html", status=status, error=exc), status
    except Exception:  # the error page itself must never fail
        return Response(f"{status} {exc.name}", status=status, mimetype="text/plain"), status


def _engine_error(exc: Exception) -> tuple[Any, int]:
    body, status = error_body(exc)
    if wants_json():
        return jsonify(body), status
    try:
        return render_template(
            "error.html", status=status, message=body["error"]["message"]
        ), status
    except Exception:
        return Response(body["error"]["message"], mimetype="text/plain"), status


http_error = _http_error  # for handlers that render most errors the usual way


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    for exc_type in (Refusal, InvalidData, Conflict, NotFound, Forbidden):
        app.register_error_handler(exc_type, _engine_error)
