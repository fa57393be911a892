"""Texts an officer writes to a victim: an approved reply (templates/sms/staff_*.txt) or their own
words, checked as the reminders are, and sent by the clock as one more row of the outbox.

Being an outbox row is what keeps the rules in one place each: the clock sends it, at the sending
rate, never in the quiet hours (it waits for 08:00), and `ivr.outbox.why_held` decides at the
last moment whether it may still go (a STOP, "not safe to talk", a closed callback). The same
rule refuses it here, when the officer presses Send, with the reason. The form's key is unique in
the database, so the same form sent twice is one text.

`check_words` is the rule every text the service sends obeys (tests hold the reminders to it too).
Every function takes the session and `now`; none commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ivr import outbox
from ivr.config import PROJECT_DIR
from ivr.db.statements import insert_unless_duplicate
from ivr.hours import in_quiet_hours, quiet_hours_end
from ivr.models import (
    OPEN_CALLBACK_STATUSES,
    Callback,
    InboundText,
    NumberSource,
    Reminder,
    ReminderStatus,
    TextKind,
)
from ivr.phone import is_mobile
from ivr.reminders import render_text

APPROVED_PREFIX = "staff_"
# An officer's text is worth sending for this long after it may first go; then the clock marks it missed.
USEFUL_FOR = timedelta(hours=12)
SEGMENT = 160

# GSM 03.38: the characters one plain text holds, and those that take two places (the escape table).
_GSM_BASIC = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                 "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXTENDED = set("^{}\\[~]|€\f")
# Words that would tell whoever reads the phone who we are or why we are in touch.
REVEALING = re.compile(
    r"\b(crimes?|criminals?|victims?|offend\w*|justice|police|polic\w*|abus\w*|assault\w*|restorative|rj|vcas|"
    r"care|advice|harm\w*|courts?|probation|prison|cleveland|durham|darlington|helpline|support\s+service)\b",
    re.IGNORECASE)
# Capitalised words that are not names: the days, the months, and "I".
_NOT_NAMES = {"I", "Mon", "Monday", "Tue", "Tues", "Tuesday", "Wed", "Wednesday", "Thu", "Thur", "Thurs", "Thursday",
              "Fri", "Friday", "Sat", "Saturday", "Sun", "Sunday", "Jan", "January", "Feb", "February", "Mar", "March",
              "Apr", "April", "May", "Jun", "June", "Jul", "July", "Aug", "August", "Sep", "Sept", "September", "Oct",
              "October", "Nov", "November", "Dec", "December", "OK"}


def gsm7_length(text: str) -> int | None:
    """How many places `text` takes in a GSM-7 text (two for ^ { } [ ] ~ | € and \\), or None if a
    character is not GSM-7 at all (curly quotes, emoji, most accents): the text would then go as
    UCS-2, at 70 characters a segment."""
    places = 0
    for character in text:
        if character in _GSM_BASIC:
            places += 1
        elif character in _GSM_EXTENDED:
            places += 2
        else:
            return None
    return places


def _names_in(text: str) -> list[str]:
    """Capitalised words that do not start a sentence and are not a day, a month or a reply keyword."""
    found = []
    for match in re.finditer(r"[A-Za-z][A-Za-z'-]*", text):
        word = match.group()
        before = text[:match.start()].rstrip()
        starts_sentence = not before or before[-1] in ".!?:"
        if word[0].isupper() and not word.isupper() and not starts_sentence and word not in _NOT_NAMES:
            found.append(word)
    return found


def check_words(text: str) -> str | None:
    """Why `text` may not be sent, in words for the officer; None when it may: one GSM-7 segment,
    nothing that reveals the service or the crime, no names (someone else may read the phone)."""
    text = text.strip()
    if not text:
        return "Write the text, or choose one of the approved replies."
    length = gsm7_length(text)
    if length is None:
        odd = next(c for c in text if c not in _GSM_BASIC and c not in _GSM_EXTENDED)
        return (f"“{odd}” cannot go in a plain text: use straight quotes and plain letters, no emoji, so the "
                "text goes as one message.")
    if length > SEGMENT:
        return f"The text is {length} characters long; one text holds {SEGMENT}. Shorten it by {length - SEGMENT}."
    if revealing := REVEALING.search(text):
        return (f"Leave out “{revealing.group()}”: a text must not say who we are or why we are in touch, "
                "as someone else may read their phone.")
    if names := _names_in(text):
        return (f"Leave out names (“{names[0]}”): someone else may read their phone. "
                "Start the word with a small letter if it is not a name.")
    return None


@dataclass(frozen=True)
class Approved:
    key: str
    words: str


def approved_replies() -> list[Approved]:
    """The discreet replies an officer may pick, one file each in templates/sms/staff_*.txt."""
    folder = PROJECT_DIR / "templates" / "sms"
    return [Approved(path.stem, render_text(path.stem))
            for path in sorted(folder.glob(f"{APPROVED_PREFIX}*.txt"), key=Path.name.fget)]


class TextRefused(Exception):
    """The text may not go; the message says why, for the officer."""


# Why an officer's text may not go, in the words the form shows (ivr.outbox.why_held decides).
HELD_REASONS = {
    outbox.Held.OPTED_OUT: "This number replied STOP, so no text can go to it until it replies START.",
    outbox.Held.HELD: "It was not safe to talk, so no text goes to this number until an officer decides texts may "
                      "go again.",
    outbox.Held.NOT_EXPECTED: "This callback is closed: no more texts go about it.",
    outbox.Held.TOO_LATE: "This text would no longer be useful.",
}


def has_texted_us(session: Session, number: str) -> bool:
    return session.scalar(select(InboundText.id).where(InboundText.from_number == number).limit(1)) is not None


def why_not_to(session: Session, number: str, callback: Callback | None) -> str | None:
    """Why no officer's text may go to `number` (about `callback`, if any), whatever it says; None when one may.

    Only a mobile; only to someone who agreed to texts, or who texted us from that number; never to a
    number keyed in during a call until an officer who spoke to its owner turned texts on."""
    if not is_mobile(number):
        return "Texts can only go to a mobile number."
    if callback is not None:
        if callback.status not in OPEN_CALLBACK_STATUSES:
            return HELD_REASONS[outbox.Held.NOT_EXPECTED]
        if not callback.texts_ok and callback.number_source == NumberSource.KEYED:
            return ("The number was keyed in during the call and may not be theirs: texts go to it only once an "
                    "officer who has spoken to its owner turns text reminders on.")
        if not callback.texts_ok and not has_texted_us(session, number):
            return "They did not agree to be texted, and have not texted us from this number."
    return None


@dataclass(frozen=True)
class Queued:
    text_id: int
    due_at: datetime
    already: bool  # the same form was sent before: nothing new was queued

    def waits_for_morning(self, now: datetime) -> bool:
        return self.due_at > now


def first_moment_to_send(now: datetime) -> datetime:
    """Now, or in the quiet hours the 08:00 that ends them."""
    return quiet_hours_end(now) if in_quiet_hours(now) else now


def queue_text(session: Session, *, number: str, body: str, callback: Callback | None, staff_id: int,
               request_key: str, now: datetime) -> Queued:
    """Queue an officer's text for the clock to send, or raise `TextRefused` with the reason.
    The same `request_key` again queues nothing and returns the first one."""
    body = body.strip()
    if problem := check_words(body) or why_not_to(session, number, callback):
        raise TextRefused(problem)
    due = first_moment_to_send(now)
    text_id = insert_unless_duplicate(session, Reminder, {
        "callback_id": callback.id if callback else None, "kind": TextKind.STAFF, "to_number": number,
        "due_at": due, "useful_until": due + USEFUL_FOR, "status": ReminderStatus.PENDING, "attempts": 0,
        "body": body, "simulated": False, "updated_at": now, "staff_id": staff_id, "request_key": request_key,
    })
    if text_id is None:
        first = session.scalars(select(Reminder).where(Reminder.request_key == request_key)).one()
        return Queued(first.id, first.due_at, already=True)
    held = session.scalar(select(outbox.why_held()).where(Reminder.id == text_id), outbox.held_at(due))
    if held is not None:
        raise TextRefused(HELD_REASONS[outbox.Held(held)])
    if callback is not None:
        session.expire(callback, ["reminders"])
    return Queued(text_id, due, already=False)


@dataclass(frozen=True)
class ThreadLine:
    at: datetime
    ours: bool
    body: str
    status: str  # for our texts: where it has got to, in words; for theirs, what we understood
    flagged: bool = False


def thread(session: Session, now: datetime, *, callback: Callback | None = None,
           number: str | None = None) -> list[ThreadLine]:
    """The conversation, oldest first: what they texted, and every text of ours that went or is to go
    (reminders once sent, officers' texts from the moment they are written). About a callback; or,
    for a number with no callback, the texts that matched none."""
    if callback is not None:
        theirs = select(InboundText).where(InboundText.callback_id == callback.id)
        ours = select(Reminder).where(Reminder.callback_id == callback.id)
    else:
        theirs = select(InboundText).where(InboundText.from_number == number, InboundText.callback_id.is_(None))
        ours = select(Reminder).where(Reminder.to_number == number, Reminder.callback_id.is_(None))
    lines = [ThreadLine(text.received_at, False, text.body, text.command.upper() if text.command != "other" else "")
             for text in session.scalars(theirs)]
    for text in session.scalars(ours.where(or_(Reminder.kind == TextKind.STAFF, Reminder.sent_at.is_not(None),
                                               Reminder.status.in_((ReminderStatus.FAILED, ReminderStatus.UNKNOWN))))):
        words, flagged = progress(text, now)
        lines.append(ThreadLine(text.sent_at or text.due_at, True, text.body or "", words, flagged))
    return sorted(lines, key=lambda line: line.at)


def progress(text: Reminder, now: datetime) -> tuple[str, bool]:
    """Where one of our texts has got to, as an officer reads it, and whether it needs their attention."""
    delivery, status = text.delivery_status, text.status
    if delivery in ("delivered", "read"):
        return "Delivered", False
    if delivery in outbox.UNDELIVERED or status == ReminderStatus.FAILED:
        return f"Not delivered (error {text.error_code or 'none'})", True
    if status == ReminderStatus.SENT:
        return ("Sent (simulated: no Twilio account)" if text.simulated else "Sent, not yet reported delivered"), False
    if status == ReminderStatus.UNKNOWN:
        return "Not known whether it went; it will not be resent", True
    if status == ReminderStatus.PENDING and text.due_at > now:
        return "Waiting for 8am: no texts go between 8pm and 8am", False
    if status in (ReminderStatus.PENDING, ReminderStatus.CLAIMED):
        return "Waiting to be sent", False
    if status == ReminderStatus.SENDING:
        return "Sending", False
    if status == ReminderStatus.HELD:
        return "Not sent: held (not safe to talk)", True
    if status == ReminderStatus.CANCELLED:
        return "Not sent: cancelled (a STOP, or the callback closed)", True
    return "Not sent: it was no longer useful", True
