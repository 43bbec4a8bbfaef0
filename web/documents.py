"""Paperwork: a case's official forms as Word documents, the import of historical data
with a progress bar and a report of the rejected rows, and the export of cases and
members. The work is workflow's (forms, importer, exporter); this module only speaks
HTTP.

An upload is stored and queued as an import job in the database
(workflow/exchange/jobs.py); the scheduler process runs it, never this web worker. Its
progress and report are on the job's row, so whichever worker answers the page's
polling can read them. The page refreshes itself without JavaScript; with it, a little
script polls the JSON and moves the bar.
"""

from __future__ import annotations

import io
import logging
import tempfile
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from web.auth import roles_required
from web.context import actor as current_actor
from web.context import engine, locale
from workflow import hygiene
from workflow.access import Actor
from workflow.documents import forms
from workflow.exchange import export as exporter
from workflow.exchange import jobs, layouts, run
from workflow.exchange.report import ImportFileError
from workflow.models import Case, ImportJobRecord, Person

bp = Blueprint("documents", __name__)
log = logging.getLogger(__name__)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ── official forms ────────────────────────────────────────────────────────
@bp.get("/cases/<int:case_id>/forms/<form_name>.docx")
@login_required
def form_docx(case_id: int, form_name: str) -> ResponseReturnValue:
    """One filled form (404 for a case outside the user's scope or a form not due yet)."""
    who = current_actor()
    sponsor = _sponsor_arg()
    with engine().session() as session:
        case = engine().case_for(session, case_id, who)
        try:
            content = forms.render(session, case, form_name, engine().params, sponsor)
        except forms.FormNotApplicable:
            abort(404)
        person = session.get(Person, case.person_id)
        assert person is not None
        name = forms.filename(case, person, form_name, sponsor)
    response = send_file(io.BytesIO(content), mimetype=DOCX, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response


def _sponsor_arg() -> int | None:
    raw = request.args.get("sponsor")
    if raw is None or raw == "":
        return None
    number = hygiene.whole_number(raw, digits=9)
    if number is None:
        abort(404)
    return number


def case_form_links(case: Case) -> list[dict[str, Any]]:
    """The forms of a case's steps so far, for the case page (documents/_case_forms.html)."""
    english = locale() == "en"
    with engine().session() as session:
        links = forms.relevant_for(session, case)
    result = []
    for link in links:
        arguments: dict[str, Any] = {"case_id": case.id, "form_name": link.slug}
        if link.sponsor_id is not None:
            arguments["sponsor"] = link.sponsor_id
        result.append(
            {
                "code": link.code,
                "title": link.title_en if english else link.title_vi,
                "sponsor": link.sponsor_name,
                "url": url_for("documents.form_docx", **arguments),
            }
        )
    return result


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"case_forms": case_form_links}


# ── export ────────────────────────────────────────────────────────────────
@bp.get("/export")
@login_required
def export_page() -> ResponseReturnValue:
    return render_template(
        "documents/export.html",
        members_allowed=current_user.role in exporter.MEMBER_READERS,
        may_import=current_user.role in run.IMPORTERS,
    )


@bp.get("/export/<what>.<fmt>")
@login_required
def export_file(what: str, fmt: str) -> ResponseReturnValue:
    """Every case (or member) the user may read, streamed as CSV or XLSX: headed and
    filled with labels in the user's language (`?codes=1`: the codes, for scripts)."""
    if what not in exporter.WHAT or fmt not in exporter.FORMATS:
        abort(404)
    who = current_actor()
    if what == "members" and who.role not in exporter.MEMBER_READERS:
        abort(403)
    labels = None if request.args.get("codes") else _export_language()
    name = f"ketnap-{what}-{engine().clock.today():%Y%m%d}.{fmt}"
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
    }
    columns = exporter.header(what, labels)
    if fmt == "csv":
        return Response(
            stream_with_context(_csv_stream(what, who, columns, labels)),
            mimetype="text/csv",
            content_type="text/csv; charset=utf-8",
            headers=headers,
        )
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 — sent, then closed
    with engine().session() as session:
        rows = exporter.rows_of(session, who, what, fmt, labels)
        exporter.write_xlsx(columns, rows, spool, what)
    spool.seek(0)
    response = send_file(spool, mimetype=XLSX, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response


def _export_language() -> str:
    return locale() if locale() in exporter.LABELS else "vi"


def _csv_stream(what: str, who: Actor, columns: list[str], labels: str | None) -> Any:
    with engine().session() as session:
        rows = exporter.rows_of(session, who, what, "csv", labels)
        for chunk in exporter.csv_chunks(columns, rows):
            yield chunk.encode("utf-8")


# ── import: queued here, run by the scheduler (workflow/exchange/jobs.py) ──
def import_settings(app: Flask | None = None) -> jobs.Settings:
    """The [imports] section (KETNAP_IMPORTS_* in the environment); a test may give
    `KETNAP_IMPORTS` in the app's config instead."""
    app = app or current_app
    settings = app.extensions.get("ketnap.imports")
    if settings is None:
        section = app.config.get("KETNAP_IMPORTS")
        if section is None:
            section = app.extensions["ketnap.config"].imports
        settings = app.extensions["ketnap.imports"] = jobs.Settings.of(section)
    return settings


def upload_limit() -> int:
    """The one upload limit: what the page says and what Flask refuses past (413)."""
    return import_settings().limits.max_upload_bytes


@bp.url_value_preprocessor
def _upload_limit(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    # Before every before_request hook (CSRF reads the form): the import's own limit
    # replaces the app's 2 MB for this one endpoint, so the page's number is true.
    if endpoint == "documents.start_import":
        request.max_content_length = upload_limit()


def _owned_job(job_id: int) -> ImportJobRecord:
    job = jobs.job_of(engine(), current_actor(), job_id)
    if job is None:
        abort(404)  # someone else's import does not exist for you
    return job


# ── import: pages ─────────────────────────────────────────────────────────
@bp.get("/import")
@roles_required(*run.IMPORTERS)
def import_page() -> ResponseReturnValue:
    return _import_form()


def _import_form(
    problem: str | None = None, status: int = 200, message: str | None = None
) -> ResponseReturnValue:
    english = locale() == "en"
    described = {kind: layouts.describe(kind, "en" if english else "vi") for kind in layouts.KINDS}
    return (
        render_template(
            "documents/import.html",
            layouts=described,
            kinds=layouts.KINDS,
            problem=problem,
            message=message,
            max_megabytes=upload_limit() // (1024 * 1024),
        ),
        status,
    )


@bp.post("/import")
@roles_required(*run.IMPORTERS)
def start_import() -> ResponseReturnValue:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _import_form("no_file", 400)
    file_name = Path(upload.filename).name[:200]
    if Path(file_name).suffix.lower() not in jobs.SUFFIXES:
        return _import_form("bad_type", 400)
    kind = request.form.get("kind") or None
    mode = request.form.get("mode") or "import"
    if (kind is not None and kind not in layouts.KINDS) or mode not in jobs.MODES:
        return _import_form("bad_choice", 400)
    try:
        job = jobs.submit(
            engine(),
            current_actor(),
            upload.stream,
            file_name,
            import_settings(),
            kind=kind,
            mode=mode,
        )
    except jobs.TooManyJobs as refused:
        return _import_form("too_many", 429, refused.text.say(locale()))
    except ImportFileError as refused:
        return _import_form("refused", 413, refused.text.say(locale()))
    return redirect(url_for("documents.job_page", job_id=job.id), code=303)


@bp.get("/import/jobs/<int:job_id>")
@roles_required(*run.IMPORTERS)
def job_page(job_id: int) -> ResponseReturnValue:
    job = _owned_job(job_id)
    english = locale() == "en"
    return render_template(
        "documents/job.html",
        job=job,
        state=jobs.status(job),
        errors=jobs.errors_of(job, locale()),
        error=job.error_en if english else job.error_vi,
    )


@bp.get("/import/jobs/<int:job_id>.json")
@roles_required(*run.IMPORTERS)
def job_progress(job_id: int) -> ResponseReturnValue:
    response = current_app.json.response(jobs.status(_owned_job(job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/import/jobs/<int:job_id>/rejected.csv")
@roles_required(*run.IMPORTERS)
def job_rejected(job_id: int) -> ResponseReturnValue:
    job = _owned_job(job_id)
    path = import_settings().path(job, "rejected")
    if job.state != "done" or not path.exists():
        abort(404)
    response = send_file(
        path, mimetype="text/csv", as_attachment=True, download_name="rejected.csv"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/import/templates/<kind>.csv")
@roles_required(*run.IMPORTERS)
def import_template(kind: str) -> ResponseReturnValue:
    if kind not in layouts.KINDS:
        abort(404)
    return Response(
        "\ufeff" + layouts.template_csv(kind, _export_language()),  # headed in the user's words
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="ketnap-{kind}.csv"'},
    )
