"""Signing in and out. Wrong passwords are counted per account and address, per address and per
account, in the database (ivr.staff.sign_in_limits); past a limit sign-in answers 429 until its
window has passed or an administrator unlocks the account. Each attempt is a security event in the log."""

from __future__ import annotations

import logging

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from ivr import current_time
from ivr.db.sessions import request_session
from ivr.logs import security_event
from ivr.models import StaffUser
from ivr.staff import accounts, bp
from ivr.staff.forms import SignInForm
from ivr.staff.security import end_session, start_session
from ivr.staff.sign_in_limits import ADDRESS_LENGTH, Reached, SignInLimits

# What the 429 page says each limit counts.
COUNTED = {"account_and_address": "for this account from this computer",
           "address": "from this computer",
           "account": "for this account"}


def _limits() -> SignInLimits:
    return current_app.extensions["staff.sign_in_limits"]


def _client_address() -> str:
    # Behind proxies the factory's ProxyFix (TRUSTED_PROXY_HOPS) has already put the client's here.
    # Cut to the column's size: with too many hops trusted a client can forward any text at all.
    return (request.remote_addr or "")[:ADDRESS_LENGTH]


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("staff.queue"))
    db, now, limits, address = request_session(), current_time.now(), _limits(), _client_address()
    if request.method == "POST":
        # Checked before the password: while locked even the right one gets 429, so guessing on
        # learns nothing, and no hashing is spent on it.
        email = request.form.get("email", "")
        reached = limits.reached(db, email, address, now)
        if reached is not None:
            security_event("sign_in_refused", limit=reached.scope, **limits.log_fields(email, address))
            return _too_many_attempts(reached)
    form = SignInForm()
    if form.validate_on_submit():
        email = form.email.data
        user = accounts.check_password(db, email, form.password.data, now)
        if user is not None:
            db.commit()
            security_event("sign_in", logging.INFO, staff_id=user.id, **limits.log_fields(email, address))
            next_url = session.get("next") or ""
            start_session(user)
            safe = next_url.startswith(bp.url_prefix + "/") and not next_url.startswith("//")
            return redirect(next_url if safe else url_for("staff.queue"))
        limits.record_failure(db, email, address, now)
        known = accounts.find(db, email)
        db.commit()
        who = {"staff_id": known.id if known else None, **limits.log_fields(email, address)}
        security_event("sign_in_failed", logging.INFO, **who)
        if (reached := limits.reached(db, email, address, now)) is not None:
            security_event("sign_in_locked", limit=reached.scope, **who)
        form.form_errors.append("That email address and password do not match an active account.")
    return render_template("staff/sign_in.html", form=form), 400 if request.method == "POST" else 200


@bp.post("/sign-out")
def sign_out():
    """Sign out everywhere: the account's token changes, so every copy of the session is dead."""
    db = request_session()
    accounts.end_sessions(db.get(StaffUser, current_user.id))
    db.commit()
    end_session()
    flash("You have signed out.", "info")
    return redirect(url_for("staff.sign_in"))


def _too_many_attempts(reached: Reached):
    return render_template("staff/error.html", title="Too many attempts",
                           message=f"There have been too many wrong passwords {COUNTED[reached.scope]} (the limit "
                                   f"is {reached.limit.text}). Please wait before trying again, or ask an "
                                   f"administrator to unlock your account."), 429
