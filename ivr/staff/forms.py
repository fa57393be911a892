"""The staff pages' forms (Flask-WTF, so each carries its CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, DateTimeLocalField, PasswordField, RadioField, SelectChoice,
                     SelectField, StringField, TextAreaField)
from wtforms.validators import EqualTo, InputRequired, Length, Optional, ValidationError

from ivr.callbacks import ATTEMPT_OUTCOMES
from ivr.models import Role
from ivr.phone import Refusal, callable_number

NOTE_MAX = 2000
YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]

# Printed as the example on the form: Ofcom's drama ranges (0113 496 0xxx, 020 7946 0xxx), which
# no real person holds and which the form accepts.
NUMBER_EXAMPLES = "0113 496 0123 or 020 7946 0123"
# Why the form refuses a number (ivr.phone.callable_number), and what to ask the victim for instead.
REFUSED_NUMBERS = {
    Refusal.NOT_A_NUMBER: f"Enter a valid UK phone number: a mobile or a landline, like {NUMBER_EXAMPLES}.",
    Refusal.ABROAD: "We can only call numbers in the UK. Ask for a UK mobile or landline number.",
    Refusal.COSTS_EXTRA: "We cannot call this number: it costs extra to call (a premium-rate, service, personal "
                         "or corporate number, such as 09, 084, 087, 070 or 055). Ask for their mobile or landline.",
    Refusal.NOT_A_PERSONAL_LINE: "We cannot call this number: it is a pager, internet (VoIP, 056) or freephone "
                                 "number, not a line a person answers. Ask for their mobile or landline.",
}


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


class AllowTextsForm(FlaskForm):
    spoke = BooleanField("I have spoken to the person on this number, and they asked for text reminders",
                         validators=[InputRequired("Tick the box: texts go to a keyed-in number only once you have "
                                                   "spoken to its owner and they asked for them.")])


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
                               description=f"A UK mobile or landline, e.g. {NUMBER_EXAMPLES}.",
                               render_kw={"autocomplete": "off", "inputmode": "tel"})
    voicemail_ok = RadioField("May we leave a voicemail if we miss them?", choices=YES_NO,
                              validators=[InputRequired("Say whether a voicemail may be left.")])
    texts_ok = RadioField("Do they want a text reminder before the call?", choices=YES_NO,
                          validators=[InputRequired("Say whether they want a text reminder.")])
    note = TextAreaField("Note (optional)", [Optional(), Length(max=NOTE_MAX)])

    def validate_phone_number(self, field: StringField) -> None:
        """Only a number the service may call back: the phone line's own rule."""
        refused = callable_number(field.data)[1]
        if refused is not None:
            raise ValidationError(REFUSED_NUMBERS[refused])


class ClosedNowForm(FlaskForm):
    """Switch "closed now" on, with an optional London time at which it ends by itself."""

    until = DateTimeLocalField("Open again by itself at (optional, London time)", [Optional()],
                               format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])


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
