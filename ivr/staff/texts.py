"""Texts that match no callback: a reply from a number with no open callback, or a message that
was never a reply. The queue shows them until an officer marks them handled; replies that did
match a callback show on that callback instead."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from sqlalchemy import Select, select

from ivr import current_time
from ivr.db.sessions import request_session
from ivr.models import InboundText
from ivr.staff import bp
from ivr.staff.audit import audit


def unmatched_texts() -> Select:
    """Texts for staff that no callback holds and nothing has handled (an anonymised one has nothing left to read)."""
    return (select(InboundText)
            .where(InboundText.callback_id.is_(None), InboundText.handled_at.is_(None),
                   InboundText.anonymised_at.is_(None))
            .order_by(InboundText.received_at, InboundText.id))


@bp.post("/texts/<int:text_id>/handled")
def mark_text_handled(text_id: int):
    db = request_session()
    text = db.get(InboundText, text_id)
    if text is None:
        abort(404)
    if text.handled_at is None:
        text.handled_at = current_time.now()
        audit("update", "text", text.id, "marked handled")
        db.commit()
    flash("The text is marked handled.", "success")
    return redirect(url_for("staff.queue"), 303)
