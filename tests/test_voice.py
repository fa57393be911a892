"""The call as the caller hears it: welcome, menus, teams' lines, the closed menu and messages."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, text

from ivr import closures, create_app
from ivr.models import Call, Voicemail
from ivr.walker import parse_twiml
from tests.conftest import LANDLINE, MOBILE, MONDAY_MORNING, SATURDAY, TwilioSigner, at_london

LINES = {"cleveland": "+443302234312", "durham": "+443000031818", "vcas": "+443030401099"}
MAIN_MENU = "To arrange a callback at a time that suits you, press 4."
CLOSED_MENU = "To leave a message, press 1. To arrange a callback, press 2."


def stored(session, model) -> list:
    """What is in the database now (the test's session sees the app's latest commits)."""
    session.commit()
    session.expire_all()
    return list(session.scalars(select(model)))


# --- the welcome and the main menu ----------------------------------------------------------------


def test_the_welcome_gives_the_safety_line_once_then_the_main_menu(phone):
    call = phone.ring()
    assert "call 9 9 9" in call.heard
    assert "If you're on a mobile and can't speak, dial 9 9 9, then press 5 5" in call.heard
    assert call.heard.index("9 9 9") < call.heard.index(MAIN_MENU)
    call.press("9")
    assert MAIN_MENU in call.heard and "9 9 9" not in call.heard


@pytest.mark.parametrize(
    ("at", "closed_days", "told"),
    [
        (SATURDAY, [], "Our office is closed just now. We open again on Monday at 9am."),
        (at_london(2026, 11, 30, 18, 0), [], "Our office is closed just now. We open again tomorrow at 9am."),
        (at_london(2026, 12, 18, 18, 0), [date(2026, 12, d) for d in (21, 22, 23, 24)],
         "Our office is closed just now. We open again on Tuesday the 29th of December at 9am."),
    ],
)
def test_out_of_hours_the_welcome_says_when_the_office_opens_before_the_main_menu(phone, session, at, closed_days,
                                                                                  told):
    for day in closed_days:
        closures.add_closure(session, day)
    session.commit()
    call = phone.ring(at=at)
    assert call.heard.index("call 9 9 9") < call.heard.index(told) < call.heard.index(MAIN_MENU)
    assert call.heard.endswith(MAIN_MENU + " For help in another language, press 5. To hear this again, press 9.")
    call.press("9")  # said once: the main menu repeats without it
    assert "closed" not in call.heard and MAIN_MENU in call.heard


def test_in_office_hours_the_welcome_leads_straight_to_the_main_menu(phone):
    heard = phone.ring(at=MONDAY_MORNING).heard
    assert "closed" not in heard and "open again" not in heard and MAIN_MENU in heard


def test_with_closed_now_on_the_welcome_says_so_but_promises_no_time(phone, session):
    closures.set_closed_now(session, True, by="test", now=MONDAY_MORNING)
    session.commit()
    heard = phone.ring(at=MONDAY_MORNING).heard
    assert "Our office is closed just now." in heard and "open again" not in heard and MAIN_MENU in heard


@pytest.mark.parametrize(
    ("sent_from", "kept"),
    [(MOBILE, MOBILE), (LANDLINE, LANDLINE), ("anonymous", None), ("+266696687", None), ("", None),
     ("+33612345678", "+33612345678")],
)
def test_each_call_is_noted_once_with_the_callers_number_or_none_when_withheld(twilio, session, sent_from, kept):
    params = {"CallSid": "CA" + "a" * 32, "From": sent_from, "CallStatus": "ringing"}
    for _ in range(2):
        assert twilio.post("/voice/incoming", params).status_code == 200
    [call] = stored(session, Call)
    assert (call.call_sid, call.from_number) == ("CA" + "a" * 32, kept)


@pytest.mark.parametrize(
    ("key", "phrases"),
    [
        ("1", ["communicate with the person who harmed you", "facilitator", "letter, a recorded interview, or video",
               "admitted the crime", "you both want to take part", "any crime, at any stage",
               "85 percent", "14 percent"]),
        ("2", ["Victim Care Officers will listen", "refer you to a Restorative Justice Coordinator",
               "You decide what happens next", "support you all the way through", "more time to think"]),
    ],
)
def test_information_is_told_then_the_main_menu_comes_back(phone, key, phrases):
    call = phone.ring().press(key)
    for phrase in phrases:
        assert phrase in call.heard
    assert call.heard.endswith("To hear this again, press 9.")
    assert MAIN_MENU in call.heard
    call.press("3")
    assert "For County Durham or Darlington, press 2." in call.heard


@pytest.mark.parametrize(
    ("words", "hears"),
    [
        ("what is restorative justice", "85 percent"),
        ("how does a referral work", "Restorative Justice Coordinator"),
        ("I'd like to speak to someone", "say the name of your town"),
        ("can you call me back", "Which day would you like us to call you?"),
        ("two", "Restorative Justice Coordinator"),
        ("press 3", "say the name of your town"),
        ("repeat that", MAIN_MENU),
    ],
)
def test_the_main_menu_understands_spoken_choices(phone, words, hears):
    assert hears in phone.ring().say_words(words).heard


# --- misses ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("miss", "hint"),
    [
        (lambda call: call.silence(), "Sorry, I didn't hear anything."),
        (lambda call: call.press("7"), "Sorry, that isn't one of the choices."),
        (lambda call: call.say_words("banana sandwich"), "Sorry, that isn't one of the choices."),
    ],
)
def test_a_miss_replays_the_menu_with_a_short_hint(phone, miss, hint):
    call = phone.ring()
    miss(call)
    assert call.heard.startswith(hint) and MAIN_MENU in call.heard


@pytest.mark.parametrize(
    ("at", "put_through"),
    [(MONDAY_MORNING, True), (SATURDAY, False), (at_london(2026, 11, 30, 17, 0), False)],
)
def test_three_misses_put_the_caller_through_in_hours_or_offer_the_closed_menu(phone, at, put_through):
    call = phone.ring(at=at).silence().press("7")
    assert call.dialled == []
    call.silence()
    if put_through:
        assert "put you through to someone who can help" in call.heard
        assert call.dialled == [LINES["vcas"]]
    else:
        assert "Our office is closed just now." in call.heard and CLOSED_MENU in call.heard


def test_three_misses_in_a_deeper_menu_reach_the_general_line(phone):
    call = phone.ring().press("3").silence().silence().silence()
    assert call.dialled == [LINES["vcas"]]


def test_three_misses_at_the_closed_menu_still_let_the_caller_leave_a_message(phone):
    call = phone.ring(at=SATURDAY).press("3").press("2").silence().press("5").silence()
    assert "Please leave your message after the beep." in call.heard
    assert call.waiting.tag == "Record"


# --- putting the call through ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("choose", "region"),
    [
        (lambda call: call.press("1"), "cleveland"),
        (lambda call: call.press("2"), "durham"),
        (lambda call: call.press("3"), "vcas"),
        (lambda call: call.say_words("Stockton"), "cleveland"),
        (lambda call: call.say_words("I live in Bishop Auckland"), "durham"),
        (lambda call: call.say_words("Darlington."), "durham"),
        (lambda call: call.say_words("I'm not sure"), "vcas"),
        (lambda call: call.say_words("one"), "cleveland"),
        (lambda call: call.say_words("number one"), "cleveland"),  # the key, not the hamlet Number One
        (lambda call: call.say_words("I live in Number One"), "durham"),
        (lambda call: call.say_words("press two please"), "durham"),
    ],
)
def test_in_hours_the_region_chosen_by_key_or_place_is_rung(phone, session, choose, region):
    call = phone.ring().press("3")
    choose(call)
    assert call.dialled == [LINES[region]]
    assert "ringing up to 25s" in " ".join(call.transcript)
    assert "Thank you for calling. Goodbye." in call.heard and call.ended
    assert stored(session, Call)[0].region == region


@pytest.mark.parametrize(
    ("said", "region"),
    [("Loftus", "cleveland"), ("I live in Peter Lee", "durham"), ("Spennymore", "durham"),
     ("My name is Stanley and I live in Redcar", "cleveland"), ("I need support in Durham", "durham")],
)
def test_a_town_or_village_named_in_its_own_words_reaches_its_team(phone, said, region):
    call = phone.ring().press("3")
    hints = call.waiting.get("hints").split(", ")
    assert {"Loftus", "Peterlee", "Chester le Street", "Skelton in Cleveland"} <= set(hints) and len(hints) <= 500
    assert call.say_words(said).dialled == [LINES[region]]


@pytest.mark.parametrize("said", ["Stainton", "I live in Hilton"])
def test_a_place_in_both_teams_areas_is_asked_again_rather_than_guessed(phone, said):
    call = phone.ring().press("3").say_words(said)
    assert call.dialled == [] and "Sorry, that isn't one of the choices." in call.heard
    assert "Or just say the name of your town." in call.heard
    assert call.press("2").dialled == [LINES["durham"]]


@pytest.mark.parametrize("at", [MONDAY_MORNING, SATURDAY])
def test_a_caller_who_names_a_place_outside_the_area_is_told_the_general_line_can_help(phone, session, at):
    call = phone.ring(at=at).press("3").say_words("I live in Sunderland")
    assert "That's outside the area our local teams cover." in call.heard
    assert "The Victim Care and Advice Service can still help you, wherever you live." in call.heard
    if at == MONDAY_MORNING:
        assert call.dialled == [LINES["vcas"]]
    else:
        assert call.dialled == [] and CLOSED_MENU in call.heard
    assert stored(session, Call)[0].region == "vcas"


@pytest.mark.parametrize(
    ("at", "is_open"),
    [
        (at_london(2026, 11, 30, 8, 59, 59), False),  # a second before Monday's opening
        (at_london(2026, 11, 30, 9, 0), True),
        (at_london(2026, 11, 30, 16, 59, 59), True),
        (at_london(2026, 11, 30, 17, 0), False),
        (SATURDAY, False),
        (at_london(2026, 12, 28, 11, 0), False),  # Boxing Day, observed on Monday 28 December
        (at_london(2026, 4, 3, 11, 0), False),  # Good Friday
        (at_london(2026, 3, 30, 9, 30), True),  # the Monday after the clocks go forward: 08:30 UTC
        (at_london(2026, 3, 30, 17, 30), False),  # 16:30 UTC: still open by UTC, closed in London
        (at_london(2026, 10, 26, 9, 0), True),  # the Monday after the clocks go back
        (at_london(2026, 10, 26, 8, 59), False),
    ],
)
def test_a_team_is_rung_only_when_the_office_is_open(phone, at, is_open):
    call = phone.ring(at=at).press("3").press("2")
    if is_open:
        assert call.dialled == [LINES["durham"]]
    else:
        assert call.dialled == []
        assert "Our office is closed just now." in call.heard and CLOSED_MENU in call.heard


@pytest.mark.parametrize("outcome", ["no-answer", "busy", "failed", "canceled"])
def test_when_nobody_answers_the_caller_is_told_and_offered_the_closed_menu(phone, outcome):
    call = phone.ring(answers=outcome).press("3").press("1")
    assert call.dialled == [LINES["cleveland"]]
    after_ringing = call.heard.split("Please hold. ")[1]
    assert after_ringing.startswith("Sorry, nobody could take your call just now.")
    assert CLOSED_MENU in after_ringing
    assert "closed" not in after_ringing  # the office is open: it is only that nobody was free
    call.press("2")
    assert "Which day would you like us to call you?" in call.heard


def test_the_closed_menu_and_region_menu_repeat_on_9(phone):
    call = phone.ring(at=SATURDAY).press("3").press("9")
    assert "Or just say the name of your town." in call.heard
    call.press("1").press("9")
    assert "We open again on Monday at 9am." in call.heard and CLOSED_MENU in call.heard


@pytest.mark.parametrize(
    ("at", "closed_days", "we_open"),
    [
        (SATURDAY, [], "We open again on Monday at 9am."),
        (at_london(2026, 11, 30, 7, 0), [], "We open again today at 9am."),
        (at_london(2026, 11, 30, 18, 0), [], "We open again tomorrow at 9am."),
        (at_london(2026, 11, 27, 17, 0), [], "We open again on Monday at 9am."),  # Friday, closing time
        (at_london(2026, 12, 24, 18, 0), [], "We open again on Tuesday at 9am."),  # Christmas, Boxing Day observed
        (at_london(2026, 4, 3, 11, 0), [], "We open again on Tuesday at 9am."),  # Good Friday, Easter Monday
        (at_london(2026, 12, 18, 18, 0), [date(2026, 12, d) for d in (21, 22, 23, 24)],
         "We open again on Tuesday the 29th of December at 9am."),  # more than six days away: the date too
        (at_london(2026, 12, 1, 11, 0), [date(2026, 12, 1)], "We open again tomorrow at 9am."),
    ],
)
def test_the_closed_menu_says_when_the_office_next_opens(phone, session, at, closed_days, we_open):
    for day in closed_days:
        closures.add_closure(session, day)
    session.commit()
    call = phone.ring(at=at).press("3").press("3")
    assert call.dialled == []
    assert we_open in call.heard


def test_the_emergency_switch_sends_every_caller_to_the_closed_menu_and_promises_no_time(phone, session):
    closures.set_closed_now(session, True, by="test", now=MONDAY_MORNING)
    session.commit()
    call = phone.ring().press("3").press("1")
    assert call.dialled == []
    assert call.heard.startswith("Our office is closed just now. To leave a message, press 1.")
    assert "We open again" not in " ".join(call.transcript)


@pytest.mark.parametrize(
    ("until", "we_open"),
    [
        (at_london(2026, 11, 30, 14, 0), "We open again today at 2pm."),
        (at_london(2026, 11, 30, 14, 30), "We open again today at 2:30pm."),
        (at_london(2026, 11, 30, 18, 0), "We open again tomorrow at 9am."),  # after hours: the next opening
        (at_london(2026, 12, 2, 17, 30), "We open again on Thursday at 9am."),
        (at_london(2026, 12, 4, 17, 30), "We open again on Monday the 7th of December at 9am."),  # a week away: the date
    ],
)
def test_the_emergency_switch_with_a_reopening_time_tells_callers_when(phone, session, until, we_open):
    closures.set_closed_now(session, True, by="test", now=MONDAY_MORNING, until=until)
    session.commit()
    call = phone.ring(at=MONDAY_MORNING).press("3").press("1")
    assert call.dialled == [] and we_open in call.heard


@pytest.mark.parametrize("cache_seconds", [0, 3600], ids=["read afresh", "hours the worker read an hour ago"])
def test_the_office_opens_again_by_itself_at_the_reopening_time(app_config, phone, session, cache_seconds):
    worker = create_app(app_config | {"OFFICE_HOURS_CACHE_SECONDS": cache_seconds})
    phone.twilio = TwilioSigner(worker.test_client())
    closures.set_closed_now(session, True, by="test", now=MONDAY_MORNING, until=at_london(2026, 11, 30, 14, 0))
    session.commit()
    assert phone.ring(at=at_london(2026, 11, 30, 13, 59)).press("3").press("1").dialled == []
    assert phone.ring(at=at_london(2026, 11, 30, 14, 0)).press("3").press("1").dialled == [LINES["cleveland"]]
    worker.extensions["db.engine"].dispose()


# --- messages -------------------------------------------------------------------------------------


@pytest.mark.parametrize("ended_by", ["#", "hangup"])
def test_a_message_is_kept_as_a_new_voicemail_for_the_chosen_team(phone, session, ended_by):
    call = phone.ring(at=SATURDAY).press("3").press("2").press("1")
    assert "Please leave your message after the beep." in call.heard
    call.record(42, ended_by=ended_by)
    [voicemail] = stored(session, Voicemail)
    recorded = call.recorded[0]
    assert (voicemail.call_sid, voicemail.region, voicemail.from_number) == (call.call_sid, "durham", MOBILE)
    assert (voicemail.recording_sid, voicemail.recording_url) == (recorded["RecordingSid"], recorded["RecordingUrl"])
    assert (voicemail.duration_seconds, voicemail.status) == (42, "new")
    if ended_by == "#":
        assert "We've got your message." in call.heard and call.ended


def test_a_message_is_bounded_in_length_and_ended_by_hash_and_the_caller_is_told_the_limit(phone):
    call = phone.ring(at=SATURDAY).press("3").press("3").press("1")
    assert call.waiting.get("maxLength") == "180" and call.waiting.get("finishOnKey") == "#"
    assert "You can speak for up to 3 minutes." in call.heard
    assert call.transcript[-1] == "(beep)"


def test_a_silent_message_stores_nothing_and_ends_kindly(phone, session):
    call = phone.ring(at=SATURDAY, from_number=None).press("3").press("1").press("1").silence()
    assert "We didn't hear a message." in call.heard and call.ended
    assert stored(session, Voicemail) == []


def test_a_retried_message_is_kept_once(phone, session):
    phone.ring(at=SATURDAY, from_number=None).press("3").press("1").press("1").record(20)
    response = phone.replay_last()
    assert response.status_code == 200 and b"got your message" in response.data
    [voicemail] = stored(session, Voicemail)
    assert voicemail.from_number is None and voicemail.region == "cleveland"


# --- how the call ended -----------------------------------------------------------------------------


def test_the_status_callback_records_how_the_call_ended_once(twilio, session):
    sid = "CA" + "b" * 32
    twilio.post("/voice/incoming", {"CallSid": sid, "From": MOBILE})
    with_status = {"CallSid": sid, "From": MOBILE, "CallStatus": "completed", "CallDuration": "95"}
    assert twilio.post("/voice/status", with_status).status_code == 200
    [call] = stored(session, Call)
    first_end = call.ended_at
    assert (call.status, call.duration_seconds) == ("completed", 95) and first_end is not None
    twilio.post("/voice/status", with_status)
    [call] = stored(session, Call)
    assert call.ended_at == first_end


# --- Twilio's side: signatures, odd requests, failures ------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/voice/incoming", {"CallSid": "CA" + "c" * 32, "From": MOBILE}),
        ("/voice/message?region=durham", {"CallSid": "CA" + "c" * 32, "RecordingSid": "RE" + "c" * 32,
                                          "RecordingUrl": "https://api.twilio.com/x", "RecordingDuration": "9"}),
        ("/voice/status", {"CallSid": "CA" + "c" * 32, "CallStatus": "completed"}),
        ("/voice/fallback", {"CallSid": "CA" + "c" * 32}),
    ],
)
@pytest.mark.parametrize("signature", ["", "bm90IHR3aWxpbydzIHNpZ25hdHVyZQ=="])
def test_a_request_not_signed_by_twilio_is_refused_and_writes_nothing(twilio, session, path, params, signature):
    response = twilio.post(path, params, **{"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert b"<Response" not in response.data
    assert stored(session, Call) == [] and stored(session, Voicemail) == []


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/voice/incoming", {}),
        ("/voice/main", {}),
        ("/voice/main", {"Digits": "abc"}),
        ("/voice/main?miss=lots", {"Digits": "1" * 10_000}),
        ("/voice/main", {"SpeechResult": "words " * 20_000, "CallSid": "x" * 5_000}),
        ("/voice/main", {"SpeechResult": "x" * 2_000_000}),
        ("/voice/region?region=atlantis", {"SpeechResult": "\x00\u202e\U0001f4a9"}),
        ("/voice/dialled?region=nowhere", {"DialCallStatus": "exploded"}),
        ("/voice/closed?region=", {"Digits": "#"}),
        ("/voice/message", {}),
        ("/voice/message", {"RecordingSid": "RE" + "9" * 500, "RecordingDuration": "-5"}),
        ("/voice/message", {"RecordingSid": "RE" + "9" * 32, "RecordingDuration": "ten",
                            "RecordingUrl": "javascript:x"}),
        ("/voice/status", {"CallSid": "CA" + "d" * 32, "CallDuration": "abc", "CallStatus": "x" * 1000}),
        ("/voice/callback/day?days=garbage.2026-13-45", {"Digits": "1"}),
        ("/voice/callback/window?day=2026-02-30&window=evening", {"Digits": "1"}),
        ("/voice/callback/window?day=2026-11-28", {"Digits": "1"}),  # a Saturday
        ("/voice/callback/keyed", {"Digits": "1" * 31}),
        ("/voice/callback/keyed", {"Digits": "07911123456"}),  # no CallSid to hold it on
        ("/voice/callback/check?number=keyed", {"Digits": "1", "CallSid": "CA" + "e" * 32}),
        ("/voice/callback/voicemail?number=caller", {"Digits": "1", "From": "anonymous"}),
        ("/voice/callback/texts?day=2026-12-01&window=morning&number=caller&vm=1", {"Digits": "1"}),
    ],
)
def test_odd_or_missing_parameters_still_get_twiml(clock, twilio, session, path, params):
    clock.moment = MONDAY_MORNING
    response = twilio.post(path, params)
    assert response.status_code == 200 and response.mimetype == "text/xml"
    parse_twiml(response.get_data(as_text=True), path)  # raises unless it is TwiML


@pytest.fixture
def no_database(app_config, tmp_path):
    app_config["DATABASE_URL"] = f"sqlite:///{tmp_path}/no/such/folder/ivr.sqlite3"


@pytest.mark.parametrize(
    ("at", "hears", "then"),
    [
        (MONDAY_MORNING, "put you through to someone who can help", "dial"),
        (SATURDAY, "Please leave your message after the beep.", "record"),
    ],
)
@pytest.mark.parametrize("start_url", ["/voice/fallback", "/voice/incoming"])
def test_without_a_database_the_caller_still_gets_help(no_database, phone, at, hears, then, start_url):
    call = phone.ring(at=at, start_url=start_url)
    assert "Sorry, something's gone wrong on our side." in call.heard
    assert "If you are in danger now, please hang up and call 9 9 9." in call.heard
    assert hears in call.heard
    if then == "dial":
        assert call.dialled == [LINES["vcas"]] and call.ended
    else:
        assert call.waiting.tag == "Record"


@contextmanager
def table_missing(app, table: str):
    """The database loses `table` while the block runs (a fault mid-call), and has it back after."""
    engine = app.extensions["db.engine"]
    with engine.begin() as connection:
        connection.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))
    try:
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {table}_away RENAME TO {table}"))


def test_an_error_in_a_step_still_answers_with_help(phone, app):
    call = phone.ring().press("3")
    with table_missing(app, "calls"):  # choosing a team notes it on the call's row
        call.press("2")
    assert "Sorry, something's gone wrong on our side." in call.heard
    assert call.dialled == [LINES["vcas"]]  # in hours: put through to the general line


def test_when_saving_a_message_fails_it_is_spooled_and_the_caller_is_not_asked_again(phone, session, app):
    call = phone.ring(at=SATURDAY).press("3").press("1").press("1")
    with table_missing(app, "voicemails"):
        call.record(30)
    assert "We've got your message." in call.heard and call.ended
    assert stored(session, Voicemail) == []
    assert [p.name for p in Path(app.config["SPOOL_DIR"]).glob("*.json")] == [f"{call.recorded[-1]['RecordingSid']}.json"]


def test_when_neither_database_nor_spool_can_keep_a_message_the_caller_is_told(phone, app):
    app.config["SPOOL_DIR"] = "/proc/no-spool-here"
    call = phone.ring(at=SATURDAY).press("3").press("1").press("1")
    with table_missing(app, "voicemails"):
        call.record(30)
    assert "We may not have kept your message." in call.heard and call.ended


# --- time to answer: Relay UK and anyone slow to answer -------------------------------------------


def test_the_welcome_says_how_to_call_by_text_relay(phone):
    assert "If you use Relay UK, you can call us on one eight oh oh one before our number." in phone.ring().heard


def test_menus_wait_longer_than_twilios_five_seconds(phone):
    call = phone.ring()
    assert call.waiting.tag == "Gather" and call.waiting.get("timeout") == "10"


def test_a_slow_caller_is_offered_more_time_and_then_never_cut_off_by_misses(phone):
    call = phone.ring(at=MONDAY_MORNING).silence()
    assert "Sorry, I didn't hear anything." in call.heard and "press star" not in call.heard
    call.silence()
    assert "If you need longer to answer, press star." in call.heard
    call.press("*")
    assert "We'll wait longer for your answer from now on." in call.heard and MAIN_MENU in call.heard
    assert call.waiting.get("timeout") == "60"
    for _ in range(5):  # five silences in a row: still the main menu, not put through anywhere
        call.silence()
        assert MAIN_MENU in call.heard and call.dialled == []
    call.press("3")  # the longer wait goes with them to the next menu
    assert call.waiting.get("timeout") == "60"
    call.say_words("Loftus")
    assert call.dialled == [LINES["cleveland"]]


def test_saying_more_time_works_as_star(phone):
    call = phone.ring().press("4").say_words("I need more time please")
    assert "We'll wait longer for your answer from now on." in call.heard
    assert "Which day would you like us to call you?" in call.heard and call.waiting.get("timeout") == "60"


def test_without_asking_for_more_time_three_silences_still_move_the_caller_on(phone):
    call = phone.ring(at=MONDAY_MORNING).silence().silence().silence()
    assert call.dialled == [LINES["vcas"]]


def test_the_voicemail_records_three_minutes_and_waits_through_a_pause(phone):
    call = phone.ring(at=SATURDAY).press("3").press("2").press("1")
    assert "You can speak for up to 3 minutes." in call.heard
    assert call.waiting.tag == "Record"
    assert call.waiting.get("maxLength") == "180" and call.waiting.get("timeout") == "15"


def test_speech_hints_keep_to_twilios_limits_however_long_the_gazetteer():
    from ivr.voice.kit import MAX_HINTS, speech_hints

    many = tuple(f"Place {n}" for n in range(2000)) + ("x" * 150,)
    hints = speech_hints("not sure, general support", many).split(", ")
    assert hints[:2] == ["not sure", "general support"] and len(hints) == MAX_HINTS == 500
