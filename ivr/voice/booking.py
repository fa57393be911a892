"""Arranging a callback by phone: a day, a window, the number, and what is safe (DESIGN.md, 5)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date
from functools import partial

from flask import request

from ivr import callbacks, calls, reminders
from ivr.db.sessions import request_session
from ivr.helpline import CallbackWindow, normalise_words
from ivr.hours import london
from ivr.models import NumberSource
from ivr.phone import Refusal, callable_number, is_mobile, last_digits, mask, national_digits
from ivr.speech import digits_from_speech, key_from_speech
from ivr.voice.kit import (
    Answer,
    Menu,
    answer,
    ask,
    call_sid,
    caller,
    current_region,
    form,
    goodbye,
    helpline,
    misses,
    now,
    office_hours,
    prompts,
    retry,
    step,
)

log = logging.getLogger(__name__)

DAY = Menu("day_menu", "day", "voice.callback_day")
WINDOW = Menu("window_menu", "window", "voice.callback_window")
USE_NUMBER = Menu("use_caller_number", "use_number", "voice.callback_number", reads_back_a_number=True)
KEY_NUMBER = Menu("key_number", "number", "voice.callback_keyed", number_entry=True)
CHECK_NUMBER = Menu("check_number", "check_number", "voice.callback_check", reads_back_a_number=True)
VOICEMAIL = Menu("voicemail_menu", "yes_no", "voice.callback_voicemail")
TEXTS = Menu("texts_menu", "yes_no", "voice.callback_texts")

CALLERS_OWN, KEYED = "caller", "keyed"


@dataclass(frozen=True)
class Booking:
    """The caller's choices so far. None of them is personal, so they travel in the action URLs."""

    region: str
    day: date | None = None
    window: str | None = None
    number: str | None = None  # CALLERS_OWN (the number they rang from) or KEYED (held on the call)
    voicemail_ok: bool | None = None

    @classmethod
    def from_request(cls) -> Booking:
        args = request.args
        window = args.get("window", "")
        return cls(
            region=current_region().id,
            day=_day(args.get("day", "")),
            window=window if helpline().callback_window(window) else None,
            number=args.get("number") if args.get("number") in (CALLERS_OWN, KEYED) else None,
            voicemail_ok={"1": True, "0": False}.get(args.get("vm", "")),
        )

    def state(self) -> dict[str, str]:
        values = {"region": self.region, "day": self.day and self.day.isoformat(), "window": self.window,
                  "number": self.number, "vm": None if self.voicemail_ok is None else str(int(self.voicemail_ok))}
        return {name: value for name, value in values.items() if value}


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def open_windows(day: date) -> list[CallbackWindow]:
    """The windows on `day` a callback to the caller's team can still be booked in, within its hours
    (none on a day it is shut)."""
    hours = office_hours(current_region())
    if not hours.is_working_day(day):
        return []
    return [s.window for s in callbacks.open_slots(helpline(), day, now(), hours)]


# --- the day --------------------------------------------------------------------------------------


def day_menu(booking: Booking, misses: int = 0, hint: str | None = None, before: tuple[str, ...] = ()) -> str:
    region = helpline().region(booking.region) or helpline().default_region
    days = tuple(callbacks.offered_days(helpline(), office_hours(region), now()))
    # The days offered travel with the menu, so key 1 means the day the caller heard, even if
    # the clock passes a window's cut-off while they listen.
    state = {"region": booking.region, "days": ".".join(day.isoformat() for day in days)}
    return ask(DAY, state=state, context={"days": days}, misses=misses, hint=hint, before=before)


@step("/callback/day")
def callback_day() -> str:
    booking = Booking(current_region().id)
    days = [day for text in request.args.get("days", "").split(".")[:7] if (day := _day(text))]

    def weekday_said(speech: str) -> str | None:
        words = normalise_words(speech).split()
        return next((str(n) for n, day in enumerate(days, 1) if f"{day:%A}".lower() in words), None)

    heard = answer(DAY, {str(n) for n in range(1, len(days) + 1)} | {"9"}, understand=weekday_said)
    if heard.key == "9":
        return day_menu(booking, misses=misses())
    if heard.key is None:
        return retry(heard, partial(day_menu, booking))
    return window_menu(replace(booking, day=days[int(heard.key) - 1]))


# --- the window -----------------------------------------------------------------------------------


def window_menu(booking: Booking, misses: int = 0, hint: str | None = None) -> str:
    windows = tuple(open_windows(booking.day)) if booking.day else ()
    if not windows:
        return day_menu(Booking(booking.region), before=("day_gone",))
    return ask(WINDOW, state=booking.state(), context={"windows": windows}, misses=misses, hint=hint)


@step("/callback/window")
def callback_window() -> str:
    booking = Booking.from_request()
    windows = {w.key: w for w in open_windows(booking.day)} if booking.day else {}
    if not windows:
        return day_menu(Booking(booking.region), before=("day_gone",))
    phrases = prompts().listening(WINDOW.listen).words
    said = {key: phrases.get(window.id, ()) for key, window in windows.items()}
    heard = answer(WINDOW, set(windows) | {"9"}, understand=lambda speech: key_from_speech(speech, said))
    if heard.key == "9":
        return window_menu(booking, misses=misses())
    if heard.key is None:
        return retry(heard, partial(window_menu, booking))
    return number_menu(replace(booking, window=windows[heard.key].id))


# --- the number -----------------------------------------------------------------------------------


def callers_uk_number() -> str | None:
    """The line the caller rang from, if it is one we may call back (ivr.phone.callable_number)."""
    return callable_number(form("From", 32))[0]


def number_menu(booking: Booking, misses: int = 0, hint: str | None = None) -> str:
    """Offer the number the caller rang from when we may call it; otherwise ask them to key one in."""
    own = callers_uk_number()
    if own is None:
        return key_number_menu(booking)
    return ask(USE_NUMBER, state=booking.state(), context={"ending": last_digits(own)},
               misses=misses, hint=hint)


@step("/callback/number")
def callback_number() -> str:
    booking = Booking.from_request()
    heard = answer(USE_NUMBER, "129")
    match heard.key:
        case "1":
            return voicemail_menu(replace(booking, number=CALLERS_OWN))
        case "2":
            return key_number_menu(booking)
        case "9":
            return number_menu(booking, misses=misses())
    return retry(heard, partial(number_menu, booking))


def key_number_menu(booking: Booking, misses: int = 0, hint: str | None = None) -> str:
    return ask(KEY_NUMBER, state=replace(booking, number=None).state(), misses=misses, hint=hint)


# What the caller hears when the number they keyed is not one we call (templates/voice/prompts.toml).
REFUSED_NUMBER_HINTS = {
    Refusal.NOT_A_NUMBER: "not_a_number",
    Refusal.ABROAD: "number_abroad",
    Refusal.COSTS_EXTRA: "number_not_callable",
    Refusal.NOT_A_PERSONAL_LINE: "number_not_callable",
}


@step("/callback/keyed")
def callback_keyed() -> str:
    """Hear a keyed (or spoken) number; one we may call is held on the call and read back, and
    any other is asked for again, with the reason."""
    booking = Booking.from_request()
    if answer(KEY_NUMBER, "9").key == "9":
        return key_number_menu(booking, misses=misses())
    digits = form("Digits", 32) or digits_from_speech(form("SpeechResult", 300))
    number, refused = callable_number(digits)
    if number is None:
        return retry(Answer(None, heard=bool(digits)), partial(key_number_menu, booking),
                     hint=REFUSED_NUMBER_HINTS[refused] if digits else None)
    sid = call_sid()
    if sid is None:  # nowhere to hold the number; start the question again
        return key_number_menu(booking)
    calls.keep_keyed_number(request_session(), sid, caller(), number, now())
    request_session().commit()
    return check_menu(booking, number)


def check_menu(booking: Booking, number: str | None = None, misses: int = 0, hint: str | None = None) -> str:
    """Read the keyed number back digit by digit and ask whether it is right."""
    number = number or _keyed_number()
    if number is None:
        return key_number_menu(booking)
    return ask(CHECK_NUMBER, state=booking.state(), context={"number": national_digits(number)},
               misses=misses, hint=hint)


def _keyed_number() -> str | None:
    sid = call_sid()
    return calls.keyed_number(request_session(), sid) if sid else None


@step("/callback/check")
def callback_check() -> str:
    booking = Booking.from_request()
    heard = answer(CHECK_NUMBER, "129")
    match heard.key:
        case "1":
            return voicemail_menu(replace(booking, number=KEYED))
        case "2":
            return key_number_menu(booking)
        case "9":
            return check_menu(booking, misses=misses())
    return retry(heard, partial(check_menu, booking))


def chosen_number(booking: Booking) -> str | None:
    """The number the caller agreed we call, read from where it is held (never from the URL)."""
    if booking.number == CALLERS_OWN:
        return callers_uk_number()
    if booking.number == KEYED:
        return _keyed_number()
    return None


# --- what is safe ---------------------------------------------------------------------------------


def voicemail_menu(booking: Booking, misses: int = 0, hint: str | None = None) -> str:
    return ask(VOICEMAIL, state=booking.state(), misses=misses, hint=hint)


@step("/callback/voicemail")
def callback_voicemail() -> str:
    booking = Booking.from_request()
    heard = answer(VOICEMAIL, "129")
    if heard.key == "9":
        return voicemail_menu(booking, misses=misses())
    if heard.key is None:
        return retry(heard, partial(voicemail_menu, booking))
    booking = replace(booking, voicemail_ok=heard.key == "1")
    number = chosen_number(booking)
    if number is None or not is_mobile(number):
        return book(booking, texts_ok=False)
    if booking.number != CALLERS_OWN:  # perhaps someone else's phone: they get no texts from us
        return book(booking, texts_ok=False, no_texts="keyed")
    if reminders.is_opted_out(request_session(), number):  # they texted STOP before: not asked again
        return book(booking, texts_ok=False, no_texts="stopped")
    return texts_menu(booking)


def texts_menu(booking: Booking, misses: int = 0, hint: str | None = None) -> str:
    return ask(TEXTS, state=booking.state(), misses=misses, hint=hint)


@step("/callback/texts")
def callback_texts() -> str:
    booking = Booking.from_request()
    heard = answer(TEXTS, "129")
    if heard.key == "9":
        return texts_menu(booking, misses=misses())
    if heard.key is None:
        return retry(heard, partial(texts_menu, booking))
    return book(booking, texts_ok=heard.key == "1")


# --- booked ---------------------------------------------------------------------------------------


def book(booking: Booking, texts_ok: bool, no_texts: str | None = None) -> str:
    """Store the callback (once per call, however often Twilio retries) and read it back; or, when
    the number already has that time booked, say so. `no_texts` says why no texts were offered."""
    number, sid = chosen_number(booking), call_sid()
    if number is None or sid is None:
        return key_number_menu(booking)
    window = next((w for w in open_windows(booking.day) if w.id == booking.window), None) if booking.day else None
    if booking.day is None or window is None:
        return day_menu(Booking(booking.region), before=("day_gone",))
    if booking.voicemail_ok is None:
        return voicemail_menu(booking)
    chosen = callbacks.slot(booking.day, window)
    booked = callbacks.book_callback(
        request_session(), region=booking.region, phone_number=number, is_mobile=is_mobile(number),
        number_source=NumberSource.CALLER if booking.number == CALLERS_OWN else NumberSource.KEYED,
        starts=chosen.starts, ends=chosen.ends, voicemail_ok=booking.voicemail_ok, texts_ok=texts_ok,
        now=now(), call_sid=sid,
    )
    request_session().commit()
    if booked.already:
        log.info("callback %s already booked for that window (call %s, number %s)", booked.callback_id, sid,
                 mask(number))
        return goodbye("already_booked", day=booking.day, window=window, ending=last_digits(number))
    log.info("callback %s booked for %s (call %s, number %s)", booked.callback_id, booking.region, sid, mask(number))
    return goodbye("booked", day=booking.day, window=window, ending=last_digits(number), no_texts=no_texts)
