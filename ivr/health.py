"""GET /healthz: 200 when the database answers, 503 when it does not. It only reads: it says how
many messages wait in this machine's spool, and leaves storing them to the clock process."""

from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ivr.db.sessions import request_session
from ivr.spool import spooled_messages

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    waiting = len(spooled_messages(current_app))
    try:
        request_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return {"status": "unavailable", "database": "not answering", "spooled_messages": waiting}, 503
    return {"status": "ok", "database": "ok", "spooled_messages": waiting}
