"""The callback, placed by the service: both ends of the call, as Twilio plays them.

An officer presses "Call now" (or runs `flask --app ivr call --outbound`): ivr.call_now rings
the officer's work number from the helpline's number, and Twilio asks `/voice/outbound/officer` what
to say. The officer hears whose callback it is (its number's last digits and window, nothing
more) and presses 1; the victim is then dialled from the helpline's number, the number their
texts come from. Before anyone is connected the victim's own leg (`/voice/outbound/victim`, the
<Number> url) hears only "Hello, this is the call you arranged" and whether it is a good time:
1 puts the officer through and names the service; 2 offers another day and time with the
booking's menus, and holds their texts; silence or a hang-up is no answer, and nothing more is
said. An answering machine (Twilio's machine detection, waiting for the greeting to end) gets a
discreet message only if they agreed to voicemail.

The victim's leg is TwiML a called party hears before being connected, which may only Say, Play,
Pause, Gather and Hang up: so its menus post back even when nobody presses anything
(actionOnEmptyResult) rather than Redirect. Every step is signed by Twilio, and what each
attempt recorded is ivr.outbound's.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import date
from functools import partial
from typing import Any

from flask import current_app, request, url_for
from twilio.twiml.voice_response import VoiceResponse

from ivr import callbacks, outbound
from ivr.callbacks import CallbackRefused
from ivr.db.sessions import request_session
from ivr.call_now import twilio_url
from ivr.models import OPEN_CALLBACK_STATUSES, CallAttempt, Callback, CallResult, TextsHeld
from ivr.phone import mask
from ivr.voice import booking
from ivr.voice.kit import Menu, answer, form, hang_up, helpline, misses, now, office_hours, prompts, retry, \
    speak, step, twilio_sid

log = logging.getLogger(__name__)

# How long the victim's phone rings before it counts as not answered.
VICTIM_RING_SECONDS = 25
MACHINE = re.compile(r"machine_.*")

START = Menu("outbound_officer", "yes_no", "voice.outbound_officer_start")
GOOD_TIME = Menu("outbound_hello", "good_time", "voice.outbound_good_time")
LATER = Menu("outbound_later", "yes_no", "voice.outbound_later")
DAY = Menu("day_menu", "day", "voice.outbound_day")
WINDOW = Menu("window_menu", "window", "voice.outbound_window")


# --- what both ends share ---------------------------------------------------------------------------


def _attempt() -> CallAttempt | None:
    value = request.args.get("attempt", "")
    return request_session().get(CallAttempt, int(value)) if re.fullmatch(r"[0-9]{1,9}", value) else None


def _callback(attempt: CallAttempt) -> Callback:
    return request_session().get(Callback, attempt.callback_id)


def _still_wanted(attempt: CallAttempt) -> bool:
    """Whether the call may go on: not ended meanwhile, and the callback still open and not held
    as not safe (another officer may have decided while the phone rang)."""
    callback = _callback(attempt)
    return (attempt.ended_at is None and callback.status in OPEN_CALLBACK_STATUSES
            and callback.texts_held != TextsHeld.NOT_SAFE)


def _ask(menu: Menu, *, state: Mapping[str, Any], context: Mapping[str, Any] | None = None, misses: int = 0,
         hint: str | None = None, before: tuple[str, ...] = ()) -> str:
    """A menu that posts to its step whether or not anything was pressed (no Redirect: see above)."""
    words = prompts()
    response = VoiceResponse()
    gather = response.gather(input="dtmf speech", action=url_for(menu.endpoint, **state, miss=misses or None),
                             method="POST", num_digits=1, timeout=8, speech_timeout="auto",
                             action_on_empty_result=True, language=words.language,
                             hints=words.listening(menu.listen).hints or None)
    for name in (*before, *((hint,) if hint else ()), menu.prompt):
        speak(gather, name, **(context or {}))
    return str(response)


def _end_silently() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def _commit() -> None:
    request_session().commit()


# --- the officer's end ------------------------------------------------------------------------------


@step("/outbound/officer")
def outbound_officer() -> str:
    """The officer answered: whose callback it is, and press 1 to start."""
    attempt = _attempt()
    if attempt is None or not _still_wanted(attempt):
        return str(hang_up(VoiceResponse(), "outbound_not_needed"))
    outbound.officer_rung(request_session(), attempt, twilio_sid("CallSid"))
    _commit()
    return _officer_menu(attempt)


def _officer_menu(attempt: CallAttempt, misses: int = 0, hint: str | None = None) -> str:
    return _ask(START, state={"attempt": attempt.id}, context=outbound.whose(_callback(attempt)), misses=misses,
                hint=hint)


@step("/outbound/officer/start")
def outbound_officer_start() -> str:
    attempt = _attempt()
    if attempt is None:
        return _end_silently()
    if not _still_wanted(attempt):
        return str(hang_up(VoiceResponse(), "outbound_not_needed"))
    heard = answer(START, "19")
    if heard.key == "9":
        return _officer_menu(attempt, misses=misses())
    if heard.key != "1":
        def not_started() -> str:
            outbound.end_attempt(request_session(), attempt, now())
            _commit()
            return str(hang_up(VoiceResponse(), "outbound_not_started"))
        return retry(heard, partial(_officer_menu, attempt), on_third=not_started)
    outbound.victim_rung(request_session(), attempt, None, now())
    _commit()
    callback = _callback(attempt)
    response = speak(VoiceResponse(), "outbound_calling")
    caller_id = current_app.config.get("TWILIO_PHONE_NUMBER")
    dial = response.dial(action=url_for("voice.outbound_dialled", attempt=attempt.id), method="POST",
                         timeout=VICTIM_RING_SECONDS, **({"caller_id": caller_id} if caller_id else {}))
    dial.number(callback.phone_number, url=url_for("voice.outbound_victim", attempt=attempt.id), method="POST",
                machine_detection="DetectMessageEnd",
                status_callback=twilio_url("voice.outbound_status", attempt=attempt.id, leg="victim"),
                status_callback_method="POST", status_callback_event="initiated ringing answered completed")
    log.info("call attempt %s: dialling %s", attempt.id, mask(callback.phone_number))
    return str(response)


# How the Dial ended, when the victim's leg itself recorded nothing.
DIAL_RESULTS = {"busy": CallResult.BUSY, "failed": CallResult.FAILED, "no-answer": CallResult.NO_ANSWER,
                "canceled": CallResult.NO_ANSWER, "completed": CallResult.NO_ANSWER}


@step("/outbound/dialled")
def outbound_dialled() -> str:
    """The victim's leg is over (talked, declined, missed): tell the officer how it went; the line is free."""
    attempt = _attempt()
    if attempt is None:
        return _end_silently()
    db = request_session()
    if attempt.result is None:
        outbound.record_result(db, attempt, DIAL_RESULTS.get(form("DialCallStatus", 16), CallResult.NO_ANSWER), now())
    outbound.end_attempt(db, attempt, now())
    _commit()
    callback = _callback(attempt)
    rebooked = attempt.result == CallResult.NOT_GOOD_TIME and callback.texts_held is None  # they chose a time
    return str(hang_up(VoiceResponse(), "outbound_officer_result", result=attempt.result, rebooked=rebooked,
                       **outbound.whose(callback)))


# --- the victim's end -------------------------------------------------------------------------------


@step("/outbound/victim")
def outbound_victim() -> str:
    """The victim's phone answered. Nothing identifying until they say it is a good time."""
    attempt = _attempt()
    if attempt is None:
        return _end_silently()
    db, answered_by = request_session(), form("AnsweredBy", 32)
    outbound.answered(db, attempt, twilio_sid("CallSid"), now())
    if MACHINE.fullmatch(answered_by):
        if _callback(attempt).voicemail_ok:
            outbound.record_result(db, attempt, CallResult.VOICEMAIL_LEFT, now())
            _commit()
            return str(hang_up(VoiceResponse(), "outbound_voicemail"))
        outbound.record_result(db, attempt, CallResult.MACHINE, now())
        _commit()
        return _end_silently()
    if answered_by == "fax":
        outbound.record_result(db, attempt, CallResult.FAILED, now())
        _commit()
        return _end_silently()
    _commit()
    return _good_time_menu(attempt)


def _good_time_menu(attempt: CallAttempt, misses: int = 0, hint: str | None = None) -> str:
    return _ask(GOOD_TIME, state={"attempt": attempt.id}, misses=misses, hint=hint)


@step("/outbound/victim/good-time")
def outbound_good_time() -> str:
    attempt = _attempt()
    if attempt is None:
        return _end_silently()
    db = request_session()
    heard = answer(GOOD_TIME, "129")
    match heard.key:
        case "1":
            if not outbound.record_result(db, attempt, CallResult.AGREED, now()) and attempt.result != CallResult.AGREED:
                return _end_silently()  # already settled otherwise (a late retry)
            _commit()
            # The TwiML ends here: Twilio connects them to the officer.
            return str(speak(VoiceResponse(), "outbound_connecting"))
        case "2":
            outbound.record_result(db, attempt, CallResult.NOT_GOOD_TIME, now())
            _commit()
            return _later_menu(attempt)
        case "9":
            return _good_time_menu(attempt, misses=misses())
    if not heard.heard and misses() >= 1:  # silence twice: not answered, and nothing more said
        outbound.record_result(db, attempt, CallResult.NO_ANSWER, now())
        _commit()
        return _end_silently()
    return retry(heard, partial(_good_time_menu, attempt), on_third=_end_silently)


def _later_menu(attempt: CallAttempt, misses: int = 0, hint: str | None = None) -> str:
    return _ask(LATER, state={"attempt": attempt.id}, misses=misses, hint=hint,
                before=() if misses or hint else ("outbound_not_now",))


@step("/outbound/victim/later")
def outbound_later() -> str:
    """Not a good time: another day and time (1), or just hang up."""
    attempt = _attempt()
    if attempt is None:
        return _end_silently()
    heard = answer(LATER, "129")
    if heard.key == "1":
        return _day_menu(attempt)
    if heard.key == "9":
        return _later_menu(attempt, misses=misses())
    if heard.key == "2" or not heard.heard:
        return str(hang_up(VoiceResponse(), "outbound_bye"))
    return retry(heard, partial(_later_menu, attempt), on_third=partial(_bye))


def _bye() -> str:
    return str(hang_up(VoiceResponse(), "outbound_bye"))


# --- another day and time: the booking's own menus ---------------------------------------------------


def _day_menu(attempt: CallAttempt, misses: int = 0, hint: str | None = None, before: tuple[str, ...] = ()) -> str:
    days = tuple(callbacks.offered_days(helpline(), office_hours(), now()))
    state = {"attempt": attempt.id, "days": ".".join(day.isoformat() for day in days)}
    return _ask(DAY, state=state, context={"days": days}, misses=misses, hint=hint, before=before)


@step("/outbound/victim/day")
def outbound_day() -> str:
    attempt = _attempt()
    if attempt is None:
        return _end_silently()
    days = [day for text in request.args.get("days", "").split(".")[:7] if (day := _day(text))]
    heard = answer(DAY, {str(n) for n in range(1, len(days) + 1)} | {"9"})
    if heard.key == "9":
        return _day_menu(attempt, misses=misses())
    if heard.key is None:
        return retry(heard, partial(_day_menu, attempt), on_third=_bye)
    return _window_menu(attempt, days[int(heard.key) - 1])


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _window_menu(attempt: CallAttempt, day: date, misses: int = 0, hint: str | None = None) -> str:
    windows = tuple(booking.open_windows(day))
    if not windows:
        return _day_menu(attempt, before=("day_gone",))
    return _ask(WINDOW, state={"attempt": attempt.id, "day": day.isoformat()}, context={"windows": windows},
                misses=misses, hint=hint)


@step("/outbound/victim/window")
def outbound_window() -> str:
    attempt = _attempt()
    day = _day(request.args.get("day", ""))
    if attempt is None:
        return _end_silently()
    windows = {w.key: w for w in booking.open_windows(day)} if day else {}
    if not windows:
        return _day_menu(attempt, before=("day_gone",))
    heard = answer(WINDOW, set(windows) | {"9"})
    if heard.key == "9":
        return _window_menu(attempt, day, misses=misses())
    if heard.key is None:
        return retry(heard, partial(_window_menu, attempt, day), on_third=_bye)
    window = windows[heard.key]
    try:
        outbound.rebook(request_session(), attempt, callbacks.slot(day, window), now())
    except CallbackRefused:
        request_session().rollback()
        return _day_menu(attempt, before=("outbound_time_taken",))
    _commit()
    log.info("call attempt %s: the victim chose %s %s", attempt.id, day.isoformat(), window.id)
    return str(hang_up(VoiceResponse(), "outbound_rebooked", day=day, window=window))


# --- Twilio's reports ---------------------------------------------------------------------------------


# A leg's CallStatus that ends it, and the result it means when nothing better was recorded.
OFFICER_ENDED = {"completed": None, "busy": CallResult.OFFICER_MISSED, "no-answer": CallResult.OFFICER_MISSED,
                 "failed": CallResult.OFFICER_MISSED, "canceled": CallResult.OFFICER_MISSED}
VICTIM_ENDED = {"completed": CallResult.NO_ANSWER, "busy": CallResult.BUSY, "no-answer": CallResult.NO_ANSWER,
                "failed": CallResult.FAILED, "canceled": CallResult.NO_ANSWER}


@step("/outbound/status")
def outbound_status() -> str:
    """Twilio's status callbacks for either leg. The first result kept stays; a replay changes nothing."""
    attempt = _attempt()
    status, leg = form("CallStatus", 16), request.args.get("leg", "")
    if attempt is None or leg not in ("officer", "victim"):
        return str(VoiceResponse())
    db, sid, moment = request_session(), twilio_sid("CallSid"), now()
    if leg == "officer":
        outbound.officer_rung(db, attempt, sid)
        if status in OFFICER_ENDED:
            if (result := OFFICER_ENDED[status]) is not None and attempt.victim_rung_at is None:
                outbound.record_result(db, attempt, result, moment)
            outbound.end_attempt(db, attempt, moment)
    else:
        if status == "in-progress":
            outbound.answered(db, attempt, sid, moment)
        else:
            outbound.victim_rung(db, attempt, sid, moment)
        if status in VICTIM_ENDED and attempt.result is None:
            outbound.record_result(db, attempt, VICTIM_ENDED[status], moment)
    _commit()
    return str(VoiceResponse())
