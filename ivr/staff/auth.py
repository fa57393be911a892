"""Signing in and out. Wrong passwords are counted per account and per address, in the database
(ivr.staff.sign_in_limits); past the limit sign-in answers 429 until the window has passed."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from ivr import current_time
from ivr.db.sessions import request_session
from ivr.models import StaffUser
from ivr.staff import accounts, bp
from ivr.staff.forms import SignInForm
from ivr.staff.security import end_session, start_session
from ivr.staff.sign_in_limits import ADDRESS_LENGTH, Limit, SignInLimits


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
    db, now = request_session(), current_time.now()
    if request.method == "POST":
        # Checked before the password: while locked even the right one gets 429, so guessing on
        # learns nothing, and no hashing is spent on it.
        limit = _limits().exceeded(db, request.form.get("email", ""), _client_address(), now)
        if limit is not None:
            return _too_many_attempts(limit)
    form = SignInForm()
    if form.validate_on_submit():
        user = accounts.check_password(db, form.email.data, form.password.data, now)
        if user is not None:
            db.commit()
            next_url = session.get("next") or ""
            start_session(user)
            safe = next_url.startswith(bp.url_prefix + "/") and not next_url.startswith("//")
            return redirect(next_url if safe else url_for("staff.queue"))
        _limits().record_failure(db, form.email.data, _client_address(), now)
        db.commit()
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


def _too_many_attempts(limit: Limit):
    return render_template("staff/error.html", title="Too many attempts",
                           message=f"There have been too many wrong passwords for this account or from this "
                                   f"computer (the limit is {limit.text}). Please wait before trying "
                                   f"again, or ask an administrator to reset your password."), 429
