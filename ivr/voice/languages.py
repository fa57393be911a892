"""Another language (main menu 5): a short flow, in the caller's language, that books a callback
with an interpreter. Its words are the prompts file's [[languages]], each in its own Twilio voice;
a language without a voice, or a prompt without a translation, is said in English.

The callback goes to the general line's team, in the first window still open, to the number the
caller rang from (a number keyed in could be anyone's and could not be read back in their language
with confidence); no voicemail is left and no text sent, since neither could be asked about.
"""

from __future__ import annotations

import logging

from flask import request, url_for
from twilio.twiml.voice_response import VoiceResponse

from ivr import callbacks
from ivr.db.sessions import request_session
from ivr.models import NumberSource
from ivr.phone import callable_number, is_mobile, last_digits, mask
from ivr.prompts import Speech
from ivr.speech import key_from_speech
from ivr.voice.kit import (
    Answer,
    call_sid,
    caller,
    form,
    helpline,
    misses,
    more_time,
    now,
    office_hours,
    prompts,
    retry,
    step,
)

log = logging.getLogger(__name__)


def _say(verb, speeches: tuple[Speech, ...]):
    for speech in speeches:
        verb.say(speech.text, voice=speech.voice, language=speech.language)
    return verb


def _wait() -> int:
    return helpline().relay_wait_seconds if more_time() else helpline().menu_wait_seconds


def _gather(response: VoiceResponse, action: str, listen: str | None = None):
    """Keys, or (in the language menu) a language's name, heard in English."""
    if listen is None:
        return response.gather(input="dtmf", num_digits=1, action=action, method="POST", timeout=_wait())
    words = prompts()
    return response.gather(input="dtmf speech", num_digits=1, action=action, method="POST", timeout=_wait(),
                           language=words.language, hints=words.listening(listen).hints or None,
                           speech_timeout="auto")


def _action(endpoint: str, count: int = 0, **state: str) -> str:
    return url_for(endpoint, **state, miss=count or None, wait="long" if more_time() else None)


def language_menu(misses: int = 0, hint: str | None = None) -> str:
    """Each language offered in its own words and voice: "Po polsku, naciśnij 1." ..."""
    words, response = prompts(), VoiceResponse()
    action = _action("voice.language", misses)
    gather = _gather(response, action, listen="language")
    if hint:
        _say(gather, tuple(Speech(line, words.voice, words.language) for line in words.lines(hint)))
    for key, language in enumerate(words.languages, 1):
        _say(gather, words.spoken(language.id, "offer", key=str(key), name=language.name))
    _say(gather, words.spoken("", "menu_end"))
    response.redirect(action, method="POST")
    return str(response)


@step("/language")
def language() -> str:
    digits, speech, languages = form("Digits", 32), form("SpeechResult", 300), prompts().languages
    if digits == "9" or (not digits and speech and key_from_speech(speech, prompts().listening("language").words) == "9"):
        return language_menu(misses=misses())
    if digits.isdigit() and 1 <= int(digits) <= len(languages):
        return number_menu(languages[int(digits) - 1].id)
    said = key_from_speech(speech, prompts().listening("language").words) if speech and not digits else None
    if said and prompts().other_language(said):
        return number_menu(said)
    return retry(Answer(None, heard=bool(digits or speech)), language_menu)


def number_menu(language_id: str, misses: int = 0, again: bool = False) -> str:
    """Offer to call back the number they rang from, in their language; or say that we can only do that."""
    words, response = prompts(), VoiceResponse()
    name = words.other_language(language_id).name
    number, _ = callable_number(caller())
    if number is None:
        _say(response, words.spoken(language_id, "intro", name=name))
        _say(response, words.spoken(language_id, "no_number", name=name))
        response.hangup()
        return str(response)
    action = _action("voice.language_callback", misses, lang=language_id)
    gather = _gather(response, action)
    _say(gather, words.spoken(language_id, "again" if again else "intro", name=name))
    _say(gather, words.spoken(language_id, "confirm_number", name=name, ending=last_digits(number)))
    response.redirect(action, method="POST")
    return str(response)


@step("/language/callback")
def language_callback() -> str:
    """1: book the callback with an interpreter; 2: we may not call this number."""
    language_id = request.args.get("lang", "")
    language = prompts().other_language(language_id)
    if language is None:
        return language_menu()
    digits = form("Digits", 32)
    if digits not in ("1", "2"):
        count = misses() + 1
        if count >= 3 and not more_time():
            return _goodbye(language_id, "no_number")
        return number_menu(language_id, misses=count, again=True)
    number, _ = callable_number(caller())
    if digits == "2" or number is None or call_sid() is None:
        return _goodbye(language_id, "no_number")
    slot = _first_open_slot()
    booked = callbacks.book_callback(
        request_session(), region=helpline().default_region.id, phone_number=number, is_mobile=is_mobile(number),
        number_source=NumberSource.CALLER, starts=slot.starts, ends=slot.ends, voicemail_ok=False,
        texts_ok=False, now=now(), call_sid=call_sid(), interpreter_language=language.id,
    )
    request_session().commit()
    log.info("callback %s booked with a %s interpreter (call %s, number %s)", booked.callback_id, language.name,
             call_sid(), mask(number))
    return _goodbye(language_id, "booked")


def _first_open_slot() -> callbacks.Slot:
    hours = office_hours(helpline().default_region)
    day = callbacks.offered_days(helpline(), hours, now(), count=1)[0]
    return callbacks.open_slots(helpline(), day, now(), hours)[0]


def _goodbye(language_id: str, prompt: str) -> str:
    response = VoiceResponse()
    name = prompts().other_language(language_id).name
    _say(response, prompts().spoken(language_id, prompt, name=name))
    response.hangup()
    return str(response)
