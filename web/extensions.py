"""The Flask extensions, created once at import and bound to an app by `init_app` in
create_app (as flaskr does), so a blueprint imports them from here, never from web.app.

Their configuration lives with the concern it serves: the login manager's loaders and
the locale selector in web.context. Sign-in attempts are limited by workflow.logins
(counted in the database, so every worker shares the counts), not by an extension.
"""

from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

# Every form posts a CSRF token; the API blueprint is exempt as a whole (web.api).
csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()
