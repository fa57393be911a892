"""What keeps the staff pages locked: who is signed in, for how long, how fast passwords may be
guessed, and the headers every page carries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from flask import Flask, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from ivr import current_time
from ivr.db.sessions import request_session
from ivr.logs import security_event
from ivr.models import Role, StaffUser
from ivr.staff import accounts, bp
from ivr.staff.sign_in_limits import Limit, SignInLimits

CONTENT_SECURITY_POLICY = ("default-src 'self'; object-src 'none'; frame-ancestors 'none'; "
                           "base-uri 'none'; form-action 'self'")
# Reachable without signing in.
PUBLIC_ENDPOINTS = {"staff.sign_in", "staff.static"}

login_manager = LoginManager()
login_manager.login_view = "staff.sign_in"
login_manager.login_message = "Please sign in to see that page."
login_manager.login_message_category = "info"


# Only the staff pages have forms. Twilio's webhooks are never CSRF-checked: their signatures are.
csrf = CSRFProtect()


class StaffMember(UserMixin):
    """The signed-in officer as the pages see them; the session holds id and session token."""

    def __init__(self, user: StaffUser):
        self.id = user.id
        self.email = user.email
        self.role = user.role
        self._token = user.session_token

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def get_id(self) -> str:
        return f"{self.id}:{self._token}"


@login_manager.user_loader
def load_staff_member(user_id: str) -> StaffMember | None:
    """The officer whose session this is, unless the account was disabled or signed out since."""
    number, _, token = user_id.partition(":")
    if not number.isdigit():
        return None
    user = request_session().get(StaffUser, int(number))
    if user is None or not user.active or not accounts.token_matches(user, token):
        return None
    return StaffMember(user)


def init_app(app: Flask) -> None:
    secure = (app.config.get("PUBLIC_URL") or "").startswith("https://")
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=app.config["STAFF_SESSION_HOURS"]),
        # Where to go after signing in is kept in the session, not put in the sign-in page's URL.
        USE_SESSION_FOR_NEXT=True,
        WTF_CSRF_CHECK_DEFAULT=False,
        # Over https a form must also come with a Referer from this site (Referrer-Policy: same-origin).
        WTF_CSRF_SSL_STRICT=True,
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    # Parsed now, so a mistyped limit stops the app starting rather than the first sign-in.
    app.extensions["staff.sign_in_limits"] = SignInLimits(
        per_account_and_address=Limit.parse(app.config["SIGN_IN_LIMIT_PER_ACCOUNT_AND_ADDRESS"]),
        per_address=Limit.parse(app.config["SIGN_IN_LIMIT_PER_ADDRESS"]),
        per_account=Limit.parse(app.config["SIGN_IN_LIMIT_PER_ACCOUNT"]),
        secret=app.config["SECRET_KEY"].encode())
    # On the app rather than the blueprint, so staff URLs that match no route get them too.
    app.after_request(_security_headers)


def start_session(user: StaffUser) -> None:
    """Begin a fresh session for `user`: nothing from before signing in is carried over."""
    session.clear()
    session.permanent = True
    login_user(StaffMember(user))
    stamp = current_time.now().timestamp()
    session["signed_in_at"] = session["seen_at"] = stamp


def end_session() -> None:
    logout_user()
    session.clear()


def _security_headers(response):
    if not request.path.startswith(bp.url_prefix) and request.endpoint != "front.front_page":
        return response
    headers = response.headers
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    # The full address goes only to our own pages, never elsewhere: over https Flask-WTF refuses a
    # form whose Referer is not this site (WTF_CSRF_SSL_STRICT), so browsers must send it to us.
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    if request.endpoint != "staff.static":
        headers["Cache-Control"] = "no-store"
    if request.is_secure or current_app.config["SESSION_COOKIE_SECURE"]:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


@bp.before_request
def check_csrf():
    """Every form the staff pages receive must carry the token of the session that was shown it."""
    csrf.protect()


@bp.before_request
def require_a_live_session():
    """Send anyone not signed in to the sign-in page, and end sessions idle or old past their limit."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    now = current_time.now().timestamp()
    config = current_app.config
    signed_in_at, seen_at = session.get("signed_in_at", 0), session.get("seen_at", 0)
    if now - seen_at > config["STAFF_IDLE_MINUTES"] * 60:
        reason = f"You were signed out after {config['STAFF_IDLE_MINUTES']} minutes without activity."
    elif now - signed_in_at > config["STAFF_SESSION_HOURS"] * 3600:
        reason = f"You were signed out because you signed in more than {config['STAFF_SESSION_HOURS']} hours ago."
    else:
        session["seen_at"] = now
        return None
    end_session()
    flash(reason + " Please sign in again.", "info")
    return redirect(url_for("staff.sign_in"))


def admin_required(view: Callable) -> Callable:
    """Only administrators may use the view; other staff get 403."""

    @wraps(view)
    def checked(*args, **kwargs):
        if not current_user.is_admin:
            security_event("admin_page_refused", staff_id=current_user.id, endpoint=request.endpoint)
            abort(403)
        return view(*args, **kwargs)

    return checked


@bp.errorhandler(CSRFError)
def form_expired(error: CSRFError):
    # Flask-WTF's own words for what was wrong (missing, expired, referrer), never the request's.
    staff_id = current_user.id if current_user.is_authenticated else None
    security_event("csrf_refused", staff_id=staff_id, endpoint=request.endpoint, reason=error.description)
    return render_template("staff/error.html", title="The form had expired",
                           message="For your security the form could not be sent: it had expired or came from "
                                   "another site. Go back, reload the page and try again."), 400


@bp.errorhandler(403)
def forbidden(_error):
    return render_template("staff/error.html", title="Not allowed",
                           message="Only administrators can use this page."), 403


@bp.errorhandler(404)
def not_found(_error):
    return render_template("staff/error.html", title="Page not found",
                           message="There is nothing at this address. It may have been mistyped, or the record "
                                   "no longer exists."), 404
