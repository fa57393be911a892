"""Replies to our texts: what each keyword does to the sender's callback and texts.

YES confirms; CHANGE asks staff to rearrange (and stops the reminders for a time that no longer
suits); the opt-out words stop every text to the number, START undoes that; HELP explains. Twilio
answers the opt-out words itself, so we add nothing to them, and "CANCEL" is only ever an opt-out,
never a way to cancel the callback. Anything else is kept for staff. A reply Twilio delivers twice
(same MessageSid) is acted on once.

A text from the number of an open callback shows on that callback. Anything but YES holds the
callback's texts and flags it for staff until an officer has read it.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr import reminders
from ivr.db.statements import insert_unless_duplicate
from ivr.models import (
    OPEN_CALLBACK_STATUSES,
    Callback,
    CallbackEvent,
    CallbackStatus,
    EventKind,
    InboundText,
    TextsHeld,
)
from ivr.models import TextCommand as Command

KEYWORDS = {
    "YES": Command.YES,
    "CHANGE": Command.CHANGE,
    # Twilio's own opt-out and opt-in words for long codes.
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "REVOKE", "OPTOUT"), Command.STOP),
    **dict.fromkeys(("START", "UNSTOP"), Command.START),
    **dict.fromkeys(("HELP", "INFO"), Command.HELP),
}

# The text (templates/sms/NAME.txt) each command answers with, when it found what it acts on.
ANSWERS = {Command.YES: "reply_yes", Command.CHANGE: "reply_change", Command.HELP: "reply_help"}


def parse_command(body: str) -> Command:
    """The keyword a reply consists of ("Yes.", " yes ", "STOP!"); anything longer is OTHER."""
    words = re.sub(r"[^A-Z]+", " ", body.upper()).split()
    return KEYWORDS.get(words[0], Command.OTHER) if len(words) == 1 else Command.OTHER


def callback_replied_to(session: Session, number: str) -> Callback | None:
    """The sender's most recently booked open callback: whoever texts from a number we are due to
    call is that callback's concern, whether or not we texted them."""
    return session.scalars(
        select(Callback).where(Callback.phone_number == number, Callback.status.in_(OPEN_CALLBACK_STATUSES))
        .order_by(Callback.created_at.desc(), Callback.id.desc()).limit(1)).first()


def _note(session: Session, callback: Callback, detail: str, now: datetime) -> None:
    session.add(CallbackEvent(callback=callback, at=now, kind=EventKind.TEXT_REPLY, detail=detail))


def _confirm(session: Session, callback: Callback, now: datetime) -> None:
    if callback.status == CallbackStatus.BOOKED:
        callback.status = CallbackStatus.CONFIRMED
        callback.updated_at = now
        _note(session, callback, "Replied YES: the callback is confirmed.", now)
    else:
        _note(session, callback, "Replied YES.", now)


def _ask_to_rearrange(session: Session, callback: Callback, now: datetime) -> None:
    callback.status = CallbackStatus.REARRANGE
    callback.updated_at = now
    reminders.cancel_reminders(session, callback, now)
    _note(session, callback, "Replied CHANGE: wants another time. Please rearrange.", now)


def _act(session: Session, text: InboundText, callback: Callback | None, now: datetime) -> bool:
    """Do what the text asks; False when there is nothing we can do with it (staff will look)."""
    command = Command(text.command)
    if command is Command.STOP:
        reminders.opt_out(session, text.from_number, now)
    elif command is Command.START:
        reminders.opt_in(session, text.from_number, now)
    elif command is Command.HELP:
        pass
    elif callback is None or command is Command.OTHER:
        return False
    elif command is Command.YES:
        _confirm(session, callback, now)
    else:
        _ask_to_rearrange(session, callback, now)
    return True


def answer_for(text: InboundText) -> str | None:
    """The words to text back, if any: only when the reply did what it asked."""
    name = ANSWERS.get(Command(text.command))
    if name is None or text.handled_at is None:
        return None
    return reminders.render_text(name)


def receive_text(session: Session, *, message_sid: str, from_number: str, body: str, now: datetime) -> str | None:
    """Store a text someone sent us, act on its keyword once, and return the answer to send."""
    callback = callback_replied_to(session, from_number)
    text_id = insert_unless_duplicate(session, InboundText, {
        "message_sid": message_sid, "from_number": from_number, "body": body, "command": parse_command(body),
        "callback_id": callback.id if callback else None, "received_at": now,
    })
    if text_id is None:  # Twilio delivered it again: it was acted on the first time
        return answer_for(session.scalars(select(InboundText).where(InboundText.message_sid == message_sid)).one())
    text = session.get(InboundText, text_id)
    if _act(session, text, callback, now):
        text.handled_at = now
    if callback is not None and text.command != Command.YES:
        # Anything but YES may say it is not safe ("don't ring today, he is home"): nothing more is
        # texted until an officer has read it.
        reminders.hold_texts(session, callback, TextsHeld.REPLY, now)
    return answer_for(text)
