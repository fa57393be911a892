"""What a webhook reads from Twilio's form: every value bounded, and nothing a hostile sender posts
(a NUL byte, a number `int()` refuses, a body too large to read) turns into an exception."""

from __future__ import annotations

import re

from flask import request
from werkzeug.exceptions import HTTPException

_SID = re.compile(r"[A-Za-z0-9]{2,64}")


def field(name: str, limit: int = 64) -> str:
    """A parameter Twilio posted, cut to `limit` characters; "" when absent or unreadable (a body
    too large, or a NUL byte, which no database column takes and Twilio never sends)."""
    try:
        value = request.form.get(name, "")
    except HTTPException:  # a body too large to read
        return ""
    return "" if "\x00" in value else value[:limit]


def sid(name: str) -> str | None:
    """A Twilio identifier (CallSid, RecordingSid, MessageSid), or None when missing or malformed."""
    value = field(name, 65)
    return value if _SID.fullmatch(value) else None


def whole_number(name: str, digits: int = 9) -> int | None:
    """A count Twilio posted (a duration, an error code), or None when it is not one. Only ASCII
    digits: "²".isdigit() is true, but int() refuses it."""
    value = field(name, digits + 1)
    return int(value) if re.fullmatch(rf"[0-9]{{1,{digits}}}", value) else None


def text(name: str) -> str:
    """Words someone sent (a text's Body), kept whole: a NUL byte, which no column takes, becomes U+FFFD."""
    try:
        return request.form.get(name, "").replace("\x00", "\ufffd")
    except HTTPException:
        return ""
