"""Understanding what a caller said instead of pressing a key."""

from __future__ import annotations

from collections.abc import Mapping

from ivr.places import normalise_words

NUMBER_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "nought": "0",
    "one": "1", "won": "1", "two": "2", "to": "2", "too": "2", "three": "3", "four": "4", "for": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "ate": "8", "nine": "9",
}
_REPEATS = {"double": 2, "triple": 3}
# Words a caller may wrap around a key ("press one", "number two please").
FILLER_WORDS = {"press", "option", "number", "please", "um", "er", "erm", "uh", "the"}


def digits_from_speech(speech: str) -> str:
    """The digits in words like "oh seven nine double one" or "07911 123456" ("07911")."""
    digits, repeat = "", 1
    for word in normalise_words(speech).split():
        if word in _REPEATS:
            repeat = _REPEATS[word]
            continue
        spoken = word if word.isdigit() else NUMBER_WORDS.get(word, "")
        if spoken:
            digits += spoken[0] * repeat + spoken[1:]
        repeat = 1
    return digits


def key_from_speech(speech: str, words: Mapping[str, tuple[str, ...]]) -> str | None:
    """The key a spoken answer stands for: a lone number ("two", "press 2"), else the phrase heard
    with the most words, then the longest: in "can someone ring me", "ring me" outweighs "someone",
    and in "I want to know what restorative justice is", "restorative justice" outweighs "what"."""
    heard = normalise_words(speech)
    meaningful = [word for word in heard.split() if word not in FILLER_WORDS]
    if len(meaningful) == 1 and (key := digits_from_speech(meaningful[0])) and len(key) == 1:
        return key
    padded = f" {heard} "
    best, best_weight = None, (0, 0)
    for key, phrases in words.items():
        for phrase in map(normalise_words, phrases):
            weight = (len(phrase.split()), len(phrase))
            if weight > best_weight and f" {phrase} " in padded:
                best, best_weight = key, weight
    return best
