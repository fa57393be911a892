"""Failed sign-ins, counted in the database so that every web worker on every machine sees one count.

A wrong password adds a row (when, which account, from which address). Sign-in answers 429 once an
account, or a client address, has as many failures within its limit's window as the limit allows;
right passwords never count. Rows older than the longest window are pruned as failures come in.

Guesses arriving at the same instant on several workers may each pass the check before any is
recorded, so a limit can be overshot by the number in flight at once: it slows guessing down, it is
not an exact count.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ivr.models import SignInFailure
from ivr.staff.accounts import normalise_email

ADDRESS_LENGTH = SignInFailure.__table__.c.address.type.length

_LIMIT = re.compile(r"(\d+)\s*(?:per|/)\s*(\d+)?\s*(second|minute|hour|day)s?", re.IGNORECASE)
_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Limit:
    """At most `count` failures within any `window`."""

    count: int
    window: timedelta
    text: str

    @classmethod
    def parse(cls, text: str) -> Limit:
        """`5 per 15 minutes`, `20 per hour`, `10/minute`."""
        match = _LIMIT.fullmatch(text.strip())
        if match is None or int(match[1]) < 1 or match[2] == "0":
            raise ValueError(f"{text!r} is not a limit; write it like '5 per 15 minutes'")
        count, units, unit = int(match[1]), int(match[2] or 1), match[3].lower()
        return cls(count, timedelta(seconds=units * _SECONDS[unit]), text.strip())


@dataclass(frozen=True)
class SignInLimits:
    per_account: Limit
    per_address: Limit
    # Keys the hash of the email typed, so the table does not reveal which addresses were tried.
    secret: bytes

    def account(self, email: str) -> str:
        return hmac.new(self.secret, normalise_email(email).encode(), hashlib.sha256).hexdigest()

    def exceeded(self, session: Session, email: str, address: str, now: datetime) -> Limit | None:
        """The limit that `email` or `address` has reached, if either has."""
        for column, value, limit in ((SignInFailure.account, self.account(email), self.per_account),
                                     (SignInFailure.address, address, self.per_address)):
            failures = session.scalar(select(func.count()).where(column == value, SignInFailure.at > now - limit.window))
            if failures >= limit.count:
                return limit
        return None

    def record_failure(self, session: Session, email: str, address: str, now: datetime) -> None:
        """Count a wrong password, and forget failures too old for either limit."""
        session.add(SignInFailure(at=now, account=self.account(email), address=address))
        oldest_that_counts = now - max(self.per_account.window, self.per_address.window)
        session.execute(delete(SignInFailure).where(SignInFailure.at <= oldest_that_counts))
