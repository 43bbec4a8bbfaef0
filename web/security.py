"""The Content Security Policy and the other security headers of every response, and
`Cache-Control: no-store` on everything but the static assets."""

from __future__ import annotations

from flask import Flask, Response, request

# Scripts and styles come only from our own origin, on every page: the diagrams are
# drawn on the server (web/diagram.py, web/charts.py) with classes and presentation
# attributes, never an inline style or script.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if not _is_static_asset():
        # Pages, API answers and downloads carry people's particulars: no browser or
        # proxy cache keeps them (send_file's own "no-cache" still lets one store).
        response.cache_control.no_store = True
    return response


def _is_static_asset() -> bool:
    """CSS, scripts, images and fonts of web/static (and a blueprint's): cacheable."""
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def init_app(app: Flask) -> None:
    app.after_request(security_headers)
