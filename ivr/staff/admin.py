"""Administration (administrators only): closure days, the emergency "closed now" switch, and
staff accounts (create, disable, enable, reset password, unlock sign-in). Changes to accounts are
audited and logged as security events."""

from __future__ import annotations

import logging
from datetime import date

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ivr import current_time
from ivr import closures as closure_store
from ivr.db.sessions import request_session
from ivr.hours import london, london_time
from ivr.logs import security_event
from ivr.models import StaffUser
from ivr.staff import accounts, bp
from ivr.staff.audit import audit
from ivr.staff.display import day_name
from ivr.staff.forms import ActionForm, ClosedNowForm, ClosureForm, NewAccountForm, ResetPasswordForm
from ivr.staff.security import admin_required


@bp.get("/admin/")
@admin_required
def admin_home():
    return redirect(url_for("staff.closures"))


def _closures_page(form: ClosureForm, status: int = 200, closed_now_form: ClosedNowForm | None = None):
    """The page; whether "closed now" is on comes from the banner every staff page has (display.py)."""
    db = request_session()
    today = london(current_time.now()).date()
    return render_template("staff/admin/closures.html", form=form, action_form=ActionForm(formdata=None),
                           closed_now_form=closed_now_form or ClosedNowForm(formdata=None),
                           closures=closure_store.list_closures(db, since=today)), status


@bp.get("/admin/closures")
@admin_required
def closures():
    return _closures_page(ClosureForm(formdata=None))


@bp.post("/admin/closures")
@admin_required
def add_closure():
    form = ClosureForm()
    if not form.validate_on_submit():
        return _closures_page(form, 400)
    day, today = form.day.data, london(current_time.now()).date()
    try:
        closed_anyway = closure_store.close_on(request_session(), current_app.extensions["helpline"], day,
                                               form.reason.data or "", today)
    except closure_store.ClosureInThePast:
        form.day.errors.append(f"That date has passed. Give today ({day_name(today)}) or a later date.")
        return _closures_page(form, 400)
    audit("create", "closure", detail=day.isoformat())
    request_session().commit()
    flash(f"The office is closed on {day_name(day)}."
          + (f" It was already closed that day ({closed_anyway}), so callers hear nothing different; the closure "
             f"is kept in case that changes." if closed_anyway else ""), "success")
    return redirect(url_for("staff.closures"), 303)


@bp.post("/admin/closures/<day>/remove")
@admin_required
def remove_closure(day: str):
    try:
        when = date.fromisoformat(day)
    except ValueError:
        abort(404)
    if closure_store.remove_closure(request_session(), when):
        audit("delete", "closure", detail=when.isoformat())
        request_session().commit()
        flash(f"The office is open again on {day_name(when)}.", "success")
    return redirect(url_for("staff.closures"), 303)


@bp.post("/admin/closed-now")
@admin_required
def closed_now():
    on = request.form.get("state") == "on"
    form = ClosedNowForm()
    if on and not form.validate():
        return _closures_page(ClosureForm(formdata=None), 400, form)
    until = london_time(form.until.data.date(), form.until.data.time()) if on and form.until.data else None
    try:
        closure_store.set_closed_now(request_session(), on, by=current_user.email, now=current_time.now(),
                                     until=until)
    except closure_store.ReopeningPassed:
        form.until.errors.append("That time has already passed. Give a later time, or leave it empty.")
        return _closures_page(ClosureForm(formdata=None), 400, form)
    change = f"closed now {'on' if on else 'off'}" + (f" until {until.isoformat()}" if until else "")
    audit("update", "switch", detail=change)
    request_session().commit()
    flash("Closed now is ON: callers hear the closed menu." if on else "Closed now is off: normal hours apply.",
          "success")
    return redirect(url_for("staff.closures"), 303)


def _accounts_page(form: NewAccountForm, status: int = 200):
    db, now, limits = request_session(), current_time.now(), current_app.extensions["staff.sign_in_limits"]
    users = db.scalars(select(StaffUser).order_by(StaffUser.email)).all()
    locked = {user.id for user in users if limits.locked(db, user.email, now)}
    return render_template("staff/admin/accounts.html", form=form, users=users, locked=locked,
                           action_form=ActionForm(formdata=None)), status


def _account_changed(user: StaffUser, change: str) -> None:
    """Audit and log a change an administrator made to an account."""
    audit("update", "staff", user.id, change)
    security_event("staff_account_changed", logging.INFO, change=change.replace(" ", "_"), staff_id=user.id,
                   by_staff_id=current_user.id)


def _forget_wrong_passwords(user: StaffUser) -> int:
    return current_app.extensions["staff.sign_in_limits"].forget(request_session(), user.email)


@bp.get("/admin/accounts")
@admin_required
def staff_accounts():
    return _accounts_page(NewAccountForm(formdata=None))


@bp.post("/admin/accounts")
@admin_required
def create_account():
    form = NewAccountForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_account(request_session(), form.email.data, form.password.data, form.role.data,
                                           current_time.now())
        except accounts.AccountError as problem:
            form.form_errors.append(str(problem))
        else:
            audit("create", "staff", user.id, f"role {user.role}")
            request_session().commit()
            security_event("staff_account_changed", logging.INFO, change="created", staff_id=user.id, role=user.role,
                           by_staff_id=current_user.id)
            flash(f"The account for {user.email} is ready.", "success")
            return redirect(url_for("staff.staff_accounts"), 303)
    request_session().rollback()
    return _accounts_page(form, 400)


def _account_or_404(user_id: int) -> StaffUser:
    user = request_session().get(StaffUser, user_id)
    if user is None:
        abort(404)
    return user


@bp.post("/admin/accounts/<int:user_id>/<any(disable, enable):change>")
@admin_required
def set_account_active(user_id: int, change: str):
    user = _account_or_404(user_id)
    if user.id == current_user.id:
        flash("You cannot disable your own account; ask another administrator.", "error")
        return redirect(url_for("staff.staff_accounts"), 303)
    accounts.set_active(user, change == "enable")
    _account_changed(user, f"{change}d")
    request_session().commit()
    flash(f"The account for {user.email} is {change}d." + (" Its sessions have ended." if change == "disable" else ""),
          "success")
    return redirect(url_for("staff.staff_accounts"), 303)


@bp.route("/admin/accounts/<int:user_id>/password", methods=["GET", "POST"])
@admin_required
def reset_password(user_id: int):
    user = _account_or_404(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.set_password(user, form.password.data)
        except accounts.AccountError as problem:
            form.password.errors.append(str(problem))
        else:
            _forget_wrong_passwords(user)
            _account_changed(user, "password reset")
            request_session().commit()
            flash(f"The password for {user.email} is changed, its sessions have ended and its wrong passwords "
                  f"so far are forgotten.", "success")
            return redirect(url_for("staff.staff_accounts"), 303)
    return render_template("staff/admin/reset_password.html", form=form, user=user), 400 if form.is_submitted() else 200


@bp.post("/admin/accounts/<int:user_id>/unlock")
@admin_required
def unlock_account(user_id: int):
    """Forget the account's wrong passwords, so that sign-in limits no longer refuse it."""
    user = _account_or_404(user_id)
    _forget_wrong_passwords(user)
    _account_changed(user, "unlocked")
    request_session().commit()
    flash(f"{user.email} can sign in again: its wrong passwords so far are forgotten.", "success")
    return redirect(url_for("staff.staff_accounts"), 303)
