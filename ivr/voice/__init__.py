"""Twilio voice webhooks: the call as the caller hears it (DESIGN.md), and the terminal phone.

`routes` carries the call from the welcome to a team or a message, `booking` arranges a callback,
`fallback` keeps helping when something fails, `kit` is what their steps share, and `phone_cli`
is `flask --app ivr call`.
"""

from flask import Blueprint

from ivr.closures import RecentOfficeHours
from ivr.prompts import load_prompts

bp = Blueprint("voice", __name__, url_prefix="/voice")


@bp.record_once
def _prepare(state) -> None:
    state.app.extensions["prompts"] = load_prompts()
    state.app.extensions["office_hours"] = RecentOfficeHours(state.app.config["OFFICE_HOURS_CACHE_SECONDS"])


from ivr.voice import booking, fallback, languages, outbound, routes  # noqa: E402,F401  (they register on bp)
