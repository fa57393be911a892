"""The one object that talks to Twilio's REST API (sending texts, fetching recordings).

Filled in by the reminders work; until then the app keeps no gateway.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    app.extensions["gateway"] = None
