"""The words the phone line speaks come from templates/voice/prompts.toml, turned into speech."""

from datetime import date, time

from ivr.prompts import load_prompts


def test_the_prompts_speak_british_english_with_their_words_filled_in():
    prompts = load_prompts()
    assert prompts.language == "en-GB" and prompts.voice.startswith("Polly.")
    assert prompts.lines("use_caller_number", ending="056")[0] == "We'll call the number ending oh five six. " \
        "To use that number, press 1. To give us another number, press 2."
    assert "repeat" in prompts.listening("main").hints


def test_the_filters_say_dates_times_numbers_and_lengths_for_the_ear():
    prompts = load_prompts()
    assert prompts.lines("check_number", number="07911123456")[0].startswith(
        "You keyed oh seven nine one one, one two three, four five six.")
    assert prompts.lines("office_closed", opening_day=date(2027, 1, 4), opening_time=time(9), days_away=9) == (
        "Our office is closed just now. We open again on Monday the 4th of January at 9am.",)
    assert "You can speak for up to 3 minutes." in prompts.lines("leave_message", max_seconds=180)[0]
