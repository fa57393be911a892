"""`flask --app ivr call --outbound CALLBACK_ID`: the call the service places for a callback, played
in the terminal with no Twilio account (ivr/voice/outbound.py says what each end hears).

It places the call as "Call now" does (nothing is dialled without an account), or takes the one
"Call now" left waiting for that callback, and plays both ends through the TwiML walker: the
officer's phone, which presses 1 by itself unless `--as-officer`, and the victim's, which you play
(or `--keys` scripts). At the end it posts the status callbacks Twilio would, so the attempt is
over and its result shows on the callback's page.
"""

from __future__ import annotations

from dataclasses import dataclass

import click
from flask import Flask
from sqlalchemy import select

from ivr import current_time, outbound
from ivr.call_now import place
from ivr.db.sessions import request_session
from ivr.models import Callback, StaffUser
from ivr.walker import CALLER, LEG, Call, WalkerError, interactive_callee, play_interactive

LOCAL_BASE_URL = "http://localhost"
DEFAULT_HELPLINE = "+441642000000"


def options(command):
    """The `call` command's options for playing an outbound call."""
    for option in reversed([
        click.option("--outbound", "callback_id", type=int, default=None, metavar="CALLBACK_ID",
                     help="Play the call the service places for this callback: the officer's phone, then the "
                          "victim's (--answer: how the victim's phone answers)."),
        click.option("--officer", "officer_email", default=None, metavar="EMAIL",
                     help="With --outbound: the officer placing the call (they need a work number); default: "
                          "the only one with a work number."),
        click.option("--as-officer", is_flag=True, help="With --outbound: you play the officer's phone too."),
        click.option("--officer-keys", default="1", show_default=True,
                     help="With --outbound: what the officer presses, comma-separated."),
        click.option("--machine", is_flag=True, help="With --outbound and --keys: an answering machine answers."),
        click.option("--outside-window", is_flag=True,
                     help="With --outbound: confirm a call outside the booked window."),
    ]):
        command = option(command)
    return command


@dataclass(frozen=True)
class Outbound:
    callback_id: int
    officer_email: str | None = None
    as_officer: bool = False
    officer_keys: str = "1"
    machine: bool = False
    outside_window: bool = False


@dataclass(frozen=True)
class Placed:
    attempt_id: int
    officer_call_sid: str
    officer_number: str


def _place(app: Flask, wanted: Outbound) -> Placed:
    """The attempt "Call now" left waiting for this callback, or a new one placed as "Call now" does."""
    if not app.extensions["gateway"].simulated:
        raise click.ClickException("A Twilio account is set up, so calls ring real phones: use “Call now” on the "
                                   "callback's page. The terminal phone plays simulated calls only.")
    with app.test_request_context(base_url=app.config.get("PUBLIC_URL") or LOCAL_BASE_URL):
        db = request_session()
        callback = db.get(Callback, wanted.callback_id)
        if callback is None:
            raise click.ClickException(f"There is no callback {wanted.callback_id}.")
        attempt = outbound.live_attempt(db, callback, current_time.now())
        if attempt is None or not attempt.simulated or attempt.officer_call_sid is None:
            officers = db.scalars(select(StaffUser).where(StaffUser.active, StaffUser.work_number.is_not(None))).all()
            if wanted.officer_email:
                officers = [o for o in officers if o.email == wanted.officer_email.strip().lower()]
            if len(officers) != 1:
                raise click.ClickException("Say which officer places the call (--officer EMAIL): one who has "
                                           "given their work number (the staff page “Your work number”).")
            try:
                attempt = place(callback, officers[0], override_window=wanted.outside_window)
            except outbound.CallRefused as refused:
                raise click.ClickException(f"Not called: {refused.refusal.words}") from None
        placed = Placed(attempt.id, attempt.officer_call_sid, attempt.officer_number)
        db.commit()
        return placed


def play(app: Flask, post, play_script, keys: str | None, answer: str, wanted: Outbound) -> None:
    """Place (or take) the call and play both ends; print the transcript of both."""
    placed = _place(app, wanted)
    if keys is not None:
        def victim(leg: Call) -> None:
            if wanted.machine:
                leg.base_params["AnsweredBy"] = "machine_end_beep"
            play_script(leg, [entry.strip() for entry in keys.split(",")])
    else:
        victim = interactive_callee()
    helpline = app.config.get("TWILIO_PHONE_NUMBER") or DEFAULT_HELPLINE
    phone = Call(post, helpline, placed.officer_number, call_sid=placed.officer_call_sid, direction="outbound-api",
                 start_url=f"/voice/outbound/officer?attempt={placed.attempt_id}", dial_outcome=answer,
                 callee=victim)
    click.echo(f"The service rings the officer's phone ({placed.officer_number}) from {helpline}: "
               f"call attempt {placed.attempt_id}.")
    try:
        if wanted.as_officer and keys is None:
            play_interactive(phone)
        else:
            play_script(phone, [entry.strip() for entry in wanted.officer_keys.split(",")])
    except WalkerError as error:
        raise click.ClickException(str(error)) from error
    # What Twilio reports once both ends are down.
    for leg in phone.legs:
        post(f"/voice/outbound/status?attempt={placed.attempt_id}&leg=victim",
             {"CallSid": leg.call_sid, "CallStatus": "completed"})
    post(f"/voice/outbound/status?attempt={placed.attempt_id}&leg=officer",
         {"CallSid": placed.officer_call_sid, "CallStatus": "completed"})
    if keys is not None or not wanted.as_officer:
        for line in phone.transcript:
            click.echo(labelled(line))


def labelled(line: str) -> str:
    """A transcript line saying whose end it is: the officer's, or (after LEG) the victim's."""
    if line.startswith(LEG):
        inner = line.removeprefix(LEG)
        return "    victim: " + inner.removeprefix(CALLER) if inner.startswith(CALLER) else f"    {LEG}{inner}"
    return "officer: " + line.removeprefix(CALLER) if line.startswith(CALLER) else f"  {line}"
