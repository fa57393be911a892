"""Another language (main menu 5): offered in each language's own words and voice, a short flow in
that language that books a callback with an interpreter, and English where words or a voice are missing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ivr.models import Callback
from ivr.prompts import Prompts, load_prompts
from tests.conftest import MOBILE, MONDAY_MORNING, SATURDAY, at_london

LANGUAGES = ["pl", "ro", "ur", "pa", "ar", "ku"]


def stored(session) -> list[Callback]:
    session.commit()
    session.expire_all()
    return list(session.scalars(select(Callback)))


def voices_said(call) -> list[tuple[str, str]]:
    """(voice, words) of each Say in the menu the call is waiting at."""
    return [(say.get("voice"), "".join(say.itertext())) for say in call.waiting.iter("Say")]


def test_the_main_menu_offers_another_language_on_5_without_moving_the_other_keys(phone):
    heard = phone.ring().heard
    assert ("To speak to someone, press 3. To arrange a callback at a time that suits you, press 4. "
            "For help in another language, press 5. To hear this again, press 9.") in heard


def test_each_language_is_offered_in_its_own_words_and_voice(phone):
    call = phone.ring().press("5")
    said = voices_said(call)
    assert ("Polly.Ewa", "Po polsku, naciśnij 1.") in said
    assert ("Polly.Carmen", "Pentru limba română, apăsați 2.") in said
    assert ("Google.ur-IN-Standard-A", "اردو کے لیے 3 دبائیں۔") in said
    assert ("Google.pa-IN-Standard-A", "ਪੰਜਾਬੀ ਲਈ 4 ਦਬਾਓ।") in said
    assert ("Polly.Zeina", "للعربية، اضغط 5.") in said
    assert ("Polly.Amy", "For Kurdish, press 6.") in said  # no Twilio voice speaks Kurdish


@pytest.mark.parametrize(("key", "language"), list(enumerate(LANGUAGES, 1)))
def test_a_call_in_each_language_books_a_callback_with_an_interpreter(phone, session, key, language):
    call = phone.ring(MOBILE, at=SATURDAY).press("5").press(str(key))
    words = load_prompts()
    intro = words.spoken(language, "intro", name=words.other_language(language).name)[0]
    assert intro.text in call.heard
    assert "4 5 6" in call.heard or "four five six" in call.heard  # the number's last digits
    call.press("1")
    booked = words.spoken(language, "booked", name=words.other_language(language).name)[0]
    assert booked.text in call.heard and call.ended
    [callback] = stored(session)
    assert callback.interpreter_language == language and callback.region == "vcas"
    assert callback.phone_number == MOBILE and not callback.texts_ok and not callback.voicemail_ok
    assert callback.window_start == at_london(2026, 11, 30, 9, 0)  # the first window still open


def test_a_withheld_number_is_told_in_the_language_that_we_can_only_call_the_phone_they_use(phone, session):
    call = phone.ring(None).press("5").press("1")
    assert "Możemy oddzwonić tylko na telefon, z którego dzwonisz." in call.heard and call.ended
    assert stored(session) == []


def test_pressing_2_books_nothing(phone, session):
    call = phone.ring(MOBILE, at=MONDAY_MORNING).press("5").press("2").press("2")
    assert "Vă putem suna înapoi doar pe telefonul de pe care sunați." in call.heard and call.ended
    assert stored(session) == []


def test_a_wrong_key_is_asked_again_in_the_language(phone):
    call = phone.ring(MOBILE).press("5").press("5").press("7")
    assert "عذراً، اضغط 1 أو 2." in call.heard


def test_a_language_whose_words_are_missing_falls_back_to_english():
    words = Prompts({
        "voice": {"say_voice": "Polly.Amy", "language": "en-GB"},
        "say": {"language_intro": "We can call you back with an interpreter who speaks {{ name }}.",
                "language_booked": "Thank you. Goodbye."},
        "listen": {"repeat": {"hints": "", "words": {}}},
        "languages": [{"id": "pl", "name": "Polish", "voice": "Polly.Ewa", "language": "pl-PL",
                       "say": {"intro": "Możemy oddzwonić do Ciebie z tłumaczem."}}],
    })
    [intro] = words.spoken("pl", "intro", name="Polish")
    [booked] = words.spoken("pl", "booked", name="Polish")
    assert (intro.text, intro.voice) == ("Możemy oddzwonić do Ciebie z tłumaczem.", "Polly.Ewa")
    assert (booked.text, booked.voice, booked.language) == ("Thank you. Goodbye.", "Polly.Amy", "en-GB")


def test_every_translation_is_marked_for_review_and_has_every_prompt():
    words = load_prompts()
    assert [language.id for language in words.languages] == LANGUAGES
    for language in words.languages:
        assert language.review, language.id
        if language.voice:
            for prompt in ("offer", "intro", "confirm_number", "booked", "no_number", "again"):
                assert words.spoken(language.id, prompt, name=language.name, key="1", ending="123")[0].voice \
                    == language.voice, (language.id, prompt)


@pytest.mark.parametrize(("said", "heard"), [("Polish please", "Możemy oddzwonić"), ("Urdu", "ہم آپ کو"),
                                             ("I speak Kurdish", "interpreter who speaks Kurdish")])
def test_a_language_can_be_named_instead_of_pressing_its_key(phone, said, heard):
    assert heard in phone.ring(MOBILE).press("5").say_words(said).heard
