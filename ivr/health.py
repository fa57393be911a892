"""GET /healthz: 200 when the database answers, 503 when it does not."""

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ivr.db import request_session

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        request_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return {"status": "unavailable", "database": "not answering"}, 503
    return {"status": "ok", "database": "ok"}
