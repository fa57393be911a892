"""One formatter for times, days, windows and numbers: said on the phone line, written in texts
and on the staff pages."""

from datetime import date, time

import pytest

from ivr import wording
from tests.conftest import utc
from tests.twilio_double import num_segments


@pytest.mark.parametrize(("moment", "words"), [
    (time(9), "9am"), (time(12), "12 noon"), (time(17), "5pm"), (time(9, 30), "9:30am"),
    (time(12, 15), "12:15pm"), (time(0), "12 midnight"), (time(0, 30), "12:30am"),
])
def test_times_are_said_and_written_the_way_people_say_them(moment, words):
    assert wording.clock(moment) == words


@pytest.mark.parametrize(("day", "said"), [
    (date(2026, 11, 30), "Monday the 30th of November"), (date(2026, 12, 1), "Tuesday the 1st of December"),
    (date(2026, 12, 2), "Wednesday the 2nd of December"), (date(2026, 12, 3), "Thursday the 3rd of December"),
    (date(2026, 12, 11), "Friday the 11th of December"), (date(2026, 12, 12), "Saturday the 12th of December"),
    (date(2026, 12, 13), "Sunday the 13th of December"), (date(2026, 12, 21), "Monday the 21st of December"),
    (date(2026, 12, 22), "Tuesday the 22nd of December"), (date(2026, 12, 23), "Wednesday the 23rd of December"),
])
def test_dates_are_said_the_british_way(day, said):
    assert wording.spoken_date(day) == said


@pytest.mark.parametrize(("number", "said"), [
    ("+447911123456", "oh seven nine one one, one two three, four five six"),  # a mobile: 5, 3, 3
    ("07700900123", "oh seven seven oh oh, nine oh oh, one two three"),
    ("+441642123456", "oh one six four two, one two three, four five six"),  # Middlesbrough: 5, 3, 3
    ("+441134960123", "oh one one three, four nine six, oh one two three"),  # Leeds: 4, 3, 4
    ("+442079460000", "oh two oh, seven nine four six, oh oh oh oh"),  # London: 3, 4, 4
    ("+443000031818", "oh three oh oh, oh oh three, one eight one eight"),  # the Durham hub: 4, 3, 4
])
def test_phone_numbers_are_read_back_in_the_groups_people_say(number, said):
    # Words, not digits: the line's Polly voice reads a written "0" as "zero".
    assert wording.spoken_number(number) == said


def test_digits_and_lengths_are_said_as_words():
    assert wording.spoken_digits("056") == "oh five six"
    assert [wording.spoken_duration(s) for s in (180, 60, 45, 90, 150)] == [
        "3 minutes", "1 minute", "45 seconds", "90 seconds", "2 minutes and 30 seconds"]


def test_pages_write_the_year_only_when_it_is_not_this_year():
    this_year, next_year = date(2026, 12, 3), date(2027, 1, 4)
    assert wording.written_date(date(2026, 11, 30), this_year) == "Monday 30 November"
    assert wording.written_date(next_year, this_year) == "Monday 4 January 2027"
    assert wording.window(utc(2026, 11, 30, 9), utc(2026, 11, 30, 12), this_year) == "Mon 30 Nov, 9am–12 noon"
    assert wording.window(utc(2027, 1, 4, 12), utc(2027, 1, 4, 17), this_year) == "Mon 4 Jan 2027, 12 noon–5pm"
    assert wording.moment(utc(2026, 6, 30, 13, 5), this_year) == "Tue 30 Jun, 2:05pm"  # British Summer Time
    assert wording.moment(utc(2025, 12, 31, 9), this_year) == "Wed 31 Dec 2025, 9am"


def test_texts_write_a_window_short_and_in_gsm_7():
    words = wording.text_window(utc(2027, 1, 4, 9), utc(2027, 1, 4, 12))
    assert words == "Mon 4 Jan, 9am-12 noon"  # a hyphen: an en dash is not GSM-7
    assert num_segments(words * 7) == 1  # 154 characters in one text: only GSM-7 characters
