"""The Flask extensions, created once at import and bound to an app by `init_app` in
create_app (as flaskr does), so a blueprint imports them from here, never from web.app.

Their configuration lives with the concern it serves: the login manager's loaders and
the login limit in web.auth, the locale selector in web.context.
"""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

# Every form posts a CSRF token; the API blueprint is exempt as a whole (web.api).
csrf = CSRFProtect()
babel = Babel()
login_manager = LoginManager()
# No default limit: only the login attempts are counted (web.auth, web.api.identity).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
