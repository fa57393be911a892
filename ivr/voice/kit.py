"""What every step of a call shares: reading the caller's answer, asking a menu, and the ways on.

A step is a route that hears the answer to the menu before it and answers with the next TwiML.
What the caller chose so far travels in the action URLs (never anything personal: a number they
key in is held on the call's row). A menu nobody answers comes back to the same step without
input; each miss adds one to `miss` in the URL, and the third never leaves the caller stranded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache, wraps
from typing import Any

from flask import Response, current_app, g, request, url_for
from twilio.twiml.voice_response import VoiceResponse

from ivr import closures, current_time, twilio_params
from ivr.calls import caller_number
from ivr.db.sessions import request_session
from ivr.helpline import Helpline, Region
from ivr.hours import OfficeHours, london
from ivr.prompts import Prompts
from ivr.speech import key_from_speech
from ivr.twilio_auth import twilio_webhook
from ivr.voice import bp

MAX_MISSES = 3


def step(rule: str):
    """Register a signed Twilio webhook at /voice`rule` whose view returns TwiML."""

    def register(view: Callable[[], str]):
        @wraps(view)
        def answer_with_twiml() -> Response:
            return Response(view(), mimetype="text/xml")

        return bp.post(rule)(twilio_webhook(answer_with_twiml))

    return register


# --- the request ----------------------------------------------------------------------------------


def prompts() -> Prompts:
    return current_app.extensions["prompts"]


def helpline() -> Helpline:
    return current_app.extensions["helpline"]


def now() -> datetime:
    """The time of this request (read once, so every decision in it agrees)."""
    if "now" not in g:
        g.now = current_time.now()
    return g.now


form = twilio_params.field  # a parameter Twilio posted, cut to a length; "" when absent or unreadable
twilio_sid = twilio_params.sid  # a CallSid or RecordingSid, or None when it is missing or malformed


def call_sid() -> str | None:
    return twilio_sid("CallSid")


def caller() -> str | None:
    """The caller's number in E.164, None when withheld."""
    return caller_number(form("From", 32))


def office_hours(region: Region | None = None) -> OfficeHours:
    """The hours in force, closures and the emergency switch included (read once per request);
    a team's own hours when `region` has some in the helpline file."""
    if "office_hours" not in g:
        g.office_hours = current_app.extensions["office_hours"].get(
            london(now()).date(), lambda: closures.office_hours(request_session(), helpline(), now()))
    return g.office_hours if region is None else helpline().team_hours(region, g.office_hours)


def current_region() -> Region:
    """The region the caller chose (from the URL), else the general line."""
    return helpline().region(request.args.get("region", "")) or helpline().default_region


def more_time() -> bool:
    """Whether the caller asked for more time at the menus (a Relay UK caller, say): then every menu
    waits longer, and missing one is never what ends it."""
    return g.get("more_time", False) or request.args.get("wait") == "long"


def asks_for_more_time() -> bool:
    """The caller pressed * or said so, at any menu."""
    if form("Digits", 32) == "*":
        return True
    speech = form("SpeechResult", 300)
    return bool(speech) and key_from_speech(speech, prompts().listening("more_time").words) == "*"


def misses() -> int:
    """How many times in a row the caller has not answered the current menu."""
    count = request.args.get("miss", "0")
    return min(int(count), MAX_MISSES) if re.fullmatch(r"[0-9]{1,3}", count) else 0


# --- menus ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Menu:
    prompt: str  # the prompt that asks (templates/voice/prompts.toml [say])
    listen: str  # what it listens for ([listen])
    endpoint: str  # the step that hears the answer
    number_entry: bool = False  # many keys ended by #, rather than one key
    reads_back_a_number: bool = False  # says the caller's own digits: built for them alone, never kept
    hears_places: bool = False  # the speech recogniser is told the helpline's place names


@dataclass(frozen=True)
class Answer:
    key: str | None  # one of the menu's keys, or None
    heard: bool  # whether the caller pressed or said anything at all


def answer(menu: Menu, keys: Collection[str], understand: Callable[[str], str | None] | None = None) -> Answer:
    """The key the caller pressed or the choice they said, if it is one of `keys` ("129": 1, 2 or 9)."""
    digits, speech = form("Digits", 32), form("SpeechResult", 300)
    if digits:
        key: str | None = digits
    elif speech:
        key = (understand and understand(speech)) or key_from_speech(speech, prompts().listening(menu.listen).words)
    else:
        return Answer(None, heard=False)
    return Answer(key if key in set(keys) else None, heard=True)


def ask(
    menu: Menu,
    *,
    state: Mapping[str, str] | None = None,
    context: Mapping[str, Any] | None = None,
    misses: int = 0,
    hint: str | None = None,
    before: tuple[str, ...] = (),
) -> str:
    """Say the prompts `before`, a hint after a miss, then the menu, listening for keys or words."""
    action = url_for(menu.endpoint, **(state or {}), miss=misses or None, wait="long" if more_time() else None)
    says = (*before, *((hint,) if hint else ()), menu.prompt)
    build = _build_menu.__wrapped__ if menu.reads_back_a_number else _build_menu
    places = helpline().place_hints if menu.hears_places else ()
    wait = helpline().relay_wait_seconds if more_time() else helpline().menu_wait_seconds
    return build(prompts(), menu, says, tuple(sorted((context or {}).items())), action, places, wait)


MAX_HINTS = 500  # Twilio's limit on a Gather's hints (each at most 100 characters)


def speech_hints(listening_hints: str, places: tuple[str, ...]) -> str | None:
    """The hints for a Gather: the menu's own, then the places, within Twilio's limits."""
    hints = [h.strip() for h in listening_hints.split(",") if h.strip()]
    hints += [p for p in places if p not in hints]
    return ", ".join(h[:100] for h in hints[:MAX_HINTS]) or None


# Most steps of most calls ask one of a few menus, the same words for every caller: each is built
# once per worker (a menu that reads back a caller's number is built afresh and not kept).
@lru_cache(maxsize=1024)
def _build_menu(words: Prompts, menu: Menu, says: tuple[str, ...], context: tuple, action: str,
                places: tuple[str, ...] = (), wait: int = 10) -> str:
    response = VoiceResponse()
    keys = {"finish_on_key": "#"} if menu.number_entry else {"num_digits": 1}
    gather = response.gather(input="dtmf speech", action=action, method="POST", language=words.language,
                             hints=speech_hints(words.listening(menu.listen).hints, places),
                             speech_timeout="auto", timeout=wait, **keys)
    for name in says:
        for line in words.lines(name, **dict(context)):
            gather.say(line, voice=words.voice, language=words.language)
    response.redirect(action, method="POST")
    return str(response)


def speak(verb, name: str, **context: Any):
    """Add prompt `name` to a response (or a Gather), one Say a sentence group."""
    words = prompts()
    for line in words.lines(name, **context):
        verb.say(line, voice=words.voice, language=words.language)
    return verb


def retry(heard: Answer, replay: Callable[..., str], *, hint: str | None = None,
          on_third: Callable[[], str] | None = None) -> str:
    """Ask again with a short hint; the third miss in a row moves the caller on, unless they asked
    for more time (*): then the menu waits longer and is asked again as often as it takes. After a
    second silence the caller is told they can ask for more time."""
    if asks_for_more_time():
        g.more_time = True
        return replay(misses=0, hint="more_time_given")
    if more_time():
        return replay(misses=0, hint=hint or ("invalid" if heard.heard else "no_input"))
    count = misses() + 1
    if count >= MAX_MISSES:
        return on_third() if on_third else three_misses()
    if not heard.heard and count == MAX_MISSES - 1:
        hint = "offer_more_time"
    return replay(misses=count, hint=hint or ("invalid" if heard.heard else "no_input"))


def three_misses() -> str:
    """In hours, put the caller through to the general line; otherwise offer the closed menu."""
    if office_hours(helpline().default_region).is_open(now()):
        return put_through(helpline().default_region, intro="put_through_after_misses")
    return closed_menu(current_region())


# --- the ways on, shared by several steps ------------------------------------------------------


CLOSED = Menu("closed_menu", "closed", "voice.closed")


def closed_menu(region: Region, misses: int = 0, hint: str | None = None, before: tuple[str, ...] = ()) -> str:
    """Leave a message or arrange a callback, first saying the office is closed and when it next
    opens, if it is closed."""
    context = office_opening(region)
    if not context["open"]:  # the hint first, then why this menu: "Our office is closed just now..."
        before, hint = (*before, *((hint,) if hint else ()), "office_closed"), None
    return ask(CLOSED, state={"region": region.id}, context=context, misses=misses, hint=hint, before=before)


def office_opening(region: Region | None = None) -> dict[str, Any]:
    """What the "office_closed" prompt says: whether the office (or `region`'s team) is open now and,
    if not, when it next opens (nothing about it while "closed now" is on with no reopening time:
    nobody knows)."""
    hours, moment = office_hours(region), now()
    context: dict[str, Any] = {"open": hours.is_open(moment), "opening_day": None}
    if not context["open"] and (next_opening := hours.next_opening(moment)) is not None:
        opening = london(next_opening)
        context |= {"opening_day": opening.date(), "opening_time": opening.time(),
                    "days_away": (opening.date() - london(moment).date()).days}
    return context


def put_through(region: Region, intro: str = "putting_through", before: tuple[str, ...] = ()) -> str:
    """Ring the region's line for a bounded time; the dial step hears how it went."""
    response = VoiceResponse()
    for name in (*before, intro):
        speak(response, name, region=region)
    dial(response, region, url_for("voice.dialled", region=region.id))
    return str(response)


def dial(response: VoiceResponse, region: Region, action: str) -> VoiceResponse:
    # No callerId: Twilio shows the team the caller's own number, as a transferred call should.
    response.dial(action=action, method="POST", timeout=helpline().ring_seconds).number(region.line)
    return response


def record_message(region: Region) -> str:
    return str(take_message(VoiceResponse(), region))


def take_message(response: VoiceResponse, region: Region) -> VoiceResponse:
    """Record a message after a beep, ended by # or hanging up; silence ends the call kindly."""
    speak(response, "leave_message", max_seconds=helpline().voicemail_max_seconds)
    response.record(action=url_for("voice.message", region=region.id), method="POST", play_beep=True,
                    max_length=helpline().voicemail_max_seconds, timeout=helpline().voicemail_silence_seconds,
                    finish_on_key="#")
    return hang_up(response, "no_message")


def hang_up(response: VoiceResponse, last_words: str, **context: Any) -> VoiceResponse:
    speak(response, last_words, **context)
    response.hangup()
    return response


def goodbye(last_words: str = "goodbye", **context: Any) -> str:
    """The last words, and the end of the call."""
    return str(hang_up(VoiceResponse(), last_words, **context))
