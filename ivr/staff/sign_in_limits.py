"""Failed sign-ins, counted in the database so that every web worker on every machine sees one count.

A wrong password adds a row (when, which account, from which address). Three limits slow guessing
down without handing anyone a switch that locks a member of staff out:

- per account and address (5 per 15 minutes): one computer guessing one account's password. Only
  someone at the officer's own address can lock the officer out this way.
- per address (20 per 15 minutes): one computer trying many accounts.
- per account (100 per day): many computers guessing one account together. Reaching it takes many
  addresses, and is logged as a lockout for an administrator to see.

Sign-in answers 429 while a limit it falls under is reached, even for the right password; right
passwords never count. An administrator's password reset, or "Unlock", forgets the account's
failures. Rows older than the longest window are pruned as failures come in.

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
from typing import NamedTuple

from sqlalchemy import ColumnElement, and_, delete, func, select
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


class Reached(NamedTuple):
    """A limit a sign-in falls under and has reached; `scope` is what it counts."""

    scope: str  # "account_and_address", "address" or "account"
    limit: Limit


@dataclass(frozen=True)
class SignInLimits:
    per_account_and_address: Limit
    per_address: Limit
    per_account: Limit
    # Keys the hash of the email typed, so the table does not reveal which addresses were tried.
    secret: bytes

    def account(self, email: str) -> str:
        return self._keyed(normalise_email(email))

    def log_fields(self, email: str, address: str) -> dict[str, str]:
        """Who tried, for a log line, as short keyed hashes: the same account (or address) always
        gets the same tag, the account's is the start of its rows' `account`, and neither gives
        the email or the address away."""
        return {"account": self.account(email)[:16], "address": self._keyed(address)[:16]}

    def _keyed(self, value: str) -> str:
        return hmac.new(self.secret, value.encode(), hashlib.sha256).hexdigest()

    def _scopes(self, account: str, address: str) -> tuple[tuple[str, ColumnElement[bool], Limit], ...]:
        return (("account_and_address", and_(SignInFailure.account == account, SignInFailure.address == address),
                 self.per_account_and_address),
                ("address", SignInFailure.address == address, self.per_address),
                ("account", SignInFailure.account == account, self.per_account))

    def reached(self, session: Session, email: str, address: str, now: datetime) -> Reached | None:
        """The first limit that a sign-in to `email` from `address` has reached, if any."""
        for scope, counted, limit in self._scopes(self.account(email), address):
            failures = session.scalar(select(func.count()).where(counted, SignInFailure.at > now - limit.window))
            if failures >= limit.count:
                return Reached(scope, limit)
        return None

    def locked(self, session: Session, email: str, now: datetime) -> bool:
        """Whether signing in to `email` is refused from any address because of the account's own failures."""
        account = self.account(email)
        from_everywhere = session.scalar(select(func.count()).where(
            SignInFailure.account == account, SignInFailure.at > now - self.per_account.window))
        from_worst_address = session.scalar(
            select(func.count()).where(SignInFailure.account == account,
                                       SignInFailure.at > now - self.per_account_and_address.window)
            .group_by(SignInFailure.address).order_by(func.count().desc()).limit(1)) or 0
        return (from_everywhere >= self.per_account.count
                or from_worst_address >= self.per_account_and_address.count)

    def record_failure(self, session: Session, email: str, address: str, now: datetime) -> None:
        """Count a wrong password, and forget failures too old for any limit."""
        session.add(SignInFailure(at=now, account=self.account(email), address=address))
        oldest_that_counts = now - max(self.per_account_and_address.window, self.per_address.window,
                                       self.per_account.window)
        session.execute(delete(SignInFailure).where(SignInFailure.at <= oldest_that_counts))

    def forget(self, session: Session, email: str) -> int:
        """Forget every wrong password for `email`'s account (an administrator unlocked it); how many."""
        return session.execute(delete(SignInFailure).where(SignInFailure.account == self.account(email))).rowcount
