"""The WSGI entry point for production: `gunicorn 'web.wsgi:app'`.

Configuration comes from config.toml and KETNAP_* environment variables (set
KETNAP_WEB_SECRET_KEY and KETNAP_WEB_SECURE_COOKIES=true behind HTTPS).
"""

from __future__ import annotations

from web.app import create_app

app = create_app()
