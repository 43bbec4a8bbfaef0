"""The WSGI entry point for production: `gunicorn 'web.wsgi:app'`.

Configuration comes from config.toml and KETNAP_* environment variables: set
KETNAP_WEB_SECRET_KEY (or KETNAP_WEB_SECRET_KEY_FILE; without a strong key nothing
starts), and KETNAP_WEB_BASE_URL=https://... (cookies then travel only over HTTPS).
Several workers share nothing in memory: run the reminder sweep as `ketnap scheduler`
with `[scheduler] in_web_process = false`.
"""

from __future__ import annotations

import sys

from web.app import create_app
from workflow.config import ConfigError

# gunicorn's "App failed to load": the master stops instead of restarting the worker.
APP_LOAD_ERROR = 4

try:
    app = create_app(production=True)
except ConfigError as error:  # a weak secret key, a bad setting: say which, serve nothing
    print(error, file=sys.stderr, flush=True)
    raise SystemExit(APP_LOAD_ERROR) from None
