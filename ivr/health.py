"""GET /healthz: 200 when the database answers, 503 when it does not."""

from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ivr.db import request_session
from ivr.spool import store_spooled_messages

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        request_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return {"status": "unavailable", "database": "not answering"}, 503
    # The database answers: messages spooled while it did not can be stored now.
    store_spooled_messages(current_app)
    return {"status": "ok", "database": "ok"}
