"""The call from the welcome to a team's line or a message: DESIGN.md, "The call, as the caller hears it"."""

from __future__ import annotations

import logging
from functools import partial

from sqlalchemy.exc import SQLAlchemyError
from twilio.twiml.voice_response import VoiceResponse

from ivr import calls
from ivr.db.sessions import request_session
from ivr.models import CallChoice
from ivr.phone import mask
from ivr.twilio_params import whole_number
from ivr.voice import booking, languages
from ivr.voice.kit import (
    CLOSED,
    Menu,
    answer,
    ask,
    call_sid,
    caller,
    closed_menu,
    current_region,
    form,
    goodbye,
    helpline,
    misses,
    now,
    office_hours,
    office_opening,
    put_through,
    record_message,
    retry,
    step,
    twilio_sid,
)

log = logging.getLogger(__name__)

MAIN = Menu("main_menu", "main", "voice.main")
REGION = Menu("region_menu", "region", "voice.region", hears_places=True)


def _note(choice: CallChoice) -> None:
    """Count a step of the call for the service's figures; a database that fails here only loses the count."""
    if sid := call_sid():
        try:
            calls.note_step(request_session(), sid, choice, now())
            request_session().commit()
        except SQLAlchemyError as error:
            request_session().rollback()
            log.warning("call %s: step %s not counted: %s", sid, choice, type(error).__name__)


@step("/incoming")
def incoming() -> str:
    """A call arrives: note it, welcome the caller once with the safety line, say so if the office
    is closed and when it opens (before any menu, so nobody walks two menus to learn it), then the
    main menu."""
    sid = call_sid()
    if sid:
        calls.note_call(request_session(), sid, caller(), now())
        request_session().commit()
        log.info("call %s from %s", sid, mask(caller()))
    opening = office_opening()
    if opening["open"]:
        return main_menu(before=("welcome",))
    return ask(MAIN, before=("welcome", "office_closed"), context=opening)


def main_menu(misses: int = 0, hint: str | None = None, before: tuple[str, ...] = ()) -> str:
    return ask(MAIN, misses=misses, hint=hint, before=before)


@step("/main")
def main() -> str:
    heard = answer(MAIN, "123459")
    match heard.key:
        case "1":
            _note(CallChoice.RJ_INFO)
            return main_menu(before=("rj_info",))
        case "2":
            _note(CallChoice.REFERRAL_INFO)
            return main_menu(before=("referral_info",))
        case "3":
            _note(CallChoice.TEAM)
            return region_menu()
        case "4":
            _note(CallChoice.CALLBACK)
            return booking.day_menu(booking.Booking(current_region().id))
        case "5":
            return languages.language_menu()
        case "9":
            return main_menu(misses=misses())
    return retry(heard, main_menu)


def region_menu(misses: int = 0, hint: str | None = None) -> str:
    return ask(REGION, context={"regions": helpline().regions}, misses=misses, hint=hint)


def _region_said(speech: str) -> str | None:
    region = helpline().region_for_speech(speech)
    return region.key if region else None


@step("/region")
def region() -> str:
    """Put the caller through to the team they chose by key or place name, or offer the closed menu;
    a caller who names a place outside the area is told kindly that the general line can help."""
    heard = answer(REGION, {r.key for r in helpline().regions} | {"9"}, understand=_region_said)
    if heard.key == "9":
        return region_menu(misses=misses())
    chosen, before = helpline().region_for_key(heard.key or ""), ()
    speech = form("SpeechResult", 300)
    if chosen is None and not form("Digits", 32) and speech:
        place = helpline().place_for_speech(speech)
        if place is not None and place.region is None:
            chosen, before = helpline().default_region, ("outside_area",)
    if chosen is None:
        return retry(heard, region_menu)
    if sid := call_sid():
        calls.note_region(request_session(), sid, chosen.id)
        request_session().commit()
    if office_hours(chosen).is_open(now()):
        _note(CallChoice.PUT_THROUGH)
        return put_through(chosen, before=before)
    return closed_menu(chosen, before=before)


@step("/dialled")
def dialled() -> str:
    """How ringing a team went: answered ends the call; anything else is told, then the closed menu."""
    answered = form("DialCallStatus", 16) == "completed"
    _note(CallChoice.ANSWERED if answered else CallChoice.NOT_ANSWERED)
    if answered:
        return goodbye()
    return closed_menu(current_region(), before=("nobody_answered",))


@step("/closed")
def closed() -> str:
    region = current_region()
    heard = answer(CLOSED, "129")
    match heard.key:
        case "1":
            _note(CallChoice.MESSAGE)
            return record_message(region)
        case "2":
            _note(CallChoice.CALLBACK)
            return booking.day_menu(booking.Booking(region.id))
        case "9":
            return closed_menu(region, misses=misses())
    # Already the last menu: after three misses the caller can still leave a message.
    return retry(heard, partial(closed_menu, region), on_third=partial(record_message, region))


@step("/message")
def message() -> str:
    """Keep a recorded message as a new voicemail for the region's team."""
    recording_sid = twilio_sid("RecordingSid")
    if recording_sid is None:
        return goodbye("no_message")
    url = form("RecordingUrl", 500)
    voicemail_id = calls.add_voicemail(
        request_session(), recording_sid=recording_sid, recording_url=url if url.startswith("https://") else None,
        duration=whole_number("RecordingDuration", 6) or 0, region=current_region().id,
        call_sid=call_sid(), from_number=caller(), now=now(),
    )
    request_session().commit()
    log.info("voicemail %s kept for %s (call %s, from %s)", voicemail_id, current_region().id, call_sid(), mask(caller()))
    return goodbye("message_saved")


@step("/status")
def status() -> str:
    """Twilio's status callback: note how the call ended."""
    if sid := call_sid():
        calls.record_call_end(request_session(), sid, caller(), form("CallStatus", 16),
                              whole_number("CallDuration", 6), now())
        request_session().commit()
    return str(VoiceResponse())
