"""The audit trail: every view and change of a victim's record, and the page administrators read it on.

Rows are only ever added: ivr.models refuses updates and deletes of AuditEvent, and so does the
database itself (a trigger, migration 0004).
"""

from __future__ import annotations

import re

from flask import render_template, request
from flask_login import current_user
from sqlalchemy import select

from ivr import current_time
from ivr.db.sessions import request_session
from ivr.models import AuditEvent, StaffUser
from ivr.staff import bp
from ivr.staff.security import admin_required

PAGE_SIZE = 100
_WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")  # ASCII digits only ("²".isdigit() is true), and no more than fit
RECORD_TYPES = ("callback", "voicemail", "text", "queue", "voicemails", "staff", "closure", "switch")


def audit(action: str, record_type: str, record_id: int | None = None, detail: str = "") -> AuditEvent:
    """Write down that the signed-in officer did `action` to a record (never a number or a name in `detail`)."""
    event = AuditEvent(at=current_time.now(), staff_id=current_user.id, action=action, record_type=record_type,
                       record_id=record_id, detail=detail)
    request_session().add(event)
    return event


def events_for(record_type: str, record_id: int, limit: int = 50) -> list[tuple[AuditEvent, str | None]]:
    """The newest audit rows about one record, with who did each."""
    query = (select(AuditEvent, StaffUser.email).outerjoin(StaffUser, AuditEvent.staff_id == StaffUser.id)
             .where(AuditEvent.record_type == record_type, AuditEvent.record_id == record_id)
             .order_by(AuditEvent.id.desc()).limit(limit))
    return list(request_session().execute(query))


@bp.get("/admin/audit")
@admin_required
def audit_log():
    errors = []
    query = (select(AuditEvent, StaffUser.email).outerjoin(StaffUser, AuditEvent.staff_id == StaffUser.id)
             .order_by(AuditEvent.id.desc()).limit(PAGE_SIZE))
    record_type = request.args.get("record_type", "")
    if record_type:
        if record_type in RECORD_TYPES:
            query = query.where(AuditEvent.record_type == record_type)
        else:
            errors.append(f"There is no record type “{record_type}”; choose one from the list.")
    record_id = request.args.get("record_id", "").strip()
    if record_id:
        if _WHOLE_NUMBER.fullmatch(record_id):
            query = query.where(AuditEvent.record_id == int(record_id))
        else:
            errors.append("The record number must be a whole number (up to 18 digits), e.g. 42.")
    before = request.args.get("before", "")
    if _WHOLE_NUMBER.fullmatch(before):
        query = query.where(AuditEvent.id < int(before))
    rows = [] if errors else list(request_session().execute(query))
    older = rows[-1][0].id if len(rows) == PAGE_SIZE else None
    return render_template("staff/admin/audit.html", rows=rows, errors=errors, record_types=RECORD_TYPES,
                           record_type=record_type, record_id=record_id, older=older), 400 if errors else 200
