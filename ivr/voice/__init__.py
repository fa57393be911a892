"""Twilio voice webhooks: the call as the caller hears it (DESIGN.md), and the terminal phone.

`routes` carries the call from the welcome to a team or a message, `booking` arranges a callback,
`fallback` keeps helping when something fails, `kit` is what their steps share, and `phone_cli`
is `flask --app ivr call`.
"""

from datetime import date

from flask import Blueprint
from sqlalchemy.orm import configure_mappers

from ivr.closures import OfficeHoursCache
from ivr.hours import is_bank_holiday
from ivr.phone import parse_uk
from ivr.prompts import load_prompts

bp = Blueprint("voice", __name__, url_prefix="/voice", cli_group=None)


@bp.record_once
def _prepare(state) -> None:
    state.app.extensions["prompts"] = load_prompts()
    state.app.extensions["office_hours"] = OfficeHoursCache(state.app.config["OFFICE_HOURS_CACHE_SECONDS"])
    # What the first call in each worker would otherwise wait for (imports and one-off set-up,
    # about 150 ms): done when the worker starts.
    configure_mappers()
    this_year = date.today().year
    for year in (this_year, this_year + 1):
        is_bank_holiday(date(year, 1, 1))
    parse_uk("01642 123456")


from ivr.voice import booking, fallback, phone_cli, routes  # noqa: E402,F401  (they register on bp)
