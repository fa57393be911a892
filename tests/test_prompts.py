"""The words the phone line speaks come from templates/voice/prompts.toml, turned into speech."""

from datetime import date, time

import pytest

from ivr.prompts import load_prompts, spoken_day, spoken_digits, spoken_time


@pytest.mark.parametrize(
    ("moment", "said"),
    [(time(9), "9am"), (time(12), "12 noon"), (time(17), "5pm"), (time(9, 30), "9:30am"), (time(0), "12am")],
)
def test_times_are_said_the_way_people_say_them(moment, said):
    assert spoken_time(moment) == said


def test_dates_and_numbers_are_said_for_the_ear():
    assert spoken_day(date(2026, 12, 29)) == "Tuesday 29 December"
    assert spoken_digits("+447911123456") == "4 4 7 9 1 1 1 2 3 4 5 6"


def test_the_prompts_speak_british_english_with_their_words_filled_in():
    prompts = load_prompts()
    assert prompts.language == "en-GB" and prompts.voice.startswith("Polly.")
    assert prompts.lines("use_caller_number", ending="456")[0] == "We'll call the number ending 4 5 6. " \
        "To use that number, press 1. To give us another number, press 2."
    assert "repeat" in prompts.listening("main").hints
