"""The staff pages' forms (Flask-WTF, so each carries its CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, PasswordField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import EqualTo, InputRequired, Length, Optional

from ivr.callbacks import ATTEMPT_OUTCOMES
from ivr.models import Role

NOTE_MAX = 2000
YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class SignInForm(FlaskForm):
    email = StringField("Email address", [InputRequired("Enter your email address."), Length(max=254)],
                        render_kw={"autocomplete": "username", "spellcheck": "false"})
    password = PasswordField("Password", [InputRequired("Enter your password."), Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})


class AttemptForm(FlaskForm):
    outcome = RadioField("What happened?", choices=[SelectChoice(key, label) for key, label in ATTEMPT_OUTCOMES.items()],
                         validators=[InputRequired("Choose what happened on the call.")])
    detail = TextAreaField("Note (optional)", [Optional(), Length(max=NOTE_MAX)])


class NoteForm(FlaskForm):
    text = TextAreaField("Note", [InputRequired("Write the note first."), Length(max=NOTE_MAX)])


class CancelForm(FlaskForm):
    reason = TextAreaField("Reason (optional)", [Optional(), Length(max=NOTE_MAX)])


class RescheduleForm(FlaskForm):
    """A day and a window; the views fill in the choices that are open now."""

    day = SelectField("Day", validators=[InputRequired("Choose a day.")])
    window = RadioField("Time", validators=[InputRequired("Choose a morning or afternoon.")])


class NewCallbackForm(RescheduleForm):
    region = SelectField("Team", validators=[InputRequired("Choose the team.")])
    phone_number = StringField("Number to call", [InputRequired("Enter the number to call."), Length(max=32)],
                               render_kw={"autocomplete": "off", "inputmode": "tel"})
    voicemail_ok = RadioField("May we leave a voicemail if we miss them?", choices=YES_NO,
                              validators=[InputRequired("Say whether a voicemail may be left.")])
    texts_ok = RadioField("Do they want a text reminder before the call?", choices=YES_NO,
                          validators=[InputRequired("Say whether they want a text reminder.")])
    note = TextAreaField("Note (optional)", [Optional(), Length(max=NOTE_MAX)])


class ClosureForm(FlaskForm):
    day = DateField("Date", validators=[InputRequired("Enter the date, e.g. 2026-12-24.")])
    reason = StringField("Reason (shown to staff)", [Optional(), Length(max=200)])


class NewAccountForm(FlaskForm):
    email = StringField("Email address", [InputRequired("Enter their email address."), Length(max=254)],
                        render_kw={"autocomplete": "off", "spellcheck": "false"})
    role = RadioField("Role", choices=[SelectChoice(Role.STAFF.value, "Staff"), SelectChoice(Role.ADMIN.value, "Administrator")],
                      default=Role.STAFF.value, validators=[InputRequired("Choose a role.")])
    password = PasswordField("Password (at least 12 characters)", [InputRequired("Enter a password.")],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Password again", [EqualTo("password", "The two passwords are different.")],
                            render_kw={"autocomplete": "new-password"})


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password (at least 12 characters)", [InputRequired("Enter a password.")],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("New password again", [EqualTo("password", "The two passwords are different.")],
                            render_kw={"autocomplete": "new-password"})
