"""The WSGI entry point for production: `gunicorn 'web.wsgi:app'`.

Configuration comes from config.toml and KETNAP_* environment variables: set
KETNAP_WEB_SECRET_KEY, and KETNAP_WEB_BASE_URL=https://... (cookies then travel only
over HTTPS). Several workers share nothing in memory: run the reminder sweep as
`ketnap scheduler` with `[scheduler] in_web_process = false`.
"""

from __future__ import annotations

from web.app import create_app

app = create_app()
