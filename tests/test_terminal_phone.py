"""`flask --app ivr call`: a whole call in the terminal, as Twilio would play it."""

from __future__ import annotations

from sqlalchemy import select

from ivr.models import Callback, Voicemail


def test_a_scripted_call_books_a_callback_out_of_hours_from_a_withheld_number(runner, session):
    result = runner.invoke(args=["call", "--from", "withheld", "--at", "2026-11-28 10:00",
                                 "--keys", "4,1,1,07911123456#,1,1"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "caller: presses 4" in lines
    assert "  VCAS: If you are in danger now, please hang up and call 9 9 9." in lines
    assert "For Monday the 30th of November, press 1." in result.output  # Saturday: Monday is the first day
    assert "You keyed oh seven nine one one, one two three, four five six." in result.output
    assert "We'll call you on Monday the 30th of November, in the morning" in result.output
    assert "so we won't text that number" in result.output  # keyed in: not the line they called from
    assert lines[-1] == "  (the line hangs up)"
    [callback] = session.scalars(select(Callback))
    assert callback.phone_number == "+447911123456" and not callback.texts_ok


def test_in_hours_the_call_is_put_through_and_the_team_may_not_answer(runner):
    result = runner.invoke(args=["call", "--at", "2026-11-30 10:00", "--keys", "3,Darlington", "--answer", "busy"])
    assert result.exit_code == 0, result.output
    assert "caller: says 'Darlington'" in result.output
    assert "(dialling +443000031818, ringing up to 25s)" in result.output
    assert "Sorry, nobody could take your call just now." in result.output
    assert result.output.splitlines()[-2:] == ["caller: hangs up", "  (call ended)"]  # the script ran out


def test_a_scripted_message_is_recorded(runner, session):
    result = runner.invoke(args=["call", "--at", "2026-11-28 10:00", "--keys", "3,3,1,25"])
    assert result.exit_code == 0, result.output
    assert "(beep)" in result.output and "We've got your message." in result.output
    [voicemail] = session.scalars(select(Voicemail))
    assert (voicemail.duration_seconds, voicemail.region) == (25, "vcas")


def test_without_a_script_the_caller_answers_at_the_keyboard(runner):
    result = runner.invoke(args=["call", "--at", "2026-11-28 10:00"], input="1\nq\n")
    assert result.exit_code == 0, result.output
    assert "your keys (or words" in result.output
    assert "85 percent" in result.output


def test_a_pretend_time_must_be_a_time(runner):
    result = runner.invoke(args=["call", "--at", "Saturday morning", "--keys", "1"])
    assert result.exit_code != 0 and "2026-11-28 10:00" in result.output
