"""The OpenAPI document (/api/v1/openapi.json) and its human page (/api/docs, offline)."""

from __future__ import annotations

from flask import current_app, jsonify, render_template
from flask.typing import ResponseReturnValue

from web.api import openapi, schemas
from web.api.blueprint import bp, docs_bp
from web.api.openapi import api_doc

CACHE_KEY = "ketnap.openapi"


@bp.get("/openapi.json")
@api_doc(
    "This document: OpenAPI 3.1, generated from the process table and the routes",
    response={"type": "object"},
    public=True,
    tag="documentation",
)
def openapi_document() -> ResponseReturnValue:
    # routes are fixed once the app serves, so the document is built once per app
    document = current_app.extensions.get(CACHE_KEY)
    if document is None:
        document = openapi.build(current_app, schemas.components())
        current_app.extensions[CACHE_KEY] = document
    return jsonify(document)


@docs_bp.get("/docs")
def docs_page() -> ResponseReturnValue:
    """Swagger UI over the document, served from web/static (no CDN)."""
    return render_template("api/docs.html")
