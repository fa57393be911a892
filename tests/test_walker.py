"""The walker plays TwiML the way Twilio does, so scenario tests and the terminal phone can trust it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import pytest
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from ivr.walker import Call, TwiMLError, WalkerError, play_interactive

Page: TypeAlias = str | VoiceResponse | Callable[[dict[str, str]], str | VoiceResponse]


class FakeApp:
    """A transport answering each URL with fixed TwiML (or a function of the posted form)."""

    def __init__(self, pages: dict[str, Page]) -> None:
        self.pages = pages
        self.posts: list[tuple[str, dict[str, str]]] = []

    def __call__(self, url: str, params: dict[str, str]) -> str:
        self.posts.append((url, params))
        page = self.pages[url]
        return str(page(params) if callable(page) else page)

    @property
    def last(self) -> tuple[str, dict[str, str]]:
        return self.posts[-1]


def menu(action: str | None = "menu", *, before: str | None = None, **attributes: str) -> VoiceResponse:
    """A one-Gather menu followed by what the caller hears if they do nothing."""
    response = VoiceResponse()
    if before:
        response.say(before)
        response.pause(length=1)
    gather = Gather(action=action, **attributes)
    gather.say("Press 1 for information.")
    response.append(gather)
    response.say("Sorry, we didn't catch that.")
    return response


def says(text: str) -> VoiceResponse:
    """A document that says text and ends."""
    response = VoiceResponse()
    response.say(text)
    return response


def test_first_request_carries_twilio_parameters() -> None:
    app = FakeApp({"/voice/incoming": says("Hello.")})
    call = Call(app, from_number="+447911123456", to_number="+441632960000").start()
    url, params = app.posts[0]
    assert url == "/voice/incoming"
    assert params["From"] == params["Caller"] == "+447911123456"
    assert params["To"] == params["Called"] == "+441632960000"
    assert params["CallSid"] == call.call_sid and call.call_sid.startswith("CA") and len(call.call_sid) == 34
    assert params["AccountSid"].startswith("AC")
    assert (params["Direction"], params["CallStatus"], params["ApiVersion"]) == ("inbound", "ringing", "2010-04-01")


def test_withheld_number_arrives_as_anonymous() -> None:
    app = FakeApp({"/voice/incoming": says("Hello.")})
    Call(app, from_number=None).start()
    assert app.last[1]["From"] == "anonymous"


def test_caller_hears_say_inside_and_outside_gather() -> None:
    app = FakeApp({"/voice/incoming": menu(before="Welcome to the helpline.")})
    call = Call(app).start()
    assert call.heard == "Welcome to the helpline. Press 1 for information."
    assert not call.ended
    assert "VCAS: Welcome to the helpline." in call.transcript


@pytest.mark.parametrize(
    ("start_url", "action", "posted_to"),
    [
        ("/voice/incoming", "menu", "/voice/menu"),
        ("/voice/incoming", "/voice/main?step=2", "/voice/main?step=2"),
        ("/voice/incoming", None, "/voice/incoming"),
        ("https://ivr.example/voice/incoming", "menu", "https://ivr.example/voice/menu"),
    ],
)
def test_pressed_key_posts_digits_to_action_resolved_like_twilio(
    start_url: str, action: str | None, posted_to: str
) -> None:
    def page(form: dict[str, str]) -> VoiceResponse:
        return says("You pressed one.") if "Digits" in form else menu(action)

    app = FakeApp({start_url: page, posted_to: page})
    call = Call(app, start_url=start_url).start().press("1")
    assert app.last == (posted_to, app.last[1]) and app.last[1]["Digits"] == "1"
    assert app.last[1]["CallStatus"] == "in-progress"
    assert call.heard == "You pressed one."


@pytest.mark.parametrize(
    ("attributes", "keys", "digits"),
    [
        ({}, "07700900123#", "07700900123"),
        ({"num_digits": "1"}, "12", "1"),
        ({"finish_on_key": "*"}, "12#*9", "12#"),
        ({"finish_on_key": ""}, "12#", "12#"),
    ],
)
def test_digits_stop_at_finish_key_or_num_digits(attributes: dict[str, str], keys: str, digits: str) -> None:
    app = FakeApp({"/voice/incoming": menu(**attributes), "/voice/menu": says("Thanks.")})
    Call(app).start().press(keys)
    assert app.last[1]["Digits"] == digits


def test_silence_falls_through_to_the_next_verb() -> None:
    app = FakeApp({"/voice/incoming": menu()})
    call = Call(app).start().silence()
    assert call.heard == "Sorry, we didn't catch that."
    assert call.ended  # nothing after it: Twilio hangs up
    assert len(app.posts) == 1


def test_only_the_finish_key_counts_as_no_input() -> None:
    app = FakeApp({"/voice/incoming": menu()})
    assert Call(app).start().press("#").heard == "Sorry, we didn't catch that."


def test_action_on_empty_result_posts_without_digits() -> None:
    app = FakeApp({"/voice/incoming": menu(action_on_empty_result="true"), "/voice/menu": says("Again.")})
    Call(app).start().silence()
    assert app.last[0] == "/voice/menu" and "Digits" not in app.last[1]


def test_spoken_answer_posts_speech_result() -> None:
    app = FakeApp({"/voice/incoming": menu(input="dtmf speech"), "/voice/menu": says("Cleveland.")})
    call = Call(app).start().say_words("Stockton")
    assert app.last[1]["SpeechResult"] == "Stockton"
    assert 0 < float(app.last[1]["Confidence"]) <= 1
    assert call.heard == "Cleveland."


def test_words_at_a_keys_only_menu_are_not_heard() -> None:
    app = FakeApp({"/voice/incoming": menu(input="dtmf")})
    call = Call(app).start().say_words("Stockton")
    assert call.heard == "Sorry, we didn't catch that."


def test_redirect_is_followed() -> None:
    response = VoiceResponse()
    response.say("One moment.")
    response.redirect("main")
    app = FakeApp({"/voice/incoming": response, "/voice/main": menu()})
    call = Call(app).start()
    assert call.heard == "One moment. Press 1 for information."
    assert call.url == "/voice/main"


def dial_page(action: str | None) -> VoiceResponse:
    """Put the caller through to Cleveland's line, then say goodbye."""
    response = VoiceResponse()
    dial = Dial(action=action, timeout=20)
    dial.number("+443302234312")
    response.append(dial)
    response.say("Goodbye.")
    return response


@pytest.mark.parametrize("status", ["completed", "no-answer", "busy", "failed"])
def test_dial_outcome_is_posted_to_action(status: str) -> None:
    after = lambda form: says(f"Call {form['DialCallStatus']}.")  # noqa: E731
    app = FakeApp({"/voice/incoming": dial_page("after-dial"), "/voice/after-dial": after})
    call = Call(app, dial_outcome=status).start()
    assert call.dialled == ["+443302234312"]
    assert app.last[0] == "/voice/after-dial"
    assert "DialCallDuration" in app.last[1]
    assert call.heard == f"Call {status}."  # the rest of the dialling document is skipped
    assert call.ended


def test_dial_outcome_can_be_decided_per_number() -> None:
    app = FakeApp({"/voice/incoming": dial_page("after"), "/voice/after": says("Sorry.")})
    Call(app, dial_outcome=lambda numbers: "busy" if "+443302234312" in numbers else "completed").start()
    assert app.last[1]["DialCallStatus"] == "busy"


def test_dial_without_action_continues_with_the_next_verb() -> None:
    app = FakeApp({"/voice/incoming": dial_page(None)})
    call = Call(app, dial_outcome="no-answer").start()
    assert call.dialled == ["+443302234312"]
    assert call.heard == "Goodbye." and call.ended
    assert len(app.posts) == 1


def voicemail() -> VoiceResponse:
    """Ask for a message, then say what happens if none is left."""
    response = VoiceResponse()
    response.say("Leave a message after the tone.")
    response.record(action="saved", max_length=120, finish_on_key="#")
    response.say("We didn't get a message.")
    return response


def test_message_posts_the_recording_to_action() -> None:
    app = FakeApp({"/voice/incoming": voicemail(), "/voice/saved": says("Thank you, goodbye.")})
    call = Call(app).start()
    assert call.waiting is not None and call.waiting.tag == "Record"
    assert "(beep)" in call.transcript
    call.record(15, "#")
    url, form = app.last
    assert url == "/voice/saved"
    assert form["RecordingSid"].startswith("RE")
    assert form["RecordingUrl"].endswith(f"/Accounts/{call.account_sid}/Recordings/{form['RecordingSid']}")
    assert (form["RecordingDuration"], form["Digits"]) == ("15", "#")
    assert call.heard == "Thank you, goodbye."
    assert call.recorded == [form_subset(form)]


def form_subset(form: dict[str, str]) -> dict[str, str]:
    """The recording's own parameters out of a posted form."""
    return {k: form[k] for k in ("RecordingSid", "RecordingUrl", "RecordingDuration", "Digits")}


def test_message_is_cut_off_at_max_length() -> None:
    app = FakeApp({"/voice/incoming": voicemail(), "/voice/saved": says("Thanks.")})
    Call(app).start().record(500)
    assert app.last[1]["RecordingDuration"] == "120"


def test_silent_recording_goes_on_to_the_next_verb() -> None:
    app = FakeApp({"/voice/incoming": voicemail()})
    call = Call(app).start().silence()
    assert call.heard == "We didn't get a message." and call.recorded == []
    assert len(app.posts) == 1


def test_hanging_up_during_a_message_still_posts_it() -> None:
    app = FakeApp({"/voice/incoming": voicemail(), "/voice/saved": says("Never heard.")})
    call = Call(app).start().record(20, "hangup")
    assert app.last[1]["Digits"] == "hangup" and app.last[1]["CallStatus"] == "completed"
    assert call.ended and "VCAS: Never heard." not in call.transcript


def test_hangup_ends_the_call() -> None:
    response = VoiceResponse()
    response.say("Goodbye.")
    response.hangup()
    response.say("Never heard.")
    call = Call(FakeApp({"/voice/incoming": response})).start()
    assert call.ended and call.heard == "Goodbye."
    with pytest.raises(WalkerError, match="ended"):
        call.press("1")


def test_caller_hanging_up_at_a_menu_posts_nothing() -> None:
    app = FakeApp({"/voice/incoming": menu()})
    call = Call(app).start().hang_up()
    assert call.ended and len(app.posts) == 1


def test_input_of_the_wrong_kind_is_refused() -> None:
    call = Call(FakeApp({"/voice/incoming": voicemail()})).start()
    with pytest.raises(WalkerError, match="waiting at <Record>"):
        call.press("1")


def test_a_looping_app_is_stopped_with_the_transcript_tail() -> None:
    response = VoiceResponse()
    response.say("Round we go.")
    response.redirect("/voice/incoming")
    with pytest.raises(WalkerError, match="looping") as error:
        Call(FakeApp({"/voice/incoming": response}), max_requests=20).start()
    assert "Round we go." in str(error.value)


def test_an_error_page_is_not_taken_for_twiml() -> None:
    page = "<!doctype html><html><title>500 Internal Server Error</title><h1>Internal Server Error</h1>"
    with pytest.raises(TwiMLError, match="Internal Server Error"):
        Call(FakeApp({"/voice/incoming": page})).start()


def test_terminal_phone_prints_the_call_and_reads_keys() -> None:
    app = FakeApp({
        "/voice/incoming": menu(input="dtmf speech"),
        "/voice/menu": lambda form: dial_page("after") if form.get("Digits") == "3" else menu(),
        "/voice/after": lambda form: voicemail() if form["DialCallStatus"] == "busy" else says("Bye."),
        "/voice/saved": says("Message saved."),
    })
    replies = iter(["Stockton", "3", "busy", "12", ""])
    printed: list[str] = []
    call = Call(app)
    play_interactive(call, input_fn=lambda prompt: next(replies), print_fn=printed.append)
    assert "  VCAS: Press 1 for information." in printed
    assert "  VCAS: Message saved." in printed
    assert app.posts[1][1]["SpeechResult"] == "Stockton"
    assert call.recorded[0]["RecordingDuration"] == "12" and call.ended
