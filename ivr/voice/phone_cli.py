"""The terminal phone: `flask --app ivr call` plays a call against the app, in-process, as Twilio would.

Requests go through Flask's test client, signed like Twilio's when TWILIO_AUTH_TOKEN is set, and
the TwiML is played by `ivr.walker`. `--at` sets `app.config["CLOCK"]` so the call happens at a
pretend London time (a Saturday, a bank holiday). The call is real as far as the app is concerned:
a voicemail or a callback it books is stored in the configured database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import contextvars
from contextlib import nullcontext

import click
from flask import Flask
from flask.cli import ScriptInfo
from twilio.request_validator import RequestValidator

from ivr import current_time, logs
from ivr.hours import from_london_text
from ivr.voice import outbound_cli
from ivr.walker import (
    CALLER,
    DIAL_STATUSES,
    Call,
    WalkerError,
    act,
    play_interactive,
)

DEFAULT_CALLER = "+447911123456"  # a mobile
LOCAL_BASE_URL = "http://localhost"  # what the test client's requests look like to the app


def transport(app: Flask):
    """POST form parameters to the app as Twilio does and return the body of the answer."""
    client = app.test_client()
    token, base = app.config.get("TWILIO_AUTH_TOKEN"), app.config.get("PUBLIC_URL") or LOCAL_BASE_URL
    validator = RequestValidator(token) if token else None

    def post(url: str, params: dict[str, str]) -> str:
        headers = {"X-Twilio-Signature": validator.compute_signature(base + url, params)} if validator else {}
        return client.post(url, data=params, headers=headers).get_data(as_text=True)

    return post


def pretend_time(text: str) -> datetime:
    try:
        return from_london_text(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a time; write it like 2026-11-28 10:00 (London time)") from None


def play_script(call: Call, script: list[str]) -> None:
    """Answer each prompt with the next entry, as if typed at the keyboard (ivr.walker.act); the
    phone is put down when the script runs out."""
    call.start()
    for entry in script:
        if call.waiting is None:
            break
        act(call, entry)
    call.hang_up()


@click.command("call")
@click.option("--from", "from_number", default=DEFAULT_CALLER, show_default=True,
              help='The caller\'s number, or "withheld".')
@click.option("--at", "at", default=None, help='Pretend London time, e.g. "2026-11-28 10:00" (a Saturday).')
@click.option("--keys", default=None,
              help='Play without asking: comma-separated answers, each as you would type it, e.g. '
                   '"4,1,1,07911 123456#,1,1,1". Keys are pressed, words spoken, "-" is silence, "q" hangs up; '
                   'at a recording "30" speaks for 30 s then presses #, "30h" then hangs up.')
@click.option("--show-log", is_flag=True,
              help="Print the app's log lines too (on stderr); without it only its errors show.")
@click.option("--answer", type=click.Choice(DIAL_STATUSES), default="completed", show_default=True,
              help="With --keys: how a team's line answers when the call is put through.")
@outbound_cli.options
def call(from_number: str, at: str | None, keys: str | None, answer: str, show_log: bool,
         callback_id: int | None = None, **outbound: Any) -> None:
    """Play a call against the app in the terminal, as Twilio would."""
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    # `flask` runs a command in the app's context; each step of the call must be a request of its
    # own, with its own `g` and database session, as under Twilio: so the call is played outside it.
    # The transcript is the output: the app's log lines would land in the middle of it.
    with nullcontext() if show_log else logs.only_errors():
        if callback_id is not None:
            wanted = outbound_cli.Outbound(callback_id, **outbound)
            contextvars.Context().run(_play_outbound, app, at, keys, answer, wanted)
        else:
            contextvars.Context().run(_play, app, from_number, at, keys, answer)


def _play_outbound(app: Flask, at: str | None, keys: str | None, answer: str, wanted) -> None:
    """The call the service places for a callback, both ends (ivr.voice.outbound_cli)."""
    if at:
        current_time.pretend(app, pretend_time(at))
    outbound_cli.play(app, transport(app), play_script, keys, answer, wanted)


def _play(app: Flask, from_number: str, at: str | None, keys: str | None, answer: str) -> None:
    if at:
        current_time.pretend(app, pretend_time(at))
    caller = None if from_number.lower() == "withheld" else from_number
    phone = Call(transport(app), caller, app.config.get("TWILIO_PHONE_NUMBER") or "+441642000000",
                dial_outcome=answer)
    try:
        if keys is None:
            play_interactive(phone)
            return
        play_script(phone, [entry.strip() for entry in keys.split(",")])
    except WalkerError as error:
        raise click.ClickException(str(error)) from error
    for line in phone.transcript:
        click.echo(line if line.startswith(CALLER) else f"  {line}")
