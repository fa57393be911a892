"""Staff pages: sign-in, the callback queue, voicemails, texts that match no callback, administration.

One blueprint; each module below adds its routes to it. `init_app` sets up what the pages need
from the app: sign-in sessions, the failed-sign-in limits and the security headers.
"""

from flask import Blueprint, Flask

bp = Blueprint("staff", __name__, url_prefix="/staff",
               static_folder="static", static_url_path="/static")


def init_app(app: Flask) -> None:
    from ivr.staff import security

    security.init_app(app)


# Imported for the routes and commands they add to `bp`.
from ivr.staff import admin, audit, auth, callback_pages, calling, display, figures, queue, texts, voicemails  # noqa: E402,F401,E501
