"""Signing in and out. Wrong passwords are counted per account and per address; past the limit
sign-in answers 429 until the window has passed."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_limiter import RateLimitExceeded
from flask_login import current_user

from ivr import clock
from ivr.db import request_session
from ivr.staff import accounts, bp
from ivr.models import StaffUser
from ivr.staff.forms import SignInForm
from ivr.staff.security import end_session, limiter, start_session


def _account_key() -> str:
    return "account:" + accounts.normalise_email(request.form.get("email", ""))


def _sign_in_failed(_response) -> bool:
    return g.get("sign_in_failed", False)


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"], key_func=_account_key,
               methods=["POST"], deduct_when=_sign_in_failed, scope="sign-in-account")
@limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"],
               methods=["POST"], deduct_when=_sign_in_failed, scope="sign-in-address")
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("staff.queue"))
    form = SignInForm()
    if form.validate_on_submit():
        db = request_session()
        user = accounts.check_password(db, form.email.data, form.password.data, clock.now())
        if user is not None:
            db.commit()
            next_url = session.get("next") or ""
            start_session(user)
            safe = next_url.startswith(bp.url_prefix + "/") and not next_url.startswith("//")
            return redirect(next_url if safe else url_for("staff.queue"))
        g.sign_in_failed = True
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


@bp.errorhandler(RateLimitExceeded)
def too_many_attempts(error: RateLimitExceeded):
    return render_template("staff/error.html", title="Too many attempts",
                           message=f"There have been too many wrong passwords for this account or from this "
                                   f"computer (the limit is {error.limit.limit}). Please wait before trying "
                                   f"again, or ask an administrator to reset your password."), 429
