"""Arranging a callback by phone: the day, the window, the number, what is safe, and the read-back."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from ivr import closures, wording
from ivr.models import Call, Callback
from tests.conftest import LANDLINE, MOBILE, MONDAY_MORNING, SATURDAY, at_london, utc

LINES_VCAS = "+443030401099"


def stored(session, model) -> list:
    session.commit()
    session.expire_all()
    return list(session.scalars(select(model)))


def test_a_mobile_caller_books_a_callback_and_is_asked_about_texts(phone, session):
    call = phone.ring(MOBILE, at=SATURDAY).press("4")
    assert ("Which day would you like us to call you? For Monday the 30th of November, press 1. "
            "For Tuesday the 1st of December, press 2. For Wednesday the 2nd of December, press 3. "
            "For Thursday the 3rd of December, press 4. For Friday the 4th of December, press 5.") in call.heard
    call.press("2")
    assert "For the morning, between 9am and 12 noon, press 1." in call.heard
    assert "For the afternoon, between 12 noon and 5pm, press 2." in call.heard
    call.press("2")
    assert "We'll call the number ending four five six. To use that number, press 1." in call.heard
    call.press("1")
    assert "may we leave a voicemail?" in call.heard
    call.press("2")
    assert "Would you like a text reminder before we call?" in call.heard
    call.press("1")
    assert ("We'll call you on Tuesday the 1st of December, in the afternoon, between 12 noon and 5pm. "
            "We'll call the number ending four five six. Goodbye.") in call.heard
    assert call.ended
    [callback] = stored(session, Callback)
    assert (callback.call_sid, callback.region, callback.phone_number) == (call.call_sid, "vcas", MOBILE)
    assert (callback.window_start, callback.window_end) == (utc(2026, 12, 1, 12), utc(2026, 12, 1, 17))
    assert (callback.is_mobile, callback.voicemail_ok, callback.texts_ok) == (True, False, True)
    assert callback.status == "booked"


def test_a_landline_caller_is_not_asked_about_texts(phone, session):
    call = phone.ring(LANDLINE, at=SATURDAY).press("4").press("1").press("1").press("1").press("1")
    assert "text" not in " ".join(call.transcript)
    assert "We'll call you on Monday the 30th of November, in the morning" in call.heard and call.ended
    [callback] = stored(session, Callback)
    assert (callback.phone_number, callback.is_mobile) == (LANDLINE, False)
    assert (callback.voicemail_ok, callback.texts_ok) == (True, False)


def test_a_withheld_caller_keys_a_number_in_and_a_wrong_one_is_asked_for_again(phone, session):
    call = phone.ring(None, at=SATURDAY).press("4").press("1").press("2")
    assert "Please key in the number we should call, starting with 0. Then press the hash key." in call.heard
    call.press("0791112345#")
    assert call.heard.startswith("Sorry, that doesn't seem to be a UK phone number.")
    assert "Please key in the number" in call.heard
    assert [c.keyed_number for c in stored(session, Call)] == [None]  # never stored
    call.press("01642123456#")
    assert "You keyed oh one six four two, one two three, four five six. If that's right, press 1. To key it again, press 2." in call.heard
    call.press("2").press("07911123456#")
    assert "You keyed oh seven nine one one, one two three, four five six." in call.heard
    call.press("1").press("1")
    # A keyed-in mobile may be someone else's: not offered texts, and told why, kindly.
    assert "Would you like a text reminder" not in call.heard
    assert "We'll call the number ending four five six." in call.heard
    assert "We only send text reminders to the phone you're calling from, so we won't text that number." in call.heard
    [callback] = stored(session, Callback)
    assert (callback.phone_number, callback.is_mobile, callback.texts_ok) == (MOBILE, True, False)
    assert (callback.number_source, callback.reminders) == ("keyed", [])
    assert (callback.window_start, callback.window_end) == (utc(2026, 11, 30, 12), utc(2026, 11, 30, 17))


def test_a_caller_may_give_another_number_than_the_one_they_rang_from(phone, session):
    call = phone.ring(MOBILE, at=SATURDAY).press("4").press("1").press("1").press("2")
    call.press("01642123456#").press("1").press("1")
    assert "text" not in call.heard and "ending four five six" in call.heard
    [callback] = stored(session, Callback)
    assert (callback.phone_number, callback.is_mobile) == (LANDLINE, False)


def test_no_phone_number_travels_in_a_url(phone):
    call = phone.ring(None, at=SATURDAY).press("4").press("1").press("1").press("07911123456#")
    call.press("1").press("1")
    assert call.ended
    assert all("7911" not in url and "456" not in url for url, _ in phone.posts)


def test_the_whole_booking_can_be_spoken(phone, session):
    call = phone.ring(None, at=SATURDAY).say_words("I'd like a call back").say_words("Wednesday please")
    call.say_words("afternoon").say_words("oh seven nine one one, one two three, four five six")
    assert "You keyed oh seven nine one one, one two three, four five six." in call.heard
    call.say_words("yes that's right").say_words("yes")
    assert "We'll call you on Wednesday the 2nd of December, in the afternoon" in call.heard
    [callback] = stored(session, Callback)
    assert (callback.voicemail_ok, callback.texts_ok) == (True, False)


def test_a_retried_last_step_books_one_callback(phone, session):
    phone.ring(MOBILE, at=SATURDAY).press("4").press("1").press("1").press("1").press("1").press("1")
    first = phone.posts[-1]
    response = phone.replay_last()
    assert response.status_code == 200 and b"ending four five six" in response.data
    assert phone.posts[-1] == first
    assert len(stored(session, Callback)) == 1



@pytest.mark.parametrize(
    ("at", "first_day", "windows"),
    [
        (MONDAY_MORNING, "Monday the 30th of November", ("morning", "afternoon")),  # 10:00: the morning still has 2 hours
        (at_london(2026, 11, 30, 11, 0), "Monday the 30th of November", ("morning", "afternoon")),
        (at_london(2026, 11, 30, 11, 1), "Monday the 30th of November", ("afternoon",)),  # under an hour of it left
        (at_london(2026, 11, 30, 16, 0), "Monday the 30th of November", ("afternoon",)),
        (at_london(2026, 11, 30, 16, 1), "Tuesday the 1st of December", ("morning", "afternoon")),
        # Christmas Day, then Boxing Day observed on Monday the 28th of December
        (at_london(2026, 12, 24, 18, 0), "Tuesday the 29th of December", ("morning", "afternoon")),
        (at_london(2026, 4, 2, 17, 0), "Tuesday the 7th of April", ("morning", "afternoon")),  # Good Friday, Easter Monday
    ],
)
def test_only_days_and_windows_still_ahead_are_offered(phone, at, first_day, windows):
    call = phone.ring(at=at).press("4")
    assert f"For {first_day}, press 1." in call.heard
    call.press("1")
    assert ("the morning" in call.heard) is ("morning" in windows)
    assert ("the afternoon" in call.heard) is ("afternoon" in windows)


def test_bank_holidays_and_closures_are_never_offered(phone, session):
    closures.add_closure(session, date(2026, 12, 30), "staff training")
    session.commit()
    call = phone.ring(at=at_london(2026, 12, 23, 18, 0)).press("4")
    assert ("For Thursday the 24th of December, press 1. For Tuesday the 29th of December, press 2. For Thursday the 31st of December, "
            "press 3. For Monday the 4th of January, press 4. For Tuesday the 5th of January, press 5.") in call.heard


def test_a_window_already_past_cannot_be_chosen(phone):
    call = phone.ring(at=at_london(2026, 11, 30, 11, 30)).press("4").press("1").press("1")
    assert call.heard.startswith("Sorry, that isn't one of the choices.")
    assert "For the afternoon, between 12 noon and 5pm, press 2." in call.heard


def test_a_day_that_filled_while_the_caller_listened_is_offered_again(phone, clock):
    call = phone.ring(at=at_london(2026, 11, 30, 15, 59)).press("4")
    assert "For Monday the 30th of November, press 1." in call.heard
    clock.moment = at_london(2026, 11, 30, 16, 30)
    call.press("1")
    assert call.heard.startswith("Sorry, that day is no longer free.")
    assert "For Tuesday the 1st of December, press 1." in call.heard


@pytest.mark.parametrize(
    ("at", "day", "window", "starts"),
    [
        (at_london(2026, 7, 1, 10, 0), "2", "1", utc(2026, 7, 2, 8)),  # summer time: 9am is 08:00 UTC
        (at_london(2026, 3, 27, 18, 0), "1", "1", utc(2026, 3, 30, 8)),  # booked in GMT for a day in BST
        (at_london(2026, 10, 23, 18, 0), "1", "2", utc(2026, 10, 26, 12)),  # booked in BST for a day in GMT
    ],
)
def test_the_window_is_stored_in_utc_across_the_clocks_changing(phone, session, at, day, window, starts):
    phone.ring(LANDLINE, at=at).press("4").press(day).press(window).press("1").press("1")
    [callback] = stored(session, Callback)
    assert callback.window_start == starts


@pytest.mark.parametrize("again", [lambda call: call.press("9"), lambda call: call.say_words("say that again")],
                         ids=["9", "spoken"])
def test_each_booking_question_is_repeated_on_request(phone, again):
    call = phone.ring(None, at=SATURDAY).press("4")
    for heard, answer in [("Which day would you like us to call you?", "1"), ("What time of day suits you?", "1"),
                          ("Please key in the number", "07911123456#"), ("You keyed oh seven nine one one, one two three, four five six.", "1"),
                          ("may we leave a voicemail?", "1")]:
        again(call)
        assert heard in call.heard and not call.heard.startswith("Sorry")
        call.press(answer)
    assert "We'll call you on Monday the 30th of November" in call.heard
    call = phone.ring(MOBILE, at=SATURDAY).press("4").press("2").press("1")  # their own mobile, another day
    for heard, answer in [("We'll call the number ending four five six", "1"), ("may we leave a voicemail?", "1"),
                          ("Would you like a text reminder", "1")]:
        again(call)
        assert heard in call.heard and not call.heard.startswith("Sorry")
        call.press(answer)
    assert "We'll call you on Tuesday the 1st of December" in call.heard


@pytest.mark.parametrize(("at", "put_through"), [(MONDAY_MORNING, True), (SATURDAY, False)])
def test_three_misses_while_booking_never_strand_the_caller(phone, session, at, put_through):
    call = phone.ring(at=at).press("4").press("1").silence().press("8").silence()
    if put_through:
        assert call.dialled == [LINES_VCAS]
    else:
        assert "To leave a message, press 1. To arrange a callback, press 2." in call.heard
    assert stored(session, Callback) == []


def test_three_wrong_numbers_never_strand_the_caller(phone, session):
    call = phone.ring(None, at=SATURDAY).press("4").press("1").press("1")
    call.press("123#").press("0000#").press("99999999999#")
    assert "We open again on Monday at 9am." in call.heard
    assert stored(session, Callback) == [] and [c.keyed_number for c in stored(session, Call)] == [None]


def test_a_callback_arranged_from_the_closed_menu_goes_to_the_chosen_team(phone, session):
    phone.ring(LANDLINE, at=SATURDAY).press("3").press("1").press("2").press("1").press("1").press("1").press("1")
    [callback] = stored(session, Callback)
    assert callback.region == "cleveland"


# --- only numbers that are safe and free to call (ivr.phone.callable_number) -----------------------

CANT_CALL = "Sorry, we can't call that kind of number. We can call a mobile, or a landline."


@pytest.mark.parametrize(
    ("keyed", "heard"),
    [
        ("09098790000#", CANT_CALL),  # premium rate
        ("08712345678#", CANT_CALL),  # service number
        ("08444771000#", CANT_CALL),
        ("07012345678#", CANT_CALL),  # personal number: forwards anywhere, at a price
        ("07623123456#", CANT_CALL),  # pager
        ("05612345678#", CANT_CALL),  # VoIP
        ("08001111111#", CANT_CALL),  # freephone
        ("0033123456789#", "Sorry, we can only call a number in the UK."),
        ("07700900123#", "Sorry, that doesn't seem to be a UK phone number."),  # Ofcom's drama mobiles are unallocated
    ],
)
def test_a_number_we_cannot_call_is_asked_for_again_with_the_reason(phone, session, keyed, heard):
    call = phone.ring(None, at=SATURDAY).press("4").press("1").press("1").press(keyed)
    assert call.heard.startswith(heard)
    assert call.heard.endswith("Please key in the number we should call, starting with 0. Then press the hash key.")
    assert [c.keyed_number for c in stored(session, Call)] == [None]  # never held, never called
    call.press("01134960123#")
    assert "You keyed oh one one three, four nine six, oh one two three. If that's right, press 1." in call.heard
    call.press("1").press("1")
    assert "We'll call the number ending one two three." in call.heard
    [callback] = stored(session, Callback)
    assert callback.phone_number == "+441134960123"


def test_a_number_we_cannot_call_counts_as_a_miss(phone, session):
    call = phone.ring(None, at=SATURDAY).press("4").press("1").press("1")
    call.press("09098790000#").press("07012345678#").press("0033123456789#")
    assert "Our office is closed just now." in call.heard and "To leave a message, press 1." in call.heard
    assert stored(session, Callback) == []


@pytest.mark.parametrize("from_number", ["+441134960123", "+443000031818", "+447797123456", "+441534446000"],
                         ids=["landline", "03", "Jersey mobile", "Jersey landline"])
def test_the_line_rung_from_is_offered_when_we_may_call_it(phone, from_number):
    call = phone.ring(from_number, at=SATURDAY).press("4").press("1").press("1")
    assert f"We'll call the number ending {wording.spoken_digits(from_number[-3:])}. To use that number, press 1." in call.heard


@pytest.mark.parametrize("from_number", ["+445612345678", "+447012345678", "+33123456789", "+447623123456"],
                         ids=["VoIP", "personal", "abroad", "pager"])
def test_a_caller_on_a_line_we_cannot_call_keys_one_in(phone, session, from_number):
    call = phone.ring(from_number, at=SATURDAY).press("4").press("1").press("1")
    assert "We'll call the number ending" not in call.heard
    assert "Please key in the number we should call" in call.heard
    call.press("01134960123#").press("1").press("1")
    [callback] = stored(session, Callback)
    assert callback.phone_number == "+441134960123"


def test_a_second_booking_for_the_same_number_and_window_is_recognised(phone, session):
    first = phone.ring(MOBILE, at=SATURDAY).press("4").press("1").press("1").press("1").press("1").press("1")
    assert "We'll call you on Monday the 30th of November" in first.heard
    again = phone.ring(MOBILE, at=SATURDAY).press("4").press("1").press("1").press("1").press("1").press("1")
    assert "You already have a callback booked for Monday the 30th of November, in the morning" in again.heard
    assert "We'll call the number ending four five six, as arranged." in again.heard
    [callback] = stored(session, Callback)
    assert len(callback.reminders) == 2  # and no text twice
    # Another window is another booking.
    later = phone.ring(MOBILE, at=SATURDAY).press("4").press("1").press("2").press("1").press("1").press("2")
    assert "We'll call you on Monday the 30th of November, in the afternoon" in later.heard
    assert len(stored(session, Callback)) == 2


def test_a_caller_whose_phone_said_stop_is_not_asked_about_texts(phone, session, twilio):
    twilio.post("/sms/incoming", {"MessageSid": "SM" + "9" * 32, "From": MOBILE, "Body": "STOP"})
    call = phone.ring(MOBILE, at=SATURDAY).press("4").press("1").press("1").press("1").press("1")
    assert "text reminder" not in call.heard
    assert "You asked us not to text this phone, so we won't send you reminders." in call.heard
    [callback] = stored(session, Callback)
    assert (callback.texts_ok, callback.reminders) == (False, [])
