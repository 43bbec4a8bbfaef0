"""Gunicorn settings for Ketnap's web workers:

    gunicorn -c deploy/gunicorn.conf.py web.wsgi:app

Each worker builds its own engine (and so its own connection pool) after the fork:
`preload_app` stays off, because a pooled database connection must never be shared
between processes. The reminder sweep does not run in web workers: set
`[scheduler] in_web_process = false` (KETNAP_SCHEDULER_IN_WEB_PROCESS=false) and run
`ketnap scheduler` once per deployment (deploy/ketnap-scheduler.service).

Every value can be set from the environment, so one file serves every host.
"""

from __future__ import annotations

import os

bind = os.environ.get("KETNAP_BIND", "127.0.0.1:8000")
# gthread: a few threads per worker keep a worker busy while another request waits on
# the database; processes give the parallelism (the GIL serialises Python per process).
worker_class = "gthread"
workers = int(os.environ.get("KETNAP_WORKERS", str(2 * (os.cpu_count() or 1))))
threads = int(os.environ.get("KETNAP_THREADS", "4"))
timeout = int(os.environ.get("KETNAP_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Workers keep a flat memory profile (bench: RSS after 1k and 10k requests), so they
# are not recycled by default; set KETNAP_MAX_REQUESTS to recycle them anyway.
max_requests = int(os.environ.get("KETNAP_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
preload_app = False
accesslog = os.environ.get("KETNAP_ACCESS_LOG") or None  # "-" for stdout
errorlog = "-"
loglevel = os.environ.get("KETNAP_LOG_LEVEL", "info")
proc_name = "ketnap-web"
# Behind nginx on the same host: trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("KETNAP_FORWARDED_ALLOW_IPS", "127.0.0.1")
raw_env = ["KETNAP_SCHEDULER_IN_WEB_PROCESS=false"]
