"""Paperwork: a case's official forms as Word documents, the import of historical data
with a progress bar and a report of the rejected rows, and the export of cases and
members. The work is workflow's (forms, importer, exporter); this module only speaks
HTTP.

An import runs in a background thread of the process that received the upload; its
progress and report are small JSON files in a folder shared by every worker process
(`KETNAP_IMPORT_DIR`), so whichever worker answers the page's polling can read them.
The page refreshes itself without JavaScript; with it, a little script polls the JSON
and moves the bar.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
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
from workflow.access import Actor, Forbidden
from workflow.documents import forms
from workflow.engine import Engine
from workflow.exchange import export as exporter
from workflow.exchange import layouts, run
from workflow.exchange.report import ImportFileError, ImportReport
from workflow.models import Case, Person
from workflow.text import Text

bp = Blueprint("documents", __name__)
log = logging.getLogger(__name__)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MODES = ("import", "dry_run", "check")
UPLOAD_SUFFIXES = (".csv", ".xlsx")
DEFAULT_MAX_UPLOAD = 200 * 1024 * 1024  # a 100,000-case spreadsheet is ~30 MB
REPORT_ERRORS = 500  # rejected rows shown on the page; all of them in the CSV
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


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
    """Every case (or member) the user may read, streamed as CSV or XLSX."""
    if what not in exporter.WHAT or fmt not in exporter.FORMATS:
        abort(404)
    who = current_actor()
    if what == "members" and who.role not in exporter.MEMBER_READERS:
        abort(403)
    name = f"ketnap-{what}-{engine().clock.today():%Y%m%d}.{fmt}"
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store",
    }
    if fmt == "csv":
        return Response(
            stream_with_context(_csv_stream(what, who)),
            mimetype="text/csv",
            content_type="text/csv; charset=utf-8",
            headers=headers,
        )
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 — sent, then closed
    with engine().session() as session:
        exporter.write_xlsx(exporter.header(what), _rows(session, what, who), spool, what)
    spool.seek(0)
    response = send_file(spool, mimetype=XLSX, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response


def _rows(session: Any, what: str, who: Actor) -> Any:
    return (
        exporter.case_rows(session, who) if what == "cases" else exporter.member_rows(session, who)
    )


def _csv_stream(what: str, who: Actor) -> Any:
    with engine().session() as session:
        for chunk in exporter.csv_chunks(exporter.header(what), _rows(session, what, who)):
            yield chunk.encode("utf-8")


# ── import: jobs on disk ──────────────────────────────────────────────────
@dataclass
class Job:
    id: str
    owner: str
    file_name: str
    kind: str | None
    mode: str
    state: str = "queued"  # queued | running | done | failed
    done: int = 0
    total: int = 0
    started_at: str = ""
    finished_at: str = ""
    report: dict[str, Any] | None = None
    error: dict[str, str] | None = None  # {"vi": ..., "en": ...}
    errors: list[dict[str, Any]] = field(default_factory=list)  # the first REPORT_ERRORS

    @property
    def percent(self) -> int:
        if self.state == "done":
            return 100
        return int(self.done * 100 / self.total) if self.total else 0

    def public(self) -> dict[str, Any]:
        """What the page's script polls."""
        return {
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "percent": self.percent,
            "report": self.report,
        }


class JobStore:
    """Each job as `<id>.json` (written atomically), with its upload and rejected rows."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def path(self, job_id: str, suffix: str) -> Path:
        return self.folder / f"{job_id}{suffix}"

    def create(self, owner: str, file_name: str, kind: str | None, mode: str) -> Job:
        return Job(secrets.token_urlsafe(18), owner, file_name, kind, mode)

    def save(self, job: Job) -> None:
        target = self.path(job.id, ".json")
        temporary = self.path(job.id, f".{secrets.token_hex(4)}.tmp")
        temporary.write_text(json.dumps(asdict(job), ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, target)

    def load(self, job_id: str) -> Job | None:
        if not _JOB_ID.match(job_id):
            return None
        try:
            data = json.loads(self.path(job_id, ".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return Job(**data)


def job_store(app: Flask | None = None) -> JobStore:
    app = app or current_app
    store = app.extensions.get("ketnap.import_jobs")
    if store is None:
        folder = (
            app.config.get("KETNAP_IMPORT_DIR") or Path(tempfile.gettempdir()) / "ketnap-imports"
        )
        store = app.extensions["ketnap.import_jobs"] = JobStore(Path(folder))
    return store


def _owned_job(job_id: str) -> Job:
    job = job_store().load(job_id)
    if job is None or job.owner != current_user.username:
        abort(404)  # someone else's import does not exist for you
    return job


# ── import: pages ─────────────────────────────────────────────────────────
@bp.get("/import")
@roles_required(*run.IMPORTERS)
def import_page() -> ResponseReturnValue:
    return _import_form()


def _import_form(problem: str | None = None, status: int = 200) -> ResponseReturnValue:
    english = locale() == "en"
    described = {kind: layouts.describe(kind, "en" if english else "vi") for kind in layouts.KINDS}
    return (
        render_template(
            "documents/import.html",
            layouts=described,
            kinds=layouts.KINDS,
            problem=problem,
            max_megabytes=_max_upload() // (1024 * 1024),
        ),
        status,
    )


def _max_upload() -> int:
    return int(current_app.config.get("KETNAP_IMPORT_MAX_BYTES", DEFAULT_MAX_UPLOAD))


@bp.post("/import")
@roles_required(*run.IMPORTERS)
def start_import() -> ResponseReturnValue:
    request.max_content_length = _max_upload()  # above the app's 2 MB for forms
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _import_form("no_file", 400)
    file_name = Path(upload.filename).name[:200]
    if Path(file_name).suffix.lower() not in UPLOAD_SUFFIXES:
        return _import_form("bad_type", 400)
    kind = request.form.get("kind") or None
    mode = request.form.get("mode") or "import"
    if (kind is not None and kind not in layouts.KINDS) or mode not in MODES:
        return _import_form("bad_choice", 400)
    store = job_store()
    job = store.create(current_user.username, file_name, kind, mode)
    upload.save(store.path(job.id, Path(file_name).suffix.lower()))
    job.started_at = engine().clock.now().isoformat(timespec="seconds")
    store.save(job)
    worker = threading.Thread(
        target=run_job,
        args=(engine(), store, job, current_actor()),
        name=f"ketnap-import-{job.id[:8]}",
        daemon=True,
    )
    worker.start()
    return redirect(url_for("documents.job_page", job_id=job.id), code=303)


@bp.get("/import/jobs/<job_id>")
@roles_required(*run.IMPORTERS)
def job_page(job_id: str) -> ResponseReturnValue:
    job = _owned_job(job_id)
    errors = [{**e, "message": Text(**e["text"]).say(locale())} for e in job.errors]
    error = (job.error or {}).get("en" if locale() == "en" else "vi")
    return render_template("documents/job.html", job=job, errors=errors, error=error)


@bp.get("/import/jobs/<job_id>.json")
@roles_required(*run.IMPORTERS)
def job_progress(job_id: str) -> ResponseReturnValue:
    response = current_app.json.response(_owned_job(job_id).public())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/import/jobs/<job_id>/rejected.csv")
@roles_required(*run.IMPORTERS)
def job_rejected(job_id: str) -> ResponseReturnValue:
    job = _owned_job(job_id)
    path = job_store().path(job.id, ".rejected.csv")
    if job.state != "done" or not path.exists():
        abort(404)
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name="rejected.csv")


@bp.get("/import/templates/<kind>.csv")
@roles_required(*run.IMPORTERS)
def import_template(kind: str) -> ResponseReturnValue:
    if kind not in layouts.KINDS:
        abort(404)
    return Response(
        "\ufeff" + layouts.template_csv(kind),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="ketnap-{kind}.csv"'},
    )


# ── import: the background work ───────────────────────────────────────────
def run_job(work_engine: Engine, store: JobStore, job: Job, who: Actor) -> None:
    """Run one import and record its progress and report; never raises."""
    upload = store.path(job.id, Path(job.file_name).suffix.lower())
    job.state = "running"
    store.save(job)
    last = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last
        job.done, job.total = done, total
        if time.monotonic() - last > 0.3:  # a file write per poll is plenty
            last = time.monotonic()
            store.save(job)

    try:
        if job.mode == "check":
            report = run.check_file(
                work_engine, upload, who, progress, kind=job.kind, file_name=job.file_name
            )
        else:
            report = run.import_file(
                work_engine,
                upload,
                who,
                progress,
                kind=job.kind,
                dry_run=job.mode == "dry_run",
                file_name=job.file_name,
            )
        _finish(store, job, report)
    except ImportFileError as error:
        job.state, job.error = "failed", {"vi": error.message_vi, "en": error.message_en}
    except Forbidden:
        job.state = "failed"
        job.error = {
            "vi": "Vai trò của bạn không được nhập dữ liệu",
            "en": "Your role may not import data",
        }
    except Exception:  # the thread must always leave a readable state behind
        log.exception("import job %s failed", job.id)
        job.state = "failed"
        job.error = {
            "vi": "Lỗi không lường trước khi nhập; không dòng nào của lô đang chạy được ghi",
            "en": "Unexpected error while importing; the batch in progress was not written",
        }
    finally:
        job.finished_at = work_engine.clock.now().isoformat(timespec="seconds")
        store.save(job)
        upload.unlink(missing_ok=True)


def _finish(store: JobStore, job: Job, report: ImportReport) -> None:
    errors = sorted(report.errors, key=lambda e: e.line)
    job.state, job.done, job.total = "done", report.rows, report.rows
    job.report = {
        "kind": report.kind,
        "rows": report.rows,
        "accepted": report.accepted,
        "written": report.written,
        "rejected": report.rejected,
        "dry_run": report.dry_run,
        "checked_only": report.checked_only,
    }
    job.errors = [asdict(e) for e in errors[:REPORT_ERRORS]]
    if errors:
        with store.path(job.id, ".rejected.csv").open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["line", "column", "rule", "message_vi", "message_en"])
            for e in errors:
                row = [e.line, e.column or "", e.rule or "", e.text.vi, e.text.en]
                writer.writerow([hygiene.formula_safe(value) for value in row])
