"""The Restorative Justice helpline's telephone and text service (a Flask app)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from ivr import config, logs
from ivr.config import PROJECT_DIR
from ivr.db import sessions
from ivr.db.engine import WEB, Patience
from ivr.helpline import load_helpline


def create_app(test_config: dict[str, Any] | None = None, *, patience: Patience = WEB) -> Flask:
    """Build the app: settings, logging, database, helpline file, Twilio gateway, staff sign-in, routes, commands.

    `patience` says how long it waits for the database: a caller's, by default (the clock passes its own).
    """
    app = Flask(__name__, template_folder=str(PROJECT_DIR / "templates"),
                instance_path=str(PROJECT_DIR / "instance"))
    app.config.update(config.load())
    if test_config:
        app.config.update(test_config)
    config.finish(app.config, app.instance_path)

    logs.configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    register_proxy(app)
    sessions.init_app(app, patience)
    app.extensions["helpline"] = load_helpline(app.config["HELPLINE_CONFIG"])
    register_gateway(app)
    register_staff(app)
    register_url_converters(app)
    register_blueprints(app)
    register_cli(app)
    return app


def register_proxy(app: Flask) -> None:
    """Trust X-Forwarded-For/-Proto from exactly the configured number of proxies, never the host.

    Twilio signatures are checked against PUBLIC_URL, so no forwarded header can change what is
    verified; the forwarded client address matters for the sign-in limits.
    """
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)


def register_gateway(app: Flask) -> None:
    from ivr import gateway

    gateway.init_app(app)


def register_staff(app: Flask) -> None:
    """Staff sign-in sessions and timeouts, CSRF on staff forms, failed sign-in limits, security headers."""
    from ivr import staff

    staff.init_app(app)


def register_url_converters(app: Flask) -> None:
    """Ids in URLs (`<int:...>`) only match numbers a database id can be: a longer one is a 404,
    never a number the database cannot compare."""
    from werkzeug.routing import IntegerConverter

    class DatabaseId(IntegerConverter):
        def __init__(self, map, *args, **kwargs):
            kwargs.setdefault("max", 2**31 - 1)  # PostgreSQL's integer, the ids' type
            super().__init__(map, *args, **kwargs)

    app.url_map.converters["int"] = DatabaseId


def register_blueprints(app: Flask) -> None:
    from ivr import front, health, sms, voice
    from ivr.staff import bp as staff_bp

    for blueprint in (front.bp, health.bp, voice.bp, sms.bp, staff_bp):
        app.register_blueprint(blueprint)


def register_cli(app: Flask) -> None:
    from ivr import cli

    cli.register(app)
