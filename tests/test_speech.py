"""What a caller says instead of pressing a key."""

import pytest

from ivr.speech import digits_from_speech, key_from_speech

MAIN = {"1": ("what is restorative justice", "information"), "3": ("speak to someone", "speak"),
        "4": ("call back", "call me back")}


@pytest.mark.parametrize(
    ("said", "key"),
    [
        ("One.", "1"), ("1", "1"), ("press three", "3"), ("number four please", "4"), ("for", "4"),
        ("What is restorative justice?", "1"),
        ("Can someone call me back about restorative justice", "4"),  # the longest phrase heard wins
        ("I want to speak to someone", "3"),
        ("banana", None), ("", None), ("one two", None),
    ],
)
def test_a_spoken_answer_stands_for_a_key(said, key):
    assert key_from_speech(said, MAIN) == key


@pytest.mark.parametrize(
    ("said", "digits"),
    [
        ("07911 123456.", "07911123456"),
        ("oh seven nine one one, one two three, four five six", "07911123456"),
        ("zero seven nine double one triple three", "07911333"),
        ("my number is oh one six four two", "01642"),
        ("no idea", ""),
    ],
)
def test_spoken_digits(said, digits):
    assert digits_from_speech(said) == digits


@pytest.mark.parametrize(
    ("said", "key"),
    [
        ("I want to know what restorative justice is", "1"),
        ("can someone ring me", "4"),
        ("could somebody call me back", "4"),
        ("I'd like to speak to someone", "3"),
        ("how does a referral work", "2"),
        ("what", "9"),
        ("say that again", "9"),
    ],
)
def test_the_main_menu_hears_phrases_not_single_words(said, key):
    from ivr.prompts import load_prompts

    assert key_from_speech(said, load_prompts().listening("main").words) == key
