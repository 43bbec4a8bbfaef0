"""`ketnap serve`: the web UI and API in one process, plus the reminder sweep.

`ketnap serve` (and `make run`) use waitress, a production WSGI server: one process,
a pool of threads, the sweep in a background thread. It refuses to start with an
empty, example or short secret key (`ketnap init` writes a random one). `ketnap serve --dev` uses
werkzeug's development server, restarted when a source file changes. Several
processes or hosts run `gunicorn web.wsgi:app` (deploy/) with `[scheduler]
in_web_process = false` and `ketnap scheduler` as its own process.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from web.app import create_app
from workflow import config as config_module
from workflow import db, runtime
from workflow.config import Config, ConfigError
from workflow.engine import Engine
from workflow.reminders import scheduler

log = logging.getLogger("ketnap.serve")

# Threads answering requests. SQLite lets one writer commit at a time and the pages
# are short, so a few threads keep a district's users waiting on nothing.
THREADS = 8


def serve(
    host: str | None = None,
    port: int | None = None,
    database_url: str | None = None,
    now: str | None = None,
    dev: bool = False,
) -> None:
    try:
        config = config_module.load()
        # Before anything else: a production server with a guessable key serves nothing.
        if not dev:
            config_module.require_strong_secret_key(config)
    except ConfigError as error:
        raise SystemExit(str(error)) from None
    engine = runtime.build(database_url, now, config=config)
    if not db.is_initialised(engine.database):
        raise SystemExit(
            "Cơ sở dữ liệu chưa được khởi tạo: chạy `ketnap init` hoặc `ketnap demo` trước.\n"
            "The database is not initialised: run `ketnap init` or `ketnap demo` first."
        )
    try:
        app = create_app(engine, config, production=not dev)
    except ConfigError as error:
        raise SystemExit(str(error)) from None
    host = host or str(config.web["host"])
    port = port or int(config.web["port"])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # Each sweep logs its own one-line summary (ketnap.scheduler); APScheduler's
    # job bookkeeping would add four lines to it.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if dev:
        serve_for_development(app, engine, config, host, port)
    else:
        serve_for_production(app, engine, config, host, port)


def serve_for_production(app: Flask, engine: Engine, config: Config, host: str, port: int) -> None:
    """waitress until Ctrl-C or SIGTERM."""
    from waitress import create_server

    server = create_server(app, host=host, port=port, threads=THREADS, ident="Ketnap")
    start_scheduler(engine, config)
    print(f"Ketnap: http://{host}:{port}", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def serve_for_development(app: Flask, engine: Engine, config: Config, host: str, port: int) -> None:
    """werkzeug with the reloader: the watching parent process restarts a child that
    serves; only the child runs the sweep. A change under web/static restarts it too
    (the child serves copies named by content, made when it starts: web/assets.py)."""
    from werkzeug.serving import is_running_from_reloader, run_simple

    if is_running_from_reloader():
        start_scheduler(engine, config)
        print(f"Ketnap (development): http://{host}:{port}", flush=True)
    static = [str(p) for p in Path(app.static_folder or ".").rglob("*") if p.is_file()]
    run_simple(
        host,
        port,
        app,
        threaded=True,
        use_reloader=True,
        use_debugger=False,
        extra_files=static,
    )


def start_scheduler(engine: Engine, config: Config) -> None:
    """The reminder sweep in this process, unless `[scheduler] in_web_process = false`."""
    if scheduler.in_web_process(config):
        scheduler.start_in_background(engine, config)
        log.info("reminder sweep running in the web process")
