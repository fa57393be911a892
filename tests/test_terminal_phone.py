"""`flask --app ivr call`: a whole call in the terminal, as Twilio would play it."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import select, update

from ivr.models import Callback, Voicemail
from tests.services import operator_env


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


def test_the_transcript_holds_the_call_and_none_of_the_apps_log_lines(database_url, tmp_path):
    env = operator_env({"DATABASE_URL": database_url, "SPOOL_DIR": str(tmp_path / "spool"), "LOG_FORMAT": "text"})
    command = [sys.executable, "-m", "flask", "--app", "ivr", "call", "--at", "2026-11-28 10:00", "--keys", "3,3,1,20"]
    played = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert played.returncode == 0, played.stderr
    assert "We've got your message." in played.stdout
    assert played.stderr == ""  # "call CA... from ***456", "voicemail 1 kept ..." stay out of the terminal
    shown = subprocess.run([*command, "--show-log"], env=env, cwd=tmp_path, capture_output=True, text=True,
                           timeout=120)
    assert "INFO ivr.voice.routes: voicemail 2 kept for vcas" in shown.stderr


def test_a_script_can_speak_at_a_recording_then_hang_up(runner, session):
    result = runner.invoke(args=["call", "--at", "2026-11-28 10:00", "--keys", "3,3,1,30h"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "VCAS: Please leave your message after the beep. You can speak for up to 3 minutes." in result.output
    assert lines[-2:] == ["caller: speaks for 30s, then hangs up", "  (call ended)"]
    [voicemail] = session.scalars(select(Voicemail))
    assert voicemail.duration_seconds == 30


def test_a_recording_wants_a_length_in_seconds(runner):
    result = runner.invoke(args=["call", "--at", "2026-11-28 10:00", "--keys", "3,3,1,hello"])
    assert result.exit_code != 0 and "give its length in seconds, e.g. 30 (then #) or 30h" in result.output


ANSWERS = ["4", "-", "1", "one", "07911 123456#", "yes", "2"]  # keys, silence, words, a number keyed with spaces


def test_keys_and_words_mean_the_same_at_the_keyboard_as_in_a_script(runner, session):
    scripted = runner.invoke(args=["call", "--from", "withheld", "--at", "2026-11-28 10:00",
                                   "--keys", ",".join(ANSWERS)])
    session.execute(update(Callback).values(status="cancelled"))  # so the second call books afresh
    session.commit()
    typed = runner.invoke(args=["call", "--from", "withheld", "--at", "2026-11-28 10:00"],
                          input="\n".join(ANSWERS) + "\n")
    assert scripted.exit_code == 0 and typed.exit_code == 0, scripted.output + typed.output
    # (At the keyboard each line follows the prompt that asked for the answer.)
    said = [[line[line.index("VCAS:"):] for line in result.output.splitlines() if "VCAS:" in line]
            for result in (scripted, typed)]
    assert said[0] == said[1]
    assert "VCAS: You keyed oh seven nine one one, one two three, four five six. If that's right, press 1. " \
           "To key it again, press 2." in said[0]
    assert said[0][-4:] == ["VCAS: Thank you. We'll call you on Monday the 30th of November, in the morning, "
                            "between 9am and 12 noon.", "VCAS: We'll call the number ending four five six.",
                            "VCAS: We only send text reminders to the phone you're calling from, so we won't "
                            "text that number.", "VCAS: Goodbye."]
    assert len(session.scalars(select(Callback)).all()) == 2
