"""Staff pages: sign-in, the callback queue, voicemails, administration."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff", cli_group=None)
