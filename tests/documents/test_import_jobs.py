"""Import jobs out of the web process: the caps hold before a row is parsed (an xlsx
bomb, a file with too many rows, too many errors), one runner per job, a per-user
limit, and job files readable by their owner only and gone after a week."""

from __future__ import annotations

import io
import stat
import threading
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlmodel import select

from tests.documents.conftest import Docs, write_csv
from workflow.clock import FixedClock
from workflow.config import Config
from workflow.exchange import jobs, layouts, run
from workflow.exchange.limits import MB, Limits
from workflow.exchange.report import ImportFileError
from workflow.models import ImportJobRecord
from workflow.reminders import scheduler

SHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    "<sheetData>{rows}</sheetData></worksheet>"
)


def xlsx_bomb(path: Path, unpacked_mb: int) -> Path:
    """A real workbook whose shared strings unpack to `unpacked_mb` MB (a few hundred
    KB on disk): one string, repeated, that every cell of the sheet points to."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(layouts.columns("members")[:4])
    sheet.append(["x", 1, "official", "2001-01-01"])
    book.save(path)
    bombed = path.with_name("bomb-" + path.name)
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(bombed, "w") as out:
        for item in source.infolist():
            if item.filename != "xl/sharedStrings.xml":
                out.writestr(item, source.read(item.filename), zipfile.ZIP_DEFLATED)
        member = zipfile.ZipInfo("xl/sharedStrings.xml")
        member.compress_type = zipfile.ZIP_DEFLATED
        with out.open(member, "w", force_zip64=True) as strings:  # in blocks: the test stays small
            strings.write(
                b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
            )
            block = b"A" * MB
            for _ in range(unpacked_mb):
                strings.write(block)
            strings.write(b"</t></si></sst>")
    return bombed


def refuse_openpyxl(monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("openpyxl was asked to read the file")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


# ── caps, checked before parsing ──────────────────────────────────────────
def test_an_xlsx_bomb_is_refused_before_openpyxl_reads_it(
    docs: Docs, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = xlsx_bomb(docs.directory / "members.xlsx", unpacked_mb=300)
    assert bomb.stat().st_size < 2 * MB  # small on disk, 300 MB unpacked
    refuse_openpyxl(monkeypatch)
    before = docs.counts()

    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(ImportFileError) as refused:
            run.import_file(docs.engine, bomb, docs.admin)
        seconds = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert "zip bomb" in refused.value.message_en and "256.0 MB" in refused.value.message_en
    assert "bom nén" in refused.value.message_vi
    assert seconds < 1.0
    assert peak < 8 * MB  # the process never held the strings
    assert docs.counts() == before


def test_a_sheet_that_names_a_millionth_row_is_refused_before_openpyxl(
    docs: Docs, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(layouts.columns("members")[:4])
    sheet.cell(row=1_048_576, column=1, value="the last row")  # 6 KB on disk
    path = docs.directory / "far.xlsx"
    book.save(path)
    refuse_openpyxl(monkeypatch)

    with pytest.raises(ImportFileError) as refused:
        run.import_file(docs.engine, path, docs.admin)

    assert "more than 200,000 rows" in refused.value.message_en


def test_a_csv_over_the_row_cap_is_refused_whole(docs: Docs) -> None:
    path = write_csv(docs.directory / "many.csv", [docs.case_row(n) for n in range(31)])
    before = docs.counts()

    with pytest.raises(ImportFileError) as refused:
        run.import_file(docs.engine, path, docs.admin, limits=Limits(max_rows=30))
    exactly = run.check_file(docs.engine, path, docs.admin, limits=Limits(max_rows=31))

    assert "more than 30 rows" in refused.value.message_en
    assert docs.counts() == before  # not one batch written before the refusal
    assert exactly.rows == 31


def test_an_xlsx_over_the_row_cap_is_refused(docs: Docs) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(layouts.columns("members")[:4])
    for n in range(12):
        sheet.append([f"Member {n}", docs.dong_lo_cell, "probationary", "2020-01-01"])
    path = docs.directory / "rows.xlsx"
    book.save(path)

    with pytest.raises(ImportFileError, match="more than 11 rows"):
        run.check_file(docs.engine, path, docs.admin, limits=Limits(max_rows=11))
    assert run.check_file(docs.engine, path, docs.admin, limits=Limits(max_rows=12)).rows == 12


def test_errors_past_the_cap_are_counted_not_kept(docs: Docs) -> None:
    rows = [docs.case_row(n) | {"cell": 31337} for n in range(25)]
    path = write_csv(docs.directory / "bad.csv", rows)

    report = run.check_file(docs.engine, path, docs.admin, limits=Limits(max_errors=5))

    assert (report.rows, report.rejected, len(report.errors)) == (25, 25, 5)
    assert report.omitted == 20


def test_an_upload_past_the_size_cap_is_not_kept(docs: Docs) -> None:
    settings = jobs.Settings(docs.directory / "jobs", Limits(max_upload_bytes=1000))

    with pytest.raises(ImportFileError, match="larger than the limit"):
        jobs.submit(docs.engine, docs.admin, io.BytesIO(b"x" * 1001), "a.csv", settings)

    assert list(settings.folder.iterdir()) == []


# ── the queue ─────────────────────────────────────────────────────────────
def settings_in(docs: Docs, **overrides: Any) -> jobs.Settings:
    return jobs.Settings(docs.directory / "jobs", Limits(), **overrides)


def member_csv(docs: Docs, n: int = 3) -> bytes:
    lines = ["full_name,cell,status,joined_on"]
    lines += [f"Member {i},{docs.dong_lo_cell},probationary,2025-0{1 + i % 9}-02" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


def queue(docs: Docs, settings: jobs.Settings, who: str = "admin", body: bytes = b"") -> int:
    job = jobs.submit(
        docs.engine, docs.user(who), io.BytesIO(body or member_csv(docs)), "m.csv", settings
    )
    assert job.id is not None
    return job.id


def race(workers: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in `workers` threads released at the same moment."""
    barrier = threading.Barrier(workers)
    results: list[Any] = [None] * workers

    def go(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as error:
            results[i] = error

    threads = [threading.Thread(target=go, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def two_runners_race_for_each_job(docs: Docs) -> None:
    settings = settings_in(docs, per_user=50)
    queued = [queue(docs, settings, "admin" if n % 2 else "officer") for n in range(12)]

    def take_all(i: int) -> list[int]:
        taken = []
        while (job_id := jobs.claim(docs.engine, f"runner-{i}")) is not None:
            taken.append(job_id)
        return taken

    first, second = race(2, take_all)

    assert sorted(first + second) == queued  # every job taken, none twice
    with docs.engine.session() as session:
        rows = session.exec(select(ImportJobRecord)).all()
    assert {r.state for r in rows} == {"running"}
    assert {r.id for r in rows if r.runner == "runner-0"} == set(first)


def test_two_runners_never_take_the_same_job(docs: Docs) -> None:
    two_runners_race_for_each_job(docs)


@pytest.mark.postgres
def test_two_runners_never_take_the_same_job_on_postgres(pg_docs: Docs) -> None:
    two_runners_race_for_each_job(pg_docs)


def test_a_claimed_job_runs_once_with_its_report(docs: Docs) -> None:
    settings = settings_in(docs)
    job_id = queue(docs, settings)

    assert jobs.run_pending(docs.engine, settings) == 1
    assert jobs.run_pending(docs.engine, settings) == 0

    with docs.engine.session() as session:
        job = session.get(ImportJobRecord, job_id)
        assert job is not None
    assert (job.state, job.kind, job.rows, job.written) == ("done", "members", 3, 3)
    assert job.finished_at == docs.engine.clock.now()
    assert not settings.path(job).exists()  # the upload is not kept once imported


def per_user_limit_holds_under_concurrent_uploads(docs: Docs) -> None:
    settings = settings_in(docs, per_user=2)
    body = member_csv(docs)

    def upload(_: int) -> Any:
        return jobs.submit(docs.engine, docs.admin, io.BytesIO(body), "m.csv", settings)

    results = race(5, upload)

    assert sum(isinstance(r, ImportJobRecord) for r in results) == 2
    refused = [r for r in results if isinstance(r, jobs.TooManyJobs)]
    assert len(refused) == 3
    assert "2 imports queued or running" in refused[0].text.en
    assert len(list(settings.folder.iterdir())) == 2  # the refused uploads are not kept
    assert queue(docs, settings, "officer")  # another user's limit is their own
    jobs.run_pending(docs.engine, settings, limit=1)  # one of admin's ends …
    assert queue(docs, settings, "admin")  # … so admin may queue one more


def test_a_user_has_at_most_so_many_jobs_queued_or_running(docs: Docs) -> None:
    per_user_limit_holds_under_concurrent_uploads(docs)


@pytest.mark.postgres
def test_a_user_has_at_most_so_many_jobs_queued_or_running_on_postgres(pg_docs: Docs) -> None:
    per_user_limit_holds_under_concurrent_uploads(pg_docs)


# ── files ─────────────────────────────────────────────────────────────────
def test_job_files_are_the_owners_only_and_removed_after_a_week(docs: Docs) -> None:
    settings = settings_in(docs)
    bad = member_csv(docs) + b"Nobody,31337,probationary,2025-01-02\n"
    job_id = queue(docs, settings, body=bad)
    with docs.engine.session() as session:
        job = session.get(ImportJobRecord, job_id)
        assert job is not None
    upload = settings.path(job)

    assert stat.S_IMODE(upload.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.folder.stat().st_mode) == 0o700
    jobs.run_pending(docs.engine, settings)
    rejected = settings.path(job, "rejected")
    assert stat.S_IMODE(rejected.stat().st_mode) == 0o600
    assert "31337" in rejected.read_text(encoding="utf-8-sig")

    clock = docs.engine.clock
    assert isinstance(clock, FixedClock)
    start = clock.today()
    clock.advance_to(start + timedelta(days=6))
    assert jobs.clean(docs.engine, settings) == 0 and rejected.exists()
    clock.advance_to(start + timedelta(days=8))
    assert jobs.clean(docs.engine, settings) == 1
    assert list(settings.folder.iterdir()) == []
    with docs.engine.session() as session:
        cleaned = session.get(ImportJobRecord, job_id)
        assert cleaned is not None
    assert cleaned.files_removed_at == clock.now() and cleaned.errors is None
    assert (cleaned.state, cleaned.rejected) == ("done", 1)  # the record stays


def test_a_job_whose_runner_died_is_failed_and_frees_the_users_turn(docs: Docs) -> None:
    settings = settings_in(docs, per_user=1)
    job_id = queue(docs, settings)
    assert jobs.claim(docs.engine, "killed") == job_id  # … and never finished
    with pytest.raises(jobs.TooManyJobs):
        queue(docs, settings)

    clock = docs.engine.clock
    assert isinstance(clock, FixedClock)
    clock.moment += jobs.STALE + timedelta(minutes=1)
    jobs.clean(docs.engine, settings)

    with docs.engine.session() as session:
        job = session.get(ImportJobRecord, job_id)
        assert job is not None
    assert job.state == "failed" and job.error_en and "stopped midway" in job.error_en
    assert queue(docs, settings)


def test_the_scheduler_runs_the_queued_imports(docs: Docs) -> None:
    folder = docs.directory / "jobs"
    config = Config(imports={"dir": str(folder), "poll_seconds": 2})
    job_id = queue(docs, jobs.Settings.of(config.imports))

    class Recorder:
        def __init__(self) -> None:
            self.jobs: dict[str, tuple[Any, dict[str, Any]]] = {}

        def add_job(self, func: Any, trigger: str, **options: Any) -> None:
            self.jobs[options["id"]] = (func, {"trigger": trigger, **options})

    recorder = Recorder()
    scheduler.configure(recorder, docs.engine, config)  # type: ignore[arg-type]
    runner, options = recorder.jobs[scheduler.IMPORTS_JOB]

    assert (options["trigger"], options["seconds"]) == ("interval", 2.0)
    assert runner() == 1
    with docs.engine.session() as session:
        job = session.get(ImportJobRecord, job_id)
        assert job is not None and job.state == "done"
