"""The Flask extensions the features share, created unbound here and bound to the app by `create_app`.

A leaf: features import `csrf` (to exempt a view) or `login_manager` from here, never from the `app` package,
whose factory imports every feature.
"""

from __future__ import annotations

from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
