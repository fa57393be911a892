"""Staff accounts: Argon2id password hashes, and the token whose change ends every session."""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.models import Role, StaffUser

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Argon2id with one of OWASP's equivalent settings (7 MiB, 5 passes): argon2-cffi's default needs
# 64 MiB for each hash, which would take a web worker past its 100 MB budget at every sign-in.
hasher = PasswordHasher(time_cost=5, memory_cost=7 * 1024, parallelism=1)


@cache
def _dummy_hash() -> str:
    """Checked when the account does not exist, so a wrong address takes as long as a wrong password."""
    return hasher.hash("not a real password, only for timing")


class AccountError(ValueError):
    """An account change that cannot be made; the message says why."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_problem(email: str) -> str | None:
    if not _EMAIL.match(email) or len(email) > 254:
        return "Enter an email address like name@example.org."
    return None


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None. Length is the only rule (NCSC, NIST 800-63B)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must be at least {MIN_PASSWORD_LENGTH} characters long."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"The password must be at most {MAX_PASSWORD_LENGTH} characters long."
    return None


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def token_matches(user: StaffUser, token: str) -> bool:
    return hmac.compare_digest(user.session_token.encode(), token.encode())


def find(session: Session, email: str) -> StaffUser | None:
    return session.scalar(select(StaffUser).where(StaffUser.email == normalise_email(email)))


def create_account(session: Session, email: str, password: str, role: str, now: datetime) -> StaffUser:
    """Add an account; refuses a taken or malformed address, an unknown role and a short password."""
    email = normalise_email(email)
    problem = email_problem(email) or password_problem(password)
    if role not in set(Role):
        problem = problem or f"The role must be one of: {', '.join(Role)}."
    if problem is None and find(session, email) is not None:
        problem = f"There is already an account for {email}."
    if problem:
        raise AccountError(problem)
    user = StaffUser(email=email, password_hash=hasher.hash(password), role=role, active=True,
                     session_token=new_session_token(), created_at=now)
    session.add(user)
    session.flush()
    return user


def check_password(session: Session, email: str, password: str, now: datetime) -> StaffUser | None:
    """The active account these credentials belong to, or None; upgrades an outdated hash."""
    user = find(session, email)
    try:
        hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.last_sign_in_at = now
    return user


def set_password(user: StaffUser, password: str) -> None:
    """Give the account a new password and end all its sessions."""
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    user.password_hash = hasher.hash(password)
    end_sessions(user)


def set_active(user: StaffUser, active: bool) -> None:
    """Enable or disable an account; disabling ends its sessions at once."""
    user.active = active
    end_sessions(user)


def end_sessions(user: StaffUser) -> None:
    """Sign the account out everywhere: every session carries the old token."""
    user.session_token = new_session_token()
