"""`ketnap serve`: the web UI and API in one process, plus the reminder sweep.

Development and `make run` use werkzeug's threaded server; production runs
`gunicorn web.wsgi:app` (see web/wsgi.py) with `[scheduler] in_web_process = false`
and `ketnap scheduler` as its own process.
"""

from __future__ import annotations

import logging

from werkzeug.serving import run_simple

from web.app import create_app
from workflow import config as config_module
from workflow import db, runtime
from workflow.config import Config
from workflow.engine import Engine
from workflow.reminders import scheduler

log = logging.getLogger("ketnap.serve")


def serve(
    host: str | None = None,
    port: int | None = None,
    database_url: str | None = None,
    now: str | None = None,
) -> None:
    config = config_module.load()
    engine = runtime.build(database_url, now, config=config)
    if not db.is_initialised(engine.database):
        raise SystemExit(
            "Cơ sở dữ liệu chưa được khởi tạo: chạy `ketnap init` hoặc `ketnap demo` trước.\n"
            "The database is not initialised: run `ketnap init` or `ketnap demo` first."
        )
    app = create_app(engine, config)
    host = host or str(config.web.get("host", "127.0.0.1"))
    port = port or int(config.web.get("port", 8000))
    start_scheduler(engine, config)
    print(f"Ketnap: http://{host}:{port}", flush=True)
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


def start_scheduler(engine: Engine, config: Config) -> None:
    """The reminder sweep in this process, unless `[scheduler] in_web_process = false`."""
    if scheduler.in_web_process(config):
        scheduler.start_in_background(engine, config)
        log.info("reminder sweep running in the web process")
